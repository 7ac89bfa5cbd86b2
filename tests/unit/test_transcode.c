/* test_transcode.c -- data files in other encodings (transcode.h), and the CSV
 * reader opening them (csvr_open_encoded): the same cells and line numbers as the
 * UTF-8 file, and the SHA-256 of the bytes on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "kpic/cellfmt.h"
#include "kpic/csv_reader.h"
#include "kpic/transcode.h"

#define S(lit) (const unsigned char *)(lit), sizeof(lit) - 1

/* "金额,是\n12.50,否\n" in GBK, UTF-8 and UTF-16LE */
static const char GBK[] = "\xBD\xF0\xB6\xEE,\xCA\xC7\n12.50,\xB7\xF1\n";
static const char UTF8[] = "金额,是\n12.50,否\n";

static char *convert(const char *encoding, const unsigned char *in, size_t len, tc_error *err)
{
    unsigned char *out;
    size_t out_len;
    if (!tc_to_utf8(encoding, in, len, &out, &out_len, err)) return NULL;
    char *text = malloc(out_len + 1);
    memcpy(text, out, out_len);
    text[out_len] = '\0';
    free(out);
    return text;
}

static void test_gbk_converts(void **state)
{
    (void)state;
    tc_error err;
    char *text = convert("GBK", S(GBK), &err);
    assert_non_null(text);
    assert_string_equal(text, UTF8);
    free(text);
    text = convert("gb18030", S(GBK), &err);
    assert_non_null(text);
    assert_string_equal(text, UTF8);
    free(text);
}

static void test_utf16_byte_orders(void **state)
{
    (void)state;
    tc_error err;
    /* "a,是\n" */
    static const char le_bom[] = "\xFF\xFE"
                                 "a\0,\0\x2F\x66\n\0";
    static const char be_bom[] = "\xFE\xFF"
                                 "\0a\0,\x66\x2F\0\n";
    static const char le_bare[] = "a\0,\0\x2F\x66\n\0";
    char *text = convert("UTF-16", S(le_bom), &err);
    assert_string_equal(text, "a,是\n");
    free(text);
    text = convert("UTF-16", S(be_bom), &err);
    assert_string_equal(text, "a,是\n");
    free(text);
    /* no mark: little-endian, as Excel writes it */
    text = convert("UTF-16", S(le_bare), &err);
    assert_string_equal(text, "a,是\n");
    free(text);
    text = convert("UTF-16LE", S(le_bom), &err);
    assert_string_equal(text, "a,是\n");
    free(text);
    assert_null(convert("UTF-16LE", S(be_bom), &err));
    assert_int_equal(err.line, 1);
    assert_string_equal(err.message, "the file starts with a big-endian byte-order mark but is "
                                     "declared UTF-16LE; declare encoding \"UTF-16\" to take the "
                                     "order from the mark");
}

static void test_invalid_bytes_are_located_and_explained(void **state)
{
    (void)state;
    tc_error err;
    /* UTF-8 text declared GBK: 额 in UTF-8 is E9 A2 9D; E9 A2 is a GBK pair, 9D 0A is
     * not, on line 3 */
    static const char utf8_as_gbk[] = "a,b\n1,2\nx,\xE9\xA2\x9D\n";
    assert_null(convert("GBK", S(utf8_as_gbk), &err));
    assert_int_equal(err.line, 3);
    assert_string_equal(err.message, "bytes 0x9D 0x0A at byte offset 12 are not valid GBK; the file "
                                     "looks like UTF-8: remove the encoding line, UTF-8 is the "
                                     "default");
    /* GBK text declared UTF-16BE would convert (any pair is a code unit), so take a
     * GB18030 file declared BIG5 */
    static const char gbk_as_big5[] = "id\n\xB7\xF1\xD5\xC5\x81\x30\x81\x30\n";
    assert_null(convert("BIG5", S(gbk_as_big5), &err));
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "are not valid BIG5; the file looks like GBK/GB18030: "
                                        "declare encoding \"GB18030\" in the source block"));
    /* a GBK file declared UTF-16 would convert pair by pair into nonsense */
    assert_null(convert("UTF-16", S(GBK), &err));
    assert_int_equal(err.line, 1);
    assert_string_equal(err.message, "the file is declared UTF-16 but has no byte-order mark "
                                     "and no NUL byte, which UTF-16 writes beside every comma "
                                     "and line break; the file looks like GBK/GB18030: declare "
                                     "encoding \"GB18030\" in the source block");
    assert_null(convert("UTF-16LE", S(UTF8), &err));
    assert_non_null(strstr(err.message, "the file looks like UTF-8: remove the encoding line"));
    /* a file cut inside a character */
    static const char cut[] = "a\n\xBD";
    assert_null(convert("GBK", S(cut), &err));
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "the file ends inside a character"));
}

