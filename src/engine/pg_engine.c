/* pg_engine.c — `kpic sql`'s statement run on PostgreSQL through libpq (pg_engine.h).
 */
#define _GNU_SOURCE /* memmem */
#include "kpic/pg_engine.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDACTED "[password]"

bool pge_is_uri(const char *text)
{
    return !strncmp(text, "postgresql://", 13) || !strncmp(text, "postgres://", 11);
}

/* Where the part after the scheme's "//" starts. */
static const char *after_scheme(const char *uri)
{
    const char *s = strstr(uri, "://");
    return s ? s + 3 : uri;
}

/* The user part of URI, [*START, *END) before its '@', as libpq finds it (up to the
 * first '@' or '/'); false when there is none. */
static bool user_part(const char *uri, const char **start, const char **end)
{
    const char *p = after_scheme(uri);
    const char *q = p;
    while (*q && *q != '@' && *q != '/') q++;
    if (*q != '@') return false;
    *start = p;
    *end = q;
    return true;
}

/* Dropping a `password` parameter joins what was around it: "?a&password=x&b" shows as
 * "?a&b", "?password=x&sslmode=…" as "?sslmode=…". A user password holding the '&' or
 * '?' that such a join puts before the next parameter can be spelled by it, so every
 * place SHOWN spells it is masked with '*': the shown form keeps its length and never
 * holds the password. A password without '&' or '?' cannot be made by a join (every new
 * run of text crosses the separator written there), so it is left alone (a short one,
 * "p", would otherwise mask every p of the host name). */
static void mask_joined_password(char *shown, const char *password, size_t len)
{
    if (!len || (!memchr(password, '&', len) && !memchr(password, '?', len))) return;
    char *hit;
    /* each pass masks at least one '&' or '?', so the loop ends */
    while ((hit = memmem(shown, strlen(shown), password, len))) memset(hit, '*', len);
}

char *pge_display(const char *uri)
{
    size_t n = strlen(uri);
    char *out = xmalloc(n + 1);
    size_t m = 0;
    const char *user, *at;
    const char *p = uri;
    const char *password = NULL;
    size_t password_len = 0;
    if (user_part(uri, &user, &at)) {
        const char *colon = memchr(user, ':', (size_t)(at - user));
        if (colon) {
            password = colon + 1;
            password_len = (size_t)(at - password);
        }
        size_t keep = (size_t)((colon ? colon : at) - uri);
        memcpy(out, uri, keep);
        m = keep;
        p = at;
    }
    /* then the rest, without a `password` parameter */
    const char *query = strchr(p, '?');
    size_t head = query ? (size_t)(query - p) : strlen(p);
    memcpy(out + m, p, head);
    m += head;
    if (query) {
        bool first = true;
        for (const char *q = query + 1; *q;) {
            const char *amp = strchr(q, '&');
            size_t len = amp ? (size_t)(amp - q) : strlen(q);
            bool secret = len >= 9 && !strncmp(q, "password=", 9);
            secret |= len == 8 && !strncmp(q, "password", 8);
            if (!secret) {
                out[m++] = first ? '?' : '&';
                memcpy(out + m, q, len);
                m += len;
                first = false;
            }
            q += len + (amp ? 1 : 0);
            if (!amp) break;
        }
    }
    out[m] = '\0';
    if (password) mask_joined_password(out, password, password_len);
    return out;
}

/* ---- keeping the password out of messages ------------------------------------------------- */

typedef struct secrets {
    char *items[4];
    size_t count;
} secrets;

static void add_secret(secrets *s, const char *text, size_t len)
{
    if (!text || !len || s->count == sizeof s->items / sizeof s->items[0]) return;
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    s->items[s->count++] = copy;
}

/* The password in every spelling a message could quote: as decoded by libpq, as written
 * in the URI's user part and parameter, and PGPASSWORD. */
