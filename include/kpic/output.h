/* output.h — writing result files whole or not at all.
 *
 * Owns: the atomic file write every command uses for `-o FILE`, `--write` and
 * `--rejects FILE`: the bytes go to a temporary file in the same directory, which is
 * flushed to disk and then renamed over the target, so a reader never sees half a file
 * and a failed run leaves the old file as it was.
 */
#ifndef KPIC_OUTPUT_H
#define KPIC_OUTPUT_H

#include <stddef.h>

/* Returns 0 on success; on failure -1 with *why set to the OS reason (static string),
 * and nothing changed at path. */
int output_write_file(const char *path, const char *data, size_t len, const char **why);

#endif
