/* json.h — writing JSON text: string escaping and number formatting shared by every
 * machine-readable output (diagnostics, eval, score). */
#ifndef KPIC_JSON_H
#define KPIC_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "kpic/decimal.h"

/* Writes s as a JSON string literal, quotes included. s is UTF-8; control characters are
 * escaped, everything else is written as is. */
void json_write_string(FILE *out, const char *s);

/* Writes a double the way docs/json.md asks: integers without a fraction, other values
 * with the shortest %.17g-or-fewer digits that round-trip; non-finite values as null. */
void json_write_double(FILE *out, double v);

/* Writes an exact decimal as a JSON number rounded to PLACES decimals: all of them when
 * KEEP_ZEROS (money: "1200.00"), else the digits it needs ("0.25", "150"). */
void json_write_decimal(FILE *out, dec_t v, unsigned places, bool keep_zeros);

#endif