static void find_secrets(const char *uri, secrets *s)
{
    memset(s, 0, sizeof *s);
    char *why = NULL;
    PQconninfoOption *options = PQconninfoParse(uri, &why);
    for (PQconninfoOption *o = options; o && o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val) add_secret(s, o->val, strlen(o->val));
    PQconninfoFree(options);
    PQfreemem(why);
    const char *user, *at;
    if (user_part(uri, &user, &at)) {
        const char *colon = memchr(user, ':', (size_t)(at - user));
        if (colon) add_secret(s, colon + 1, (size_t)(at - colon - 1));
    }
    for (const char *q = strstr(uri, "password="); q; q = strstr(q + 1, "password=")) {
        const char *v = q + 9;
        add_secret(s, v, strcspn(v, "&"));
    }
    const char *env = getenv("PGPASSWORD");
    if (env) add_secret(s, env, strlen(env));
}

static void free_secrets(secrets *s)
{
    for (size_t i = 0; i < s->count; i++) free(s->items[i]);
}

/* TEXT (may be NULL) without a trailing newline and with every secret replaced; malloc'd. */
static char *scrubbed(const char *text, const secrets *s)
{
    if (!text) return NULL;
    char *out = xstrdup(text);
    for (size_t i = 0; i < s->count; i++) {
        const char *secret = s->items[i];
        size_t len = strlen(secret);
        /* the search goes on after each replacement, which may itself hold the secret
         * ("pass" in "[password]") */
        for (char *hit = strstr(out, secret); hit;) {
            size_t before = (size_t)(hit - out);
            char *next = xmalloc(strlen(out) - len + sizeof REDACTED);
            memcpy(next, out, before);
            strcpy(next + before, REDACTED);
            strcat(next, hit + len);
            free(out);
            out = next;
            hit = strstr(out + before + strlen(REDACTED), secret);
        }
    }
    /* libpq breaks its messages into indented lines; a diagnostic is one line */
    size_t n = 0;
    for (const char *p = out; *p; p++) {
        char c = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;
        if (c == ' ' && (n == 0 || out[n - 1] == ' ')) continue;
        out[n++] = c;
    }
    while (n && out[n - 1] == ' ') n--;
    out[n] = '\0';
    return out;
}

/* ---- the query --------------------------------------------------------------------------- */

/* The byte offset of the 1-based character POSITION of QUERY (UTF-8), as the server
 * counts; -1 when there is none. */
static long byte_offset(const char *query, const char *position)
{
    if (!position || !*position) return -1;
    char *end;
    long chars = strtol(position, &end, 10);
    if (*end || chars < 1) return -1;
    long seen = 0;
    for (const unsigned char *p = (const unsigned char *)query; *p; p++) {
        if ((*p & 0xC0) == 0x80) continue;
        if (++seen == chars) return (long)((const char *)p - query);
    }
    return -1;
}

bool pge_run(const char *uri, const char *query, pge_row_fn fn, void *ctx, char **server, pge_error *err)
{
    memset(err, 0, sizeof *err);
    err->position = -1;
    *server = NULL;
    secrets s;
    find_secrets(uri, &s);
    /* the URI first, expanded; the client encoding after it wins: kpic reads UTF-8 */
    const char *const keywords[] = { "dbname", "client_encoding", "fallback_application_name", NULL };
    const char *const values[] = { uri, "UTF8", "kpic", NULL };
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    bool ok = false;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        err->connection = true;
        err->message = scrubbed(conn ? PQerrorMessage(conn) : "out of memory", &s);
        goto done;
    }
    const char *version = PQparameterStatus(conn, "server_version");
    size_t size = strlen("PostgreSQL ") + (version ? strlen(version) : 1) + 1;
    *server = xmalloc(size);
    snprintf(*server, size, "PostgreSQL %s", version ? version : "?");
    /* PQexecParams takes one statement only: nothing can follow the query */
    PGresult *res = PQexecParams(conn, query, 0, NULL, NULL, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK && PQnfields(res) == 4) {
        int rows = PQntuples(res);
        for (int i = 0; i < rows; i++) {
            const char *cells[4];
            for (int c = 0; c < 4; c++) cells[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
            fn(ctx, (unsigned)i + 1, cells);
        }
        ok = true;
    } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        err->message =
            xstrdup("the query did not return the four columns period, indicator, staff_id, value");
    } else {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        err->connection = !state || PQstatus(conn) != CONNECTION_OK;
        err->lost = err->connection;
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        err->message = scrubbed(primary ? primary : PQerrorMessage(conn), &s);
        if (res) {
            err->detail = scrubbed(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), &s);
            err->hint = scrubbed(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT), &s);
            err->position = byte_offset(query, PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
        }
        if (state) snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
    }
    PQclear(res);
