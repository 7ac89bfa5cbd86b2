/* libFuzzer target: any bytes as the value of `--engine` go through pge_is_uri and
 * pge_display, which takes the password out of a URI before it is shown. The shown
 * form is never longer than the URI, and the password of a URI's user part
 * (user:PASSWORD@, as libpq finds it) is not in it. Nothing may
 * crash, hang, leak or trip a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/pg_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *uri = malloc(size + 1);
    if (!uri) abort();
    memcpy(uri, data, size);
    uri[size] = '\0';
    (void)pge_is_uri(uri);
    char *shown = pge_display(uri);
    if (strlen(shown) > strlen(uri)) abort();
    const char *p = strstr(uri, "://");
    p = p ? p + 3 : uri;
    size_t user = strcspn(p, "@/");
    const char *colon = memchr(p, ':', user);
    if (p[user] == '@' && colon) {
        /* the URI without ":PASSWORD": when the password is not found there, it must
         * not be found in what is shown either */
        size_t before = (size_t)(colon - uri), len = (size_t)(p + user - colon) - 1;
        char *without = malloc(size + 1), *secret = malloc(len + 1);
        if (!without || !secret) abort();
        memcpy(without, uri, before);
        strcpy(without + before, p + user);
        memcpy(secret, colon + 1, len);
        secret[len] = '\0';
        if (len && !strstr(without, secret) && strstr(shown, secret)) abort();
        free(without);
        free(secret);
    }
    free(shown);
    free(uri);
    return 0;
}
