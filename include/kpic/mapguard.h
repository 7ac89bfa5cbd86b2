/* mapguard.h — reading a file mapping that may shrink under the reader (prefix mapg_).
 *
 * Owns: the process's SIGBUS handler and the guarded regions of code that read a
 * mapping.  A file truncated while it is mapped makes the next access past its new end
 * raise SIGBUS, which kills the process; inside mapg_run, such a fault instead ends the
 * guarded function where it stood and mapg_run returns false.  The CSV reader
 * (csv_reader.c) guards its reads of a data file, the column cache (colcache.c) its
 * copies out of a cache file, with the same handler.
 *
 * The handler is installed by mapg_ready, and installed again when other code has
 * replaced it since; a fault outside every guard, or at an
 * address outside the guarded range, goes to the handler there was before, or kills
 * the process as it would have.  Guards nest, one chain per thread: the innermost guard
 * whose range holds the faulting address wins.
 */
#ifndef KPIC_MAPGUARD_H
#define KPIC_MAPGUARD_H

#include <stdbool.h>
#include <stddef.h>

/* Makes sure the SIGBUS handler is kpic's (one system call when it is); false when
 * it could not be installed, and then nothing may be mapped that could shrink.  Call
 * before mapping a file that may shrink. */
bool mapg_ready(void);

/* Runs FN(ARG), which may read the mapping [LO, HI), under a guard: true when FN
 * returned, false when a read of [LO, HI) faulted, which unwinds FN where it stood.
 * FN must not hold a lock or be inside an allocation or stdio call while it reads the
 * mapping; what it leaves half done is the caller's to drop.  Call mapg_ready first. */
bool mapg_run(const void *lo, const void *hi, void (*fn)(void *), void *arg);

/* Copies LEN bytes at SRC, inside the mapping [LO, HI), to DST under a guard: false
 * when the mapping faulted (DST then holds some of them). */
bool mapg_copy(void *dst, const void *src, size_t len, const void *lo, const void *hi);

#endif /* KPIC_MAPGUARD_H */