static void test_looks_like(void **state)
{
    (void)state;
    assert_string_equal(tc_looks_like(S("a,b\n金额\n")), "UTF-8");
    assert_string_equal(tc_looks_like(S(GBK)), "GB18030");
    assert_string_equal(tc_looks_like(S("\xFF\xFE"
                                        "a\0")),
                        "UTF-16");
    assert_string_equal(tc_looks_like(S("a\0,\0b\0\n\0")), "UTF-16");
    assert_null(tc_looks_like(S("\xFF\xFF\xFF")));
    assert_true(tc_is_utf8("utf8"));
    assert_true(tc_is_utf8("UTF-8"));
    assert_false(tc_is_utf8("GBK"));
    assert_true(tc_encoding_known("GBK"));
    assert_true(tc_encoding_known("UTF-16"));
    assert_false(tc_encoding_known("GKB"));
    assert_false(tc_encoding_known(""));
}

/* ---- the CSV reader on encoded files ---------------------------------------------- */

static char *write_temp(const void *data, size_t len)
{
    char *path = strdup("/tmp/kpic-transcode-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

typedef struct seen {
    char text[256];
    size_t len;
} seen;

static bool on_row(void *ctx, const csvr_row *row)
{
    seen *s = ctx;
    char dec[DEC_FORMAT_SIZE], day[DATE_FORMAT_SIZE];
    dec_format(row->cells[1].as.dec, 2, dec, sizeof dec);
    date_format(row->cells[2].as.date, day, sizeof day);
    s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "%zu:%.*s|%s|%s|%d\n",
                               (size_t)csvr_row_line(row), (int)row->cells[0].as.text.len,
                               row->cells[0].as.text.ptr, dec, day, row->cells[3].as.b);
    return true;
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char digest[32];
    EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
}

/* Reads the file at PATH (ENCODING) with columns 客户 text, 金额 money "￥#,##0.00",
 * 日期 date "YYYY/MM/DD", 退款 bool 是/否, into S. */
static csvr_status read_export(const char *path, const char *encoding, seen *s, csvr_error *err)
{
    static const csvr_column cols[] = {
        { "客户", CSVR_TEXT }, { "金额", CSVR_MONEY }, { "日期", CSVR_DATE }, { "退款", CSVR_BOOL }
    };
    csvr_reader *r = csvr_open_encoded(path, encoding, cols, 4, 0, err);
    if (r == NULL) return CSVR_ERROR;
    cfmt money, day, yes_no;
    char why[128];
    /* GBK has no ¥ (U+00A5): exports in it write the full-width ￥ (U+FFE5) */
    assert_true(cfmt_compile_number("￥#,##0.00", &money, why, sizeof why));
    assert_true(cfmt_compile_date("YYYY/MM/DD", &day, why, sizeof why));
    assert_true(cfmt_compile_bool("是", "否", &yes_no, why, sizeof why));
    assert_true(csvr_set_format(r, 1, &money, err));
    assert_true(csvr_set_format(r, 2, &day, err));
    assert_true(csvr_set_format(r, 3, &yes_no, err));
    assert_false(csvr_set_format(r, 0, &money, err)); /* a text column takes none */
    memset(s, 0, sizeof *s);
    csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = s };
    csvr_status st = csvr_read(r, &h, err);
    char hex[65];
    if (st == CSVR_OK) {
        assert_true(csvr_sha256_hex(r, hex));
        FILE *f = fopen(path, "rb");
        char raw[1024];
        size_t n = fread(raw, 1, sizeof raw, f);
        fclose(f);
        char want[65];
        sha256_hex(raw, n, want);
        assert_string_equal(hex, want); /* the bytes on disk, not the UTF-8 text */
    }
    csvr_close(r);
    return st;
}

