/* textdiff.c — the unified diff of two texts, line by line (textdiff.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/textdiff.h"
#include "kpic/arena.h"

typedef struct diff_line {
    const char *p;
    size_t len; /* with its '\n'; the last line may lack one */
} diff_line;

typedef enum diff_op { DIFF_EQUAL, DIFF_DELETE, DIFF_INSERT } diff_op;

enum {
    DIFF_CONTEXT = 3,
    /* Myers keeps one row of its table per edit; beyond this many edits between two
     * texts (never for a spec and its formatted self) the diff just replaces the middle. */
    DIFF_MAX_EDITS = 1000
};

static diff_line *split_lines(const char *text, size_t len, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') n++;
    if (len > 0 && text[len - 1] != '\n') n++;
    diff_line *lines = xcalloc(n + 1, sizeof *lines);
    size_t k = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            lines[k].p = text + start;
            lines[k].len = i + 1 - start;
            k++;
            start = i + 1;
        }
    }
    if (start < len) {
        lines[k].p = text + start;
        lines[k].len = len - start;
    }
    *count = n;
    return lines;
}

static bool line_eq(const diff_line *a, const diff_line *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* The shortest edit script from a[0..n) to b[0..m) (Myers' O((n+m)·D) greedy algorithm),
 * written into ops (room for n + m) as a sequence of equal/delete/insert steps. Returns
 * the number of steps. */
static size_t myers(const diff_line *a, size_t n, const diff_line *b, size_t m, diff_op *ops)
{
    size_t max = n + m;
    if (max == 0) return 0;
    size_t limit = max < DIFF_MAX_EDITS ? max : DIFF_MAX_EDITS;
    ptrdiff_t off = (ptrdiff_t)max + 1;
    ptrdiff_t *v = xcalloc(2 * max + 3, sizeof *v);
    ptrdiff_t **trace = xcalloc(limit + 1, sizeof *trace); /* v after each step d */
    ptrdiff_t found = -1;
    for (size_t d = 0; d <= limit && found < 0; d++) {
        ptrdiff_t dd = (ptrdiff_t)d;
        for (ptrdiff_t k = -dd; k <= dd; k += 2) {
            ptrdiff_t x;
            if (k == -dd || (k != dd && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
            else x = v[off + k - 1] + 1;
            ptrdiff_t y = x - k;
            while (x < (ptrdiff_t)n && y < (ptrdiff_t)m && line_eq(&a[x], &b[y])) {
                x++;
                y++;
            }
            v[off + k] = x;
            if (x >= (ptrdiff_t)n && y >= (ptrdiff_t)m) found = dd;
        }
        trace[d] = xmalloc((2 * d + 1) * sizeof **trace);
        memcpy(trace[d], v + off - dd, (2 * d + 1) * sizeof *v);
    }
    size_t count = 0;
    if (found < 0) {
        /* too different to be worth a minimal script: delete all, insert all */
        for (size_t i = 0; i < n; i++) ops[count++] = DIFF_DELETE;
        for (size_t i = 0; i < m; i++) ops[count++] = DIFF_INSERT;
    } else {
        /* walk back from (n, m), collecting steps in reverse */
        ptrdiff_t x = (ptrdiff_t)n, y = (ptrdiff_t)m;
        for (ptrdiff_t d = found; d >= 0; d--) {
            ptrdiff_t k = x - y, px = 0, py = 0;
            if (d > 0) {
                const ptrdiff_t *pv = trace[d - 1] + (d - 1); /* index by k */
                ptrdiff_t pk = (k == -d || (k != d && pv[k - 1] < pv[k + 1])) ? k + 1 : k - 1;
                px = pv[pk];
                py = px - pk;
            }
            while (x > px && y > py) {
                ops[count++] = DIFF_EQUAL;
                x--;
                y--;
            }
            if (d > 0) {
                ops[count++] = x == px ? DIFF_INSERT : DIFF_DELETE;
                x = px;
                y = py;
            }
        }
        for (size_t i = 0; i < count / 2; i++) {
            diff_op t = ops[i];
            ops[i] = ops[count - 1 - i];
            ops[count - 1 - i] = t;
        }
    }
    for (size_t d = 0; d <= limit; d++) free(trace[d]);
    free(trace);
    free(v);
    return count;
}

/* `@@ -l,s +l,s @@` as GNU diff writes it: `,1` left out, and an empty range numbered by
 * the line before it. */
static void print_range(FILE *out, size_t start, size_t count)
{
    if (count == 1) fprintf(out, "%zu", start + 1);
    else fprintf(out, "%zu,%zu", count == 0 ? start : start + 1, count);
}

static void print_diff_line(FILE *out, char mark, const diff_line *l)
{
    fputc(mark, out);
    fwrite(l->p, 1, l->len, out);
    if (l->len == 0 || l->p[l->len - 1] != '\n') fputs("\n\\ No newline at end of file\n", out);
}

void tdiff_print_unified(FILE *out, const char *old_name, const char *new_name, const char *old_text,
                         size_t old_len, const char *new_text, size_t new_len)
{
    size_t n, m;
    diff_line *a = split_lines(old_text, old_len, &n);
    diff_line *b = split_lines(new_text, new_len, &m);
    /* the common head and tail need no search */
    size_t head = 0;
    while (head < n && head < m && line_eq(&a[head], &b[head])) head++;
    size_t tail = 0;
    while (tail < n - head && tail < m - head && line_eq(&a[n - 1 - tail], &b[m - 1 - tail])) tail++;
    diff_op *ops = xcalloc(n + m + 1, sizeof *ops);
    size_t count = 0;
    for (size_t i = 0; i < head; i++) ops[count++] = DIFF_EQUAL;
    count += myers(a + head, n - head - tail, b + head, m - head - tail, ops + count);
    for (size_t i = 0; i < tail; i++) ops[count++] = DIFF_EQUAL;

    /* positions in both texts before each step */
    size_t *pos_a = xcalloc(count + 1, sizeof *pos_a);
    size_t *pos_b = xcalloc(count + 1, sizeof *pos_b);
    for (size_t i = 0; i < count; i++) {
        pos_a[i + 1] = pos_a[i] + (ops[i] != DIFF_INSERT);
        pos_b[i + 1] = pos_b[i] + (ops[i] != DIFF_DELETE);
    }
    bool header = false;
    size_t i = 0;
    while (i < count) {
        if (ops[i] == DIFF_EQUAL) {
            i++;
            continue;
        }
        /* a hunk: this change, and every later one less than 2 × context lines away */
        size_t first = i >= DIFF_CONTEXT ? i - DIFF_CONTEXT : 0;
        size_t last = i; /* one past the last change */
        for (size_t k = i; k < count; k++) {
            if (ops[k] != DIFF_EQUAL) last = k + 1;
            else if (k - last >= 2 * DIFF_CONTEXT) break;
        }
        size_t end = last + DIFF_CONTEXT < count ? last + DIFF_CONTEXT : count;
        if (!header) {
            fprintf(out, "--- %s\n+++ %s\n", old_name, new_name);
            header = true;
        }
        fputs("@@ -", out);
        print_range(out, pos_a[first], pos_a[end] - pos_a[first]);
        fputs(" +", out);
        print_range(out, pos_b[first], pos_b[end] - pos_b[first]);
        fputs(" @@\n", out);
        for (size_t k = first; k < end; k++) {
            if (ops[k] == DIFF_EQUAL) print_diff_line(out, ' ', &a[pos_a[k]]);
            else if (ops[k] == DIFF_DELETE) print_diff_line(out, '-', &a[pos_a[k]]);
            else print_diff_line(out, '+', &b[pos_b[k]]);
        }
        i = end;
    }
    free(pos_a);
    free(pos_b);
    free(ops);
    free(a);
    free(b);
}
