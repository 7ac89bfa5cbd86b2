/* Unit tests for writing result files whole or not at all (output.c): what each kind of
 * target gets (a new file, a replaced file keeping its mode, a symbolic link followed,
 * a FIFO written directly), what is refused and why (a read-only file, a file with other
 * hard links, a directory), and that no temporary file is ever left beside the target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpic/output.h"

typedef struct sandbox {
    char dir[64];
    char path[160];
} sandbox;

static void sandbox_open(sandbox *b)
{
    snprintf(b->dir, sizeof b->dir, "/tmp/kpic_test_output_XXXXXX");
    assert_non_null(mkdtemp(b->dir));
}

static const char *in(sandbox *b, const char *name)
{
    snprintf(b->path, sizeof b->path, "%s/%s", b->dir, name);
    return b->path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* How many names the sandbox holds: a temporary file left behind shows as one more. */
static int count_entries(sandbox *b)
{
    DIR *d = opendir(b->dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void sandbox_close(sandbox *b)
{
    DIR *d = opendir(b->dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[400];
        snprintf(p, sizeof p, "%s/%s", b->dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) rmdir(p);
        else unlink(p);
    }
    closedir(d);
    assert_int_equal(rmdir(b->dir), 0);
}

static void test_new_and_replaced_files(void **state)
{
    (void)state;
    sandbox b;
    sandbox_open(&b);
    const char *why = NULL;
    assert_int_equal(output_write_file(in(&b, "new.csv"), "a,b\n1,2\n", 8, &why), 0);
    assert_string_equal(slurp(in(&b, "new.csv")), "a,b\n1,2\n");
    /* replaced whole, keeping the old file's mode */
    spit(in(&b, "old.csv"), "old contents that are longer than the new ones\n", 0640);
    assert_int_equal(output_write_file(in(&b, "old.csv"), "new\n", 4, &why), 0);
    assert_string_equal(slurp(in(&b, "old.csv")), "new\n");
    struct stat st;
    assert_int_equal(stat(in(&b, "old.csv"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    /* an empty result is a file of zero bytes, not no file */
    assert_int_equal(output_write_file(in(&b, "empty.csv"), "", 0, &why), 0);
    assert_int_equal(stat(in(&b, "empty.csv"), &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(count_entries(&b), 3);
    sandbox_close(&b);
}

static void test_refusals_keep_the_old_file(void **state)
{
    (void)state;
    sandbox b;
    sandbox_open(&b);
    const char *why = NULL;
    /* read-only: refused, untouched, and the reason says what to do */
    spit(in(&b, "ro.csv"), "keep me\n", 0444);
    assert_int_not_equal(output_write_file(in(&b, "ro.csv"), "x\n", 2, &why), 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "read-only"));
    assert_string_equal(slurp(in(&b, "ro.csv")), "keep me\n");
    /* other hard links: replacing would split them, so refused */
    spit(in(&b, "linked.csv"), "shared\n", 0644);
    char other[200];
    snprintf(other, sizeof other, "%s/other-name.csv", b.dir);
    assert_int_equal(link(in(&b, "linked.csv"), other), 0);
    why = NULL;
    assert_int_not_equal(output_write_file(in(&b, "linked.csv"), "x\n", 2, &why), 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "hard links"));
    assert_string_equal(slurp(other), "shared\n");
    /* a directory */
    assert_int_equal(mkdir(in(&b, "sub"), 0755), 0);
    why = NULL;
    assert_int_not_equal(output_write_file(in(&b, "sub"), "x\n", 2, &why), 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "a directory"));
    /* a folder that does not exist */
    why = NULL;
    assert_int_not_equal(output_write_file(in(&b, "missing/out.csv"), "x\n", 2, &why), 0);
    assert_non_null(why);
    /* nothing was left behind by any refusal: ro.csv, linked.csv, other-name.csv, sub */
    assert_int_equal(count_entries(&b), 4);
    chmod(in(&b, "ro.csv"), 0644);
    sandbox_close(&b);
}

static void test_symbolic_links_are_followed(void **state)
{
    (void)state;
    sandbox b;
    sandbox_open(&b);
    const char *why = NULL;
    char target[200], dangling[200];
    spit(in(&b, "real.csv"), "before\n", 0644);
    snprintf(target, sizeof target, "%s/real.csv", b.dir);
    assert_int_equal(symlink(target, in(&b, "link.csv")), 0);
    assert_int_equal(output_write_file(in(&b, "link.csv"), "after\n", 6, &why), 0);
    struct stat st;
    assert_int_equal(lstat(in(&b, "link.csv"), &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* the link itself stays a link */
    assert_string_equal(slurp(target), "after\n");
    /* a dangling link: its target is created */
    snprintf(dangling, sizeof dangling, "%s/not-yet.csv", b.dir);
    assert_int_equal(symlink(dangling, in(&b, "dangling.csv")), 0);
    assert_int_equal(output_write_file(in(&b, "dangling.csv"), "made\n", 5, &why), 0);
    assert_string_equal(slurp(dangling), "made\n");
    assert_int_equal(count_entries(&b), 4);
    sandbox_close(&b);
}

typedef struct fifo_reader {
    const char *path;
    char got[64];
} fifo_reader;

static void *read_fifo(void *arg)
{
    fifo_reader *r = arg;
    int fd = open(r->path, O_RDONLY);
    if (fd < 0) return NULL;
    size_t n = 0;
    for (ssize_t k; (k = read(fd, r->got + n, sizeof r->got - 1 - n)) > 0;) n += (size_t)k;
    r->got[n] = '\0';
    close(fd);
    return NULL;
}

static void test_fifo_is_written_directly(void **state)
{
    (void)state;
    sandbox b;
    sandbox_open(&b);
    assert_int_equal(mkfifo(in(&b, "pipe"), 0600), 0);
    fifo_reader r = { in(&b, "pipe"), { 0 } };
    char path[200];
    snprintf(path, sizeof path, "%s", r.path);
    r.path = path;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_fifo, &r), 0);
    const char *why = NULL;
    assert_int_equal(output_write_file(path, "through\n", 8, &why), 0);
    pthread_join(t, NULL);
    assert_string_equal(r.got, "through\n");
    assert_int_equal(count_entries(&b), 1); /* no temporary beside a FIFO */
    sandbox_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_replaced_files),
        cmocka_unit_test(test_refusals_keep_the_old_file),
        cmocka_unit_test(test_symbolic_links_are_followed),
        cmocka_unit_test(test_fifo_is_written_directly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
