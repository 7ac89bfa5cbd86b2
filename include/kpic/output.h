/* output.h — writing result files whole or not at all, whatever the target is.
 *
 * Owns: the one write every command uses for `-o FILE`, `fmt --write` and
 * `--rejects FILE`. What happens depends on what the path names when it is opened
 * (docs/cli.md "Output targets"):
 *
 *  - a regular file, or a path that does not exist yet: the bytes go to a temporary file
 *    `NAME.kpic-tmp-XXXXXX` in the same directory, flushed to disk, given the old file's
 *    mode and owner, then renamed over the target; a reader never sees half a file and a
 *    failed run leaves the old file as it was. A file with other hard links, or that is
 *    read-only, is refused rather than replaced.
 *  - a symbolic link: followed to its target (even a dangling one), which is then
 *    written as above; the link itself stays.
 *  - `-`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`: the open
 *    descriptor, written directly (so a log opened for appending is appended to).
 *  - a character device or a FIFO: opened and written directly (no replace is possible).
 *  - anything else (a directory, a block device, a socket): refused.
 *
 * While a temporary file exists, SIGINT, SIGTERM, SIGHUP and SIGPIPE remove it before
 * the process dies of the signal; only SIGKILL (or a crash) can leave one behind.
 */
#ifndef KPIC_OUTPUT_H
#define KPIC_OUTPUT_H

#include <stddef.h>

/* The name a temporary file ends with, before the six random characters: a leftover
 * (after SIGKILL) is recognised by it. */
#define OUTPUT_TEMP_MARK ".kpic-tmp-"

/* Writes the LEN bytes at DATA to the target PATH, as described above. Returns 0 on
 * success; on failure -1 with *why set to the reason (a static string, valid until the
 * next call), and nothing changed at PATH. */
int output_write_file(const char *path, const char *data, size_t len, const char **why);

/* Removes the temporary file of a write in progress, if any. For a process that must
 * die at once (out of memory): async-signal-safe. */
void output_abandon(void);

#endif
