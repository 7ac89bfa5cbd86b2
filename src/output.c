/* output.c — atomic file writes (see output.h). */
#include "kpic/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpic/arena.h"

int output_write_file(const char *path, const char *data, size_t len, const char **why)
{
    size_t n = strlen(path);
    char *tmp = xmalloc(n + 16);
    snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        *why = strerror(errno);
        free(tmp);
        return -1;
    }
    /* keep the permissions of the file being replaced; a new file gets 0644 less umask */
    struct stat st;
    mode_t mode = 0644;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode &= ~mask;
    }
    int err = 0;
    for (size_t done = 0; done < len && !err;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0) {
            if (errno != EINTR) err = errno;
        } else {
            done += (size_t)w;
        }
    }
    if (!err && fchmod(fd, mode) != 0) err = errno;
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        unlink(tmp);
        *why = strerror(err);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
