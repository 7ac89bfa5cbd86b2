/* cli_cache.c — `kpic cache info|clear [--cache-dir DIR]`: what the column cache holds,
 * and emptying it (docs/cli.md, "The column cache"). */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kpic/colcache.h"

static void print_time(const char *label, int64_t t)
{
    char text[64];
    time_t when = (time_t)t;
    struct tm tm;
    if (gmtime_r(&when, &tm) && strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm))
        printf("%s%s\n", label, text);
}

int cli_cache(int argc, char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "info") != 0 && strcmp(argv[0], "clear") != 0))
        return cli_usage("cache takes info or clear", NULL);
    bool clear = !strcmp(argv[0], "clear");
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cache-dir") != 0) return cli_usage("cache: unknown argument '%s'", argv[i]);
        if (dir) return cli_usage("--cache-dir given twice; give it once", NULL);
        dir = cli_option_value(argc, argv, &i);
        if (!dir) return EXIT_USAGE;
    }
    if (!dir) dir = cli_default_cache_dir();
    if (!dir) {
        fputs("kpic: no cache directory: neither XDG_CACHE_HOME nor HOME is set; give --cache-dir DIR\n",
              stderr);
        return EXIT_USAGE;
    }
    colc_dir_stats st;
    if (clear) {
        if (!colc_dir_clear(dir, &st)) {
            fprintf(stderr, "kpic: cannot read the cache directory %s\n", dir);
            return EXIT_USAGE;
        }
        printf("removed %llu file%s, %llu bytes, from %s\n", (unsigned long long)st.files,
               st.files == 1 ? "" : "s", (unsigned long long)st.bytes, dir);
        return EXIT_OK;
    }
    if (!colc_dir_info(dir, &st)) {
        fprintf(stderr, "kpic: cannot read the cache directory %s\n", dir);
        return EXIT_USAGE;
    }
    printf("cache directory: %s\n", dir);
    printf("cache files: %llu, %llu bytes (kept under %llu bytes, least recently used removed first)\n",
           (unsigned long long)st.files, (unsigned long long)st.bytes,
           (unsigned long long)COLC_DIR_MAX_BYTES);
    if (st.files) {
        print_time("least recently used: ", st.oldest);
        print_time("most recently used: ", st.newest);
    }
    if (st.temporary_files)
        printf("temporary files of interrupted runs: %llu, %llu bytes (kpic cache clear removes them)\n",
               (unsigned long long)st.temporary_files, (unsigned long long)st.temporary_bytes);
    return EXIT_OK;
}
