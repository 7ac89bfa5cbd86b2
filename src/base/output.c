/* output.c — writing a result to whatever its path names (see output.h). */
#include "kpic/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpic/arena.h"

/* How many links a chain may hold before it counts as a loop (the kernel's own limit). */
enum { LINK_CHAIN_MAX = 40 };

static char why_buffer[512];

/* The temporary file being written, for the signal handler and output_abandon. Set and
 * cleared only while the cleanup signals are blocked, so a handler sees a whole pointer
 * to a file that exists. */
static char *volatile live_temp;

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
enum { CLEANUP_SIGNAL_COUNT = sizeof cleanup_signals / sizeof cleanup_signals[0] };

void output_abandon(void)
{
    char *temp = live_temp;
    if (temp) unlink(temp);
    live_temp = NULL;
}

/* Removes the temporary file, then dies of SIG as if it had not been caught, so the
 * parent sees the signal in the exit status. */
static void die_of_signal(int sig)
{
    output_abandon();
    signal(sig, SIG_DFL);
    raise(sig); /* blocked while the handler runs; delivered when it returns */
}

/* The cleanup handlers in place for the life of one temporary file; signals that were
 * ignored (nohup) stay ignored. */
typedef struct signal_guard {
    struct sigaction saved[CLEANUP_SIGNAL_COUNT];
    bool installed[CLEANUP_SIGNAL_COUNT];
    sigset_t set;
} signal_guard;

static void guard_install(signal_guard *g)
{
    sigemptyset(&g->set);
    for (int i = 0; i < CLEANUP_SIGNAL_COUNT; i++) sigaddset(&g->set, cleanup_signals[i]);
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = die_of_signal;
    act.sa_mask = g->set;
    for (int i = 0; i < CLEANUP_SIGNAL_COUNT; i++) {
        g->installed[i] = false;
        if (sigaction(cleanup_signals[i], NULL, &g->saved[i]) != 0) continue;
        if (g->saved[i].sa_handler == SIG_IGN) continue;
        g->installed[i] = sigaction(cleanup_signals[i], &act, NULL) == 0;
    }
}

static void guard_remove(signal_guard *g)
{
    for (int i = 0; i < CLEANUP_SIGNAL_COUNT; i++)
        if (g->installed[i]) sigaction(cleanup_signals[i], &g->saved[i], NULL);
}

/* Blocks the cleanup signals in the writing thread. The write happens after the
 * reader threads are joined, so this thread is the only one a signal can reach. */
static void guard_block(signal_guard *g, sigset_t *old)
{
    pthread_sigmask(SIG_BLOCK, &g->set, old);
}

static void guard_unblock(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static const char *say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why_buffer, sizeof why_buffer, fmt, ap);
    va_end(ap);
    return why_buffer;
}

static int fail(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

/* Writes all LEN bytes to FD; 0 or an errno. */
static int write_all(int fd, const char *data, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0) {
            if (errno != EINTR) return errno;
        } else {
            done += (size_t)w;
        }
    }
    return 0;
}

/* The descriptor a path names when it is one of the process's own open descriptors
 * (`-`, /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N), else -1. Such a path is
 * written where the descriptor points, as the shell would, not replaced. */
static int own_descriptor(const char *path)
{
    if (!strcmp(path, "-") || !strcmp(path, "/dev/stdout")) return STDOUT_FILENO;
    if (!strcmp(path, "/dev/stderr")) return STDERR_FILENO;
    const char *digits = NULL;
    if (!strncmp(path, "/dev/fd/", 8)) digits = path + 8;
    else if (!strncmp(path, "/proc/self/fd/", 14)) digits = path + 14;
    if (!digits || !*digits || (digits[0] == '0' && digits[1])) return -1;
    long fd = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9' || fd > INT_MAX / 10) return -1;
        fd = fd * 10 + (*p - '0');
    }
    return fcntl((int)fd, F_GETFD) == -1 ? -1 : (int)fd;
}

static int stream_to_descriptor(int fd, const char *data, size_t len, const char **why)
{
    /* what the program already printed there comes first */
    if (fd == STDOUT_FILENO && fflush(stdout) != 0) return fail(why, strerror(errno));
    int err = write_all(fd, data, len);
    return err ? fail(why, strerror(err)) : 0;
}

/* The end of PATH's chain of symbolic links (malloc'd): the file to write, which may not
 * exist yet (a dangling link creates its target, as the shell's `>` does). NULL with
 * *why set when a link cannot be read or the chain loops. */
static char *follow_links(const char *path, const char **why)
{
    char *current = xstrdup(path);
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(current, &st) != 0 || !S_ISLNK(st.st_mode)) return current;
        if (hops == LINK_CHAIN_MAX) {
            free(current);
            *why = strerror(ELOOP);
            return NULL;
        }
        size_t size = (size_t)st.st_size + 1 > PATH_MAX ? (size_t)st.st_size + 1 : PATH_MAX;
        char *target = xmalloc(size + 1);
        ssize_t n = readlink(current, target, size);
        if (n < 0) {
            *why = strerror(errno);
            free(target);
            free(current);
            return NULL;
        }
        target[n] = '\0';
        if (target[0] != '/') {
            /* relative to the directory holding the link */
            const char *slash = strrchr(current, '/');
            size_t dir_len = slash ? (size_t)(slash - current) + 1 : 0;
            char *joined = xmalloc(dir_len + (size_t)n + 1);
            memcpy(joined, current, dir_len);
            memcpy(joined + dir_len, target, (size_t)n + 1);
            free(target);
            target = joined;
        }
        free(current);
        current = target;
    }
}