static void test_reader_gbk_and_utf16_read_like_utf8(void **state)
{
    (void)state;
    static const char utf8[] = "客户,金额,日期,退款\n"
                               "张三,\"￥1,200.00\",2025/05/03,否\n"
                               "\"李\n四\",￥0.50,2025/05/31,是\n";
    const char *expected = "2:张三|1200.00|2025-05-03|0\n3:李\n四|0.50|2025-05-31|1\n";
    seen s;
    csvr_error err;
    char *path = write_temp(utf8, sizeof utf8 - 1);
    assert_int_equal(read_export(path, NULL, &s, &err), CSVR_OK);
    assert_string_equal(s.text, expected);
    unlink(path);
    free(path);

    static const char *const encodings[] = { "GBK", "GB18030", "UTF-16", "UTF-16BE" };
    static const char *const iconv_names[] = { "GBK", "GB18030", "UTF-16LE", "UTF-16BE" };
    for (int e = 0; e < 4; e++) {
        unsigned char *encoded;
        size_t encoded_len;
        tc_error terr;
        /* UTF-8 to the encoding, with the same module the other way round */
        FILE *pipe_in;
        char cmd[256];
        char *src = write_temp(utf8, sizeof utf8 - 1);
        snprintf(cmd, sizeof cmd, "iconv -f UTF-8 -t %s %s", iconv_names[e], src);
        pipe_in = popen(cmd, "r");
        unsigned char buf[1024];
        size_t n = 0;
        if (e == 2) { /* a byte-order mark, as Excel writes */
            buf[0] = 0xFF;
            buf[1] = 0xFE;
            n = 2;
        }
        n += fread(buf + n, 1, sizeof buf - n, pipe_in);
        pclose(pipe_in);
        unlink(src);
        free(src);
        assert_true(tc_to_utf8(encodings[e], buf, n, &encoded, &encoded_len, &terr));
        assert_memory_equal(encoded, utf8, sizeof utf8 - 1);
        free(encoded);
        path = write_temp(buf, n);
        assert_int_equal(read_export(path, encodings[e], &s, &err), CSVR_OK);
        assert_string_equal(s.text, expected);
        unlink(path);
        free(path);
    }
}

static void test_reader_bad_cells_show_the_format(void **state)
{
    (void)state;
    /* GBK: 客户,金额,日期,退款 / 张三,￥1.00,2025/05/03,是 / 张三,"1,200.00",2025/05/03,是 */
    static const char gbk[] = "\xBF\xCD\xBB\xA7,\xBD\xF0\xB6\xEE,\xC8\xD5\xC6\xDA,\xCD\xCB\xBF\xEE\n"
                              "\xD5\xC5\xC8\xFD,\xA3\xA4\x31.00,2025/05/03,\xCA\xC7\n"
                              "\xD5\xC5\xC8\xFD,\"1,200.00\",2025/05/03,\xCA\xC7\n";
    seen s;
    csvr_error err;
    char *path = write_temp(gbk, sizeof gbk - 1);
    assert_int_equal(read_export(path, "GBK", &s, &err), CSVR_ERROR);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.field, 2);
    assert_string_equal(err.message, "bad money value \"1,200.00\" in column '金额': does not "
                                     "match the format \"￥#,##0.00\"");
    unlink(path);
    free(path);

    static const char bad[] = "\xBF\xCD\xBB\xA7,\xBD\xF0\xB6\xEE,\xC8\xD5\xC6\xDA,\xCD\xCB\xBF\xEE\n"
                              "a,\xA3\xA4\x31,2025/05/03,\xFF\n";
    path = write_temp(bad, sizeof bad - 1);
    assert_int_equal(read_export(path, "GBK", &s, &err), CSVR_ERROR);
    assert_int_equal(err.kind, CSVR_ERR_ENCODING);
    assert_int_equal(err.line, 2);
    unlink(path);
    free(path);
}

