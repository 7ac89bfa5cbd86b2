/* libFuzzer target: any bytes as the text of `--period` go through the period and range
 * parser for every grain; a range that parses is expanded, and every period it holds
 * formats to a label that parses back to itself. A rejected text must come with a
 * message that fits its buffer. Nothing may crash, hang, leak or trip a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/period.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    const char *text = (const char *)data;
    for (int g = GRAIN_DAY; g <= GRAIN_YEAR; g++) {
        period_range range;
        char msg[PERIOD_MESSAGE_SIZE];
        if (period_parse_range(text, size, (ast_grain)g, &range, msg, sizeof msg) != PERIOD_OK) {
            if (!memchr(msg, '\0', sizeof msg) || !msg[0]) abort();
            continue;
        }
        period_t *all = calloc(range.count, sizeof *all);
        if (!all) abort();
        period_range_expand(&range, all);
        for (size_t i = 0; i < range.count; i++) {
            char label[PERIOD_LABEL_SIZE];
            period_format(all[i], label, sizeof label);
            period_t back;
            if (period_parse(label, strlen(label), (ast_grain)g, &back, msg, sizeof msg) != PERIOD_OK ||
                back.start != all[i].start || back.end != all[i].end)
                abort();
        }
        free(all);
    }
    return 0;
}
