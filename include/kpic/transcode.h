/* transcode.h — data files in encodings other than UTF-8 (prefix tc_).
 *
 * Owns: whether an encoding name is one the C library's iconv knows, turning a whole
 * file's bytes from a declared encoding into UTF-8 (with the UTF-16 byte-order rules
 * below), locating an invalid byte sequence on the file's own line, and recognising
 * what a file that is not in its declared encoding looks like (UTF-8, UTF-16,
 * GB18030), for a message that says what to declare.  It knows nothing of CSV.
 *
 * Line numbers survive the conversion: the encodings exports come in write the line
 * breaks LF and CR as characters of their own (in GBK, GB18030, BIG5 and the other
 * ASCII-compatible encodings the bytes 0x0A and 0x0D are never part of a longer
 * character; in UTF-16 they are the code units 0x000A and 0x000D), so line N of the
 * UTF-8 text is line N of the file.  (An encoding that writes line breaks otherwise,
 * such as EBCDIC, is converted all the same; its lines are counted in the text.)
 *
 * UTF-16.  `UTF-16` reads the byte order from a byte-order mark (FF FE little-endian,
 * FE FF big-endian) and, without one, takes little-endian: the byte order of the
 * "Unicode text" exports of Excel and of Windows tools, which is where UTF-16 files
 * come from (docs/decisions.md).  `UTF-16LE` and `UTF-16BE` fix the order; a mark
 * that agrees with it is skipped.  A mark that contradicts the declared order is
 * an error, and so is a file declared UTF-16 with no mark and no NUL byte in its first
 * MiB: UTF-16 writes a NUL beside every ASCII character (each comma and line break),
 * while any pair of bytes is some UTF-16 character, so a GBK or UTF-8 file declared
 * UTF-16 would otherwise convert into nonsense without an error.
 */
#ifndef KPIC_TRANSCODE_H
#define KPIC_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_MESSAGE_MAX 512

typedef struct tc_error {
    uint64_t line; /* 1-based line of the bad bytes; 0: the whole file */
    /* e.g. bytes 0xE9 0x87 at byte 1234 are not valid GBK; the file looks like UTF-8: … */
    char message[TC_MESSAGE_MAX];
} tc_error;

/* Whether NAME names UTF-8 (UTF-8, utf8, in any case): the encoding read as is. */
bool tc_is_utf8(const char *name);

/* Whether iconv can convert from NAME to UTF-8 on this system. */
bool tc_encoding_known(const char *name);

/* Converts the LEN bytes at IN, written in ENCODING, to UTF-8: a malloc'd buffer in
 * *OUT of *OUT_LEN bytes (the caller frees it).  False with *ERR filled when a byte
 * sequence is not valid in ENCODING, the file ends inside a character, or memory
 * runs out; *OUT is then NULL. */
bool tc_to_utf8(const char *encoding, const unsigned char *in, size_t len, unsigned char **out,
                size_t *out_len, tc_error *err);

/* What the LEN bytes at S look like, judged from all of them: "UTF-8" (valid UTF-8
 * with some non-ASCII), "UTF-16" (a UTF-16 byte-order mark, or NUL bytes in every
 * other position), "GB18030" (valid as GB18030, which includes GBK), or NULL when
 * none of these fits.  Only for suggestions in messages: kpic never reads a file
 * in an encoding it guessed. */
const char *tc_looks_like(const unsigned char *s, size_t len);

#endif /* KPIC_TRANSCODE_H */