done:
    PQfinish(conn);
    free_secrets(&s);
    return ok;
}

void pge_error_free(pge_error *err)
{
    free(err->message);
    free(err->detail);
    free(err->hint);
    memset(err, 0, sizeof *err);
}

/* ---- errors at the spec ------------------------------------------------------------------------ */

static const char *decl_kind(const ast_decl *d)
{
    switch (d->kind) {
    case DECL_INDICATOR: return "indicator";
    case DECL_SET: return "set";
    case DECL_STAFF: return "the roster";
    default: return "source";
    }
}

/* The table a source (or the roster, "staff") is read from: --table's, or its name. */
static const char *table_of(const sql_options *o, const ast_decl *d)
{
    const char *name = d->kind == DECL_STAFF ? "staff" : d->name;
    for (size_t i = 0; i < o->table_count; i++)
        if (!strcmp(o->tables[i].source, name)) return o->tables[i].table;
    return name;
}

void pge_report(const pge_error *err, const char *where, const char *query, const sql_options *o,
                diag_sink *diags)
{
    const sql_region *at = NULL;
    for (size_t i = 0; err->position >= 0 && o->regions && i < o->regions->count && !at; i++) {
        const sql_region *r = &o->regions->items[i];
        if ((size_t)err->position >= r->start && (size_t)err->position < r->end) at = r;
    }
    /* a table or column that is not there is the source's (and --table's) business,
     * whichever of its CTEs met it first */
    bool missing = !strcmp(err->sqlstate, "42P01") || !strcmp(err->sqlstate, "42703");
    const ast_decl *shown = at ? (missing && at->source ? at->source : at->decl) : NULL;
    diagnostic *d;
    if (shown) d = diag_report(diags, DIAG_ERROR, shown->name_span, "engine", "PostgreSQL: %s", err->message);
    else d = diag_report_data(diags, DIAG_ERROR, where, 0, 0, "engine", "PostgreSQL: %s", err->message);
    if (err->detail) diag_hint(diags, d, "%s", err->detail);
    if (err->hint) diag_hint(diags, d, "PostgreSQL: %s", err->hint);
    if (at) {
        const ast_decl *decl = at->decl;
        /* a CTE's comment line names the indicators it serves, after its last ": " */
        const char *comment = strstr(query + at->start, "-- ");
        const char *served = NULL;
        int served_len = 0;
        if (comment && (size_t)(comment - query) < at->end) {
            int len = (int)strcspn(comment, "\n");
            for (int k = len - 2; k >= 0 && !served; k--)
                if (comment[k] == ':' && comment[k + 1] == ' ') served = comment + k + 2;
            if (served) served_len = len - (int)(served - comment);
        }
        if (decl->kind == DECL_INDICATOR)
            diag_hint(diags, d, "the error is in the SELECT of indicator '%s'", decl->name);
        else if (decl->kind == DECL_STAFF && !missing)
            diag_hint(diags, d, "the error is where the roster is read, from the table %s",
                      table_of(o, decl));
        else if (served)
            diag_hint(diags, d, "the error is in the SQL of %s '%s', which serves %.*s", decl_kind(decl),
                      decl->name, served_len, served);
        if (missing && at->source) {
            const ast_decl *src = at->source;
            const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
            diag_hint(diags, d,
                      "%s%s%s is read from the table %s, with the columns the spec declares; "
                      "--table %s=SCHEMA.TABLE names the table that holds them",
                      src->kind == DECL_STAFF ? "the roster" : "source '",
                      src->kind == DECL_STAFF ? "" : name, src->kind == DECL_STAFF ? "" : "'",
                      table_of(o, src), name);
        }
    }
    /* the line of the query the position is on, for whoever reads the query itself */
    if (err->position >= 0) {
        const char *line = query + err->position;
        while (line > query && line[-1] != '\n') line--;
        unsigned number = 1;
        for (const char *p = query; p < line; p++) number += *p == '\n';
        int len = (int)strcspn(line, "\n");
        diag_hint(diags, d, "line %u of the query (kpic sql --dialect postgres writes it): %.*s%s", number,
                  len > 200 ? 200 : len, line, len > 200 ? "…" : "");
    }
}
