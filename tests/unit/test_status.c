/* test_status.c - the executor's health JSON: whatever its buffer's cap,
 * status_json() either writes the whole document, valid JSON, or fails;
 * it never reports success for a truncated one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dblink.h"
#include "status.h"
#include "unit.h"

/* The cgroup layer is not under test (and opening one needs root):
 * status.c reads only these two. */
struct cg {
    cg_mode mode;
};

/* The database link is stubbed too: the report's member, as when none is configured. */
app_err dblink_status_json(const executor *ex, sbuf *out)
{
    (void)ex;
    return sbuf_puts(out, "\"database\":{\"configured\":false}");
}

cg_mode cg_mode_of(const cg *c)
{
    return c->mode;
}

const char *cg_describe_json(const cg *c)
{
    (void)c;
    return "{\"version\":\"none\"}";
}

static cg no_cgroups = {CG_NONE};

/* An executor as after setup, with a zygote ready and an error noted
 * (quotes and a newline in it, so it must be escaped). */
static void fake_executor(executor *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->c.pool_size = 4;
    ex->c.max_jobs = 8;
    ex->c.max_wall_ms = 30000;
    ex->c.max_memory_mb = 512;
    ex->c.jail_tmp_mb = 64;
    ex->c.jail_uid_base = 1500000000u;
    ex->c.client_max_jobs = 4;
    ex->cg = &no_cgroups;
    ex->nslots = 12;
    ex->per_slot_uid = true;
    ex->zygote_ready = true;
    snprintf(ex->zygote_info, sizeof ex->zygote_info, "{\"info\":{\"python\":\"3.11\"}}");
    snprintf(ex->cg_why, sizeof ex->cg_why, "no \"cgroup\" here");
    snprintf(ex->last_error, sizeof ex->last_error, "spawning failed:\n\"why\"");
}

static executor ex;

/* Writes the whole document into b (capped far above its size). */
static void write_whole(sbuf *b)
{
    fake_executor(&ex);
    sbuf_init(b, 64 * 1024);
    assert_int_equal(status_json(&ex, b), APP_OK);
}

static void whole_document_is_valid_json(void **state)
{
    (void)state;
    sbuf b;
    write_whole(&b);
    cJSON *doc = cJSON_Parse(sbuf_str(&b));
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "status")->valuestring, "degraded");
    assert_string_equal(cJSON_GetObjectItem(doc, "lastError")->valuestring,
                        "spawning failed:\n\"why\"");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "jail"), "cgroupNote")->valuestring,
        "no \"cgroup\" here");
    cJSON_Delete(doc);
    sbuf_free(&b);
}

/* Every cap short of the document's length fails with APP_ETOOBIG: each
 * append is checked, so no prefix of the document is ever reported whole. */
static void every_smaller_cap_fails(void **state)
{
    (void)state;
    sbuf full;
    write_whole(&full);
    for (size_t cap = 0; cap < full.len; cap++) {
        sbuf b;
        sbuf_init(&b, cap);
        assert_int_equal(status_json(&ex, &b), APP_ETOOBIG);
        sbuf_free(&b);
    }
    sbuf b;
    sbuf_init(&b, full.len);
    assert_int_equal(status_json(&ex, &b), APP_OK);
    assert_memory_equal(b.data, full.data, full.len);
    sbuf_free(&b);
    sbuf_free(&full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_document_is_valid_json),
        cmocka_unit_test(every_smaller_cap_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