static void test_utf16_undeclared_is_explained(void **state)
{
    (void)state;
    static const char le[] = "\xFF\xFE"
                             "a\0,\0b\0\n\0"
                             "1\0,\0"
                             "2\0\n\0";
    static const csvr_column cols[] = { { "a", CSVR_TEXT } };
    csvr_error err;
    assert_null(csvr_open_memory("x.csv", le, sizeof le - 1, cols, 1, 0, &err));
    assert_string_equal(err.message, "the header has NUL bytes: the file looks like UTF-16; "
                                     "declare encoding \"UTF-16\" in the source block, or "
                                     "convert the file to UTF-8 (iconv -f UTF-16 -t UTF-8)");
}

static void test_gbk_text_undeclared_is_explained(void **state)
{
    (void)state;
    static const char data[] = "name\n\xD5\xC5\xC8\xFD\n";
    static const csvr_column cols[] = { { "name", CSVR_TEXT } };
    csvr_error err;
    csvr_reader *r = csvr_open_memory("x.csv", data, sizeof data - 1, cols, 1, 0, &err);
    assert_non_null(r);
    seen s = { 0 };
    csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_ERROR);
    assert_string_equal(err.message, "bad text value \"\\xD5\\xC5\\xC8\\xFD\" in column 'name': "
                                     "invalid UTF-8; the bytes read as GBK/GB18030: declare "
                                     "encoding \"GB18030\" in the source block");
    csvr_close(r);
}

static void test_gbk_header_undeclared_is_explained(void **state)
{
    (void)state;
    /* 订单号,客服 in GBK, opened as UTF-8 asking for 订单号 */
    static const char data[] = "\xB6\xA9\xB5\xA5\xBA\xC5,\xBF\xCD\xB7\xFE\n1,s1\n";
    static const csvr_column cols[] = { { "订单号", CSVR_TEXT } };
    csvr_error err;
    assert_null(csvr_open_memory("x.csv", data, sizeof data - 1, cols, 1, 0, &err));
    assert_non_null(strstr(err.message, "not found in the header (the header is not UTF-8: the "
                                        "file looks like GBK/GB18030; declare encoding "
                                        "\"GB18030\" in the source block)"));
    /* a UTF-8 header that lacks the column gets no such hint */
    static const char utf8[] = "单号,客服\n1,s1\n";
    assert_null(csvr_open_memory("x.csv", utf8, sizeof utf8 - 1, cols, 1, 0, &err));
    assert_null(strstr(err.message, "not UTF-8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbk_converts),
        cmocka_unit_test(test_utf16_byte_orders),
        cmocka_unit_test(test_invalid_bytes_are_located_and_explained),
        cmocka_unit_test(test_looks_like),
        cmocka_unit_test(test_reader_gbk_and_utf16_read_like_utf8),
        cmocka_unit_test(test_reader_bad_cells_show_the_format),
        cmocka_unit_test(test_utf16_undeclared_is_explained),
        cmocka_unit_test(test_gbk_text_undeclared_is_explained),
        cmocka_unit_test(test_gbk_header_undeclared_is_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
