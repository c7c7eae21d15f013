/* fuzz_dbwire.c - libFuzzer target for the database request decoder
 * (dbwire.c): the bytes a jailed program writes in a database frame.
 * Properties: no crash, leak or overread on any input; an accepted request
 * keeps every cap (SQL size and no NUL, parameter count, name syntax and
 * uniqueness); re-encoding an accepted request and decoding it again gives
 * the same request. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbwire.h"
#include "jsonw.h"
#include "sbuf.h"
#include "utf8.h"

static void check_caps(const dbw_request *r)
{
    if (r->op == DBW_QUERY) {
        if (r->sql == NULL || r->sql_len == 0 || r->sql_len > DBW_MAX_SQL ||
            strlen(r->sql) != r->sql_len || !utf8_valid(r->sql, r->sql_len, NULL))
            abort();
    } else if (r->sql != NULL || r->nparams != 0) {
        abort();
    }
    if (r->op == DBW_SCHEMA && (r->table == NULL || r->table[0] == '\0'))
        abort();
    if (r->nparams > DBW_MAX_PARAMS)
        abort();
    for (size_t i = 0; i < r->nparams; i++) {
        const dbw_param *p = &r->params[i];
        if (r->named != (p->name != NULL))
            abort();
        if (p->name != NULL) {
            size_t n = strlen(p->name);
            if (n == 0 || n > DBW_MAX_NAME ||
                strspn(p->name, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_") != n)
                abort();
            for (size_t k = 0; k < i; k++)
                if (strcmp(r->params[k].name, p->name) == 0)
                    abort();
        }
        if (p->type == DBW_TEXT && p->text == NULL)
            abort();
    }
}

static void put_value(sbuf *b, const dbw_param *p)
{
    app_err e = APP_OK;
    switch (p->type) {
    case DBW_NULL:
        e = sbuf_puts(b, "null");
        break;
    case DBW_BOOL:
        e = sbuf_puts(b, p->i ? "true" : "false");
        break;
    case DBW_INT:
        e = sbuf_printf(b, "%lld", (long long)p->i);
        break;
    case DBW_REAL: {
        char t[40];
        snprintf(t, sizeof t, "%.17g", p->r);
        e = sbuf_printf(b, "%s%s", t, strpbrk(t, ".eE") ? "" : ".0"); /* a real stays a real */
        break;
    }
    case DBW_TEXT:
        e = jsonw_string(b, p->text, p->len);
        break;
    }
    if (e != APP_OK)
        abort();
}

static void encode(const dbw_request *r, sbuf *b)
{
    app_err e = sbuf_printf(b, "{\"op\":\"%s\"", dbw_op_name(r->op));
    if (e == APP_OK && r->op == DBW_QUERY) {
        e = sbuf_puts(b, ",\"sql\":");
        if (e == APP_OK)
            e = jsonw_string(b, r->sql, r->sql_len);
        if (e == APP_OK && r->nparams > 0) {
            e = sbuf_puts(b, r->named ? ",\"params\":{" : ",\"params\":[");
            for (size_t i = 0; i < r->nparams && e == APP_OK; i++) {
                if (i > 0)
                    e = sbuf_putc(b, ',');
                if (e == APP_OK && r->named) {
                    e = jsonw_string(b, r->params[i].name, strlen(r->params[i].name));
                    if (e == APP_OK)
                        e = sbuf_putc(b, ':');
                }
                if (e == APP_OK)
                    put_value(b, &r->params[i]);
            }
            if (e == APP_OK)
                e = sbuf_putc(b, r->named ? '}' : ']');
        }
    }
    if (e == APP_OK && r->op == DBW_SCHEMA) {
        e = sbuf_puts(b, ",\"table\":");
        if (e == APP_OK)
            e = jsonw_string(b, r->table, strlen(r->table));
    }
    if (e != APP_OK || sbuf_putc(b, '}') != APP_OK)
        abort();
}

static void same(const dbw_request *a, const dbw_request *b)
{
    if (a->op != b->op || a->nparams != b->nparams || a->named != b->named ||
        a->sql_len != b->sql_len || (a->sql && memcmp(a->sql, b->sql, a->sql_len) != 0) ||
        (a->table && strcmp(a->table, b->table) != 0))
        abort();
    for (size_t i = 0; i < a->nparams; i++) {
        const dbw_param *p = &a->params[i], *q = &b->params[i];
        if (p->type != q->type || (p->name && strcmp(p->name, q->name) != 0) ||
            ((p->type == DBW_INT || p->type == DBW_BOOL) && p->i != q->i) ||
            (p->type == DBW_REAL && p->r != q->r) ||
            (p->type == DBW_TEXT && (p->len != q->len || memcmp(p->text, q->text, p->len) != 0)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[APP_ERRMSG_LEN];
    dbw_request r, again;
    if (dbw_decode((const char *)data, size, &r, msg, sizeof msg) == APP_OK) {
        check_caps(&r);
        sbuf b;
        sbuf_init(&b, 8u * DBW_MAX_REQUEST);
        encode(&r, &b);
        if (dbw_decode(b.data, b.len, &again, msg, sizeof msg) == APP_OK)
            same(&r, &again);
        else if (b.len <= DBW_MAX_REQUEST)
            abort(); /* what was accepted must be accepted again */
        dbw_request_free(&again);
        sbuf_free(&b);
    } else if (msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    dbw_request_free(&r);
    return 0;
}
