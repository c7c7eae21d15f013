/* test_tmpl.c - templates and context-aware escaping. */
#include <stdio.h>
#include <stdlib.h>

#include "http.h"
#include "jscan.h"
#include "tmpl.h"
#include "unit.h"

static const char *const names[] = {"title", "data"};

static void escapes_html(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b, 1024);
    const char in[] = "<a href=\"x\" title='y'>&amp;</a>";
    assert_int_equal(tmpl_escape_html(&b, in, sizeof in - 1), APP_OK);
    assert_string_equal(sbuf_str(&b),
                        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    sbuf_free(&b);
}

static void escapes_json_for_script_elements(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b, 1024);
    const char in[] =
        "[\"</script><!--<script>\",\"a&b\",\"\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa\"]";
    assert_int_equal(tmpl_escape_script_json(&b, in, sizeof in - 1), APP_OK);
    assert_string_equal(sbuf_str(&b), "[\"\\u003c/script\\u003e\\u003c!--\\u003cscript\\u003e\","
                                      "\"a\\u0026b\",\"\\u2028\\u2029\xe2\x80\xaa\"]");
    sbuf_free(&b);
}

/* Property: any string, JSON-encoded then script-escaped, contains no '<',
 * no raw U+2028/2029, and still decodes to exactly the original bytes. */
static void script_json_is_inert_for_random_strings(void **state)
{
    (void)state;
    const char *atoms[] = {"<",   ">",    "/",  "script", "SCRIPT",       "!--",
                           "-->", "&",    "\"", "\\",     "\xe2\x80\xa8", "\xe2\x80\xa9",
                           "\n",  "\x01", "'",  "x",      "\xc3\xa9"};
    srand(12345);
    for (int round = 0; round < 2000; round++) {
        sbuf raw, json, out, back;
        sbuf_init(&raw, 4096);
        sbuf_init(&json, 65536);
        sbuf_init(&out, 65536);
        sbuf_init(&back, 65536);
        int n = rand() % 40;
        for (int i = 0; i < n; i++)
            assert_int_equal(sbuf_puts(&raw, atoms[rand() % (int)(sizeof atoms / sizeof atoms[0])]), APP_OK);
        assert_int_equal(jsonw_string(&json, raw.data ? raw.data : "", raw.len), APP_OK);
        assert_int_equal(tmpl_escape_script_json(&out, json.data, json.len), APP_OK);
        assert_null(memchr(out.data, '<', out.len));
        assert_null(strstr(sbuf_str(&out), "\xe2\x80\xa8"));
        assert_null(strstr(sbuf_str(&out), "\xe2\x80\xa9"));
        js_span root;
        char msg[APP_ERRMSG_LEN];
        assert_int_equal(js_validate(out.data, out.len, &root, msg, sizeof msg), APP_OK);
        assert_int_equal(js_string_decode(out.data, root, &back, NULL), APP_OK);
        assert_int_equal(back.len, raw.len);
        if (raw.len > 0)
            assert_memory_equal(back.data, raw.data, raw.len);
        sbuf_free(&raw);
        sbuf_free(&json);
        sbuf_free(&out);
        sbuf_free(&back);
    }
}

static void renders_placeholders(void **state)
{
    (void)state;
    const char text[] = "<title>{{html:title}}</title><script type=\"application/json\">"
                        "{{json:data}}</script>{{html:title}}!";
    tmpl *t;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(tmpl_parse(text, sizeof text - 1, names, 2, &t, msg, sizeof msg), APP_OK);
    tmpl_var vars[] = {{"title", "a<b", 3}, {"data", "[\"</script>\"]", 13}};
    sbuf out;
    sbuf_init(&out, 4096);
    assert_int_equal(tmpl_render(t, vars, 2, &out), APP_OK);
    assert_string_equal(sbuf_str(&out), "<title>a&lt;b</title><script type=\"application/json\">"
                                        "[\"\\u003c/script\\u003e\"]</script>a&lt;b!");
    /* A missing variable is a programming error, reported, never rendered. */
    sbuf_reset(&out);
    assert_int_equal(tmpl_render(t, vars, 1, &out), APP_EINTERNAL);
    sbuf_free(&out);
    tmpl_free(t);
    tmpl_free(NULL);
}

static void refuses_bad_templates(void **state)
{
    (void)state;
    struct {
        const char *text, *reason;
    } bad[] = {
        {"{{html:nope}}", "unknown template variable 'nope'"},
        {"{{raw:title}}", "must be {{html:name}} or {{json:name}}"},
        {"{{title}}", "must be"},
        {"x {{html:title", "unclosed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tmpl *t = NULL;
        char msg[APP_ERRMSG_LEN] = "";
        assert_int_not_equal(
            tmpl_parse(bad[i].text, strlen(bad[i].text), names, 2, &t, msg, sizeof msg), APP_OK);
        assert_contains(msg, bad[i].reason);
        assert_null(t);
    }
}

static void loads_the_real_page_template(void **state)
{
    (void)state;
    const char *const page_vars[] = {"config", "input", "data"};
    const char *root = getenv("PYSANDBOX_ROOT");
    assert_non_null(root);
    char path[4096];
    snprintf(path, sizeof path, "%s/templates/sandbox.html", root);
    tmpl *t;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(tmpl_load(path, page_vars, 3, &t, msg, sizeof msg), APP_OK);
    tmpl_free(t);
    assert_int_equal(tmpl_load("/nonexistent/x.html", page_vars, 3, &t, msg, sizeof msg), APP_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_html),
        cmocka_unit_test(escapes_json_for_script_elements),
        cmocka_unit_test(script_json_is_inert_for_random_strings),
        cmocka_unit_test(renders_placeholders),
        cmocka_unit_test(refuses_bad_templates),
        cmocka_unit_test(loads_the_real_page_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