/* The template of the temporary file for TARGET: same directory, the name cut (at a
 * UTF-8 character boundary) so that name and mark fit NAME_MAX bytes whatever the
 * target's name. */
static char *temp_template(const char *target)
{
    const char *slash = strrchr(target, '/');
    size_t dir_len = slash ? (size_t)(slash - target) + 1 : 0;
    const char *name = target + dir_len;
    size_t name_len = strlen(name);
    size_t room = NAME_MAX - (sizeof OUTPUT_TEMP_MARK - 1) - 6;
    if (name_len > room) {
        name_len = room;
        while (name_len > 0 && ((unsigned char)name[name_len] & 0xC0) == 0x80) name_len--;
    }
    char *t = xmalloc(dir_len + name_len + sizeof OUTPUT_TEMP_MARK + 6);
    memcpy(t, target, dir_len + name_len);
    strcpy(t + dir_len + name_len, OUTPUT_TEMP_MARK "XXXXXX");
    return t;
}

/* Makes the directory entry of a rename durable; a failure here loses nothing written. */
static void sync_directory(const char *target)
{
    const char *slash = strrchr(target, '/');
    char *dir = slash ? xstrdup(target) : xstrdup(".");
    if (slash) dir[slash == target ? 1 : slash - target] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Replaces the regular file TARGET (OLD its status, NULL when it does not exist) by a
 * temporary file renamed over it. */
static int replace_regular(const char *target, const struct stat *old, const char *data, size_t len,
                           const char **why)
{
    mode_t mode = 0644;
    if (old) {
        mode = old->st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode &= ~mask;
    }
    char *temp = temp_template(target); /* allocated before the file exists: see arena.c */
    signal_guard guard;
    guard_install(&guard);
    sigset_t unblocked;
    guard_block(&guard, &unblocked);
    int fd = mkstemp(temp);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0) live_temp = temp;
    guard_unblock(&unblocked);

    if (!err) err = write_all(fd, data, len);
    if (!err && old && fchown(fd, old->st_uid, old->st_gid) != 0) {
        /* someone else's file: keep at least its group when we may, else it becomes ours */
        if (errno != EPERM) err = errno;
        else if (fchown(fd, (uid_t)-1, old->st_gid) != 0 && errno != EPERM) err = errno;
    }
    if (!err && fchmod(fd, mode) != 0) err = errno; /* after chown, which clears set-id bits */
    if (!err && fsync(fd) != 0) err = errno;
    if (fd >= 0 && close(fd) != 0 && !err) err = errno;

    guard_block(&guard, &unblocked);
    if (!err && rename(temp, target) != 0) err = errno;
    if (err && fd >= 0) unlink(temp);
    live_temp = NULL;
    guard_unblock(&unblocked);
    guard_remove(&guard);
    free(temp);
    if (err) return fail(why, strerror(err));
    sync_directory(target);
    return 0;
}

/* A character device or FIFO: written as it is; there is nothing to replace. */
static int stream_to_path(const char *target, const char *data, size_t len, const char **why)
{
    int fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return fail(why, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        /* replaced between the look and the open: write nothing rather than guess */
        close(fd);
        return fail(why, "the file changed while it was being opened; run again");
    }
    int err = write_all(fd, data, len);
    if (close(fd) != 0 && !err) err = errno;
    return err ? fail(why, strerror(err)) : 0;
}

int output_write_file(const char *path, const char *data, size_t len, const char **why)
{
    int fd = own_descriptor(path);
    if (fd >= 0) return stream_to_descriptor(fd, data, len, why);

    char *target = follow_links(path, why);
    if (!target) return -1;
    struct stat st;
    int status;
    if (lstat(target, &st) != 0) {
        status = errno == ENOENT ? replace_regular(target, NULL, data, len, why) : fail(why, strerror(errno));
    } else if (S_ISREG(st.st_mode)) {
        if (access(target, W_OK) != 0 && errno != ENOENT) status = fail(why, strerror(errno));
        else if (!(st.st_mode & 0222))
            status = fail(why, say("the file is read-only (mode %04o); make it writable (chmod u+w) or write "
                                   "to another file",
                                   (unsigned)(st.st_mode & 07777)));
        else if (st.st_nlink > 1)
            status = fail(why, say("the file has %ju hard links, which replacing it would break; write to "
                                   "another file, or remove the other links first",
                                   (uintmax_t)st.st_nlink));
        else status = replace_regular(target, &st, data, len, why);
    } else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        status = stream_to_path(target, data, len, why);
    } else {
        status = fail(why, say("it is %s; write to a file, a character device, a FIFO or '-'",
                               S_ISDIR(st.st_mode)    ? "a directory"
                               : S_ISBLK(st.st_mode)  ? "a block device"
                               : S_ISSOCK(st.st_mode) ? "a socket"
                                                      : "neither a file nor a device"));
    }
    free(target);
    return status;
}
