/* test_conf.c - settings from the environment. */
#include <stdio.h>

#include "conf.h"
#include "unit.h"

/* A fake environment: alternating names and values, NULL-terminated. */
static const char *fake_lookup(const char *name, void *ctx)
{
    const char *const *env = ctx;
    for (size_t i = 0; env[i] != NULL; i += 2)
        if (strcmp(env[i], name) == 0)
            return env[i + 1];
    return NULL;
}

static APP_MUST_CHECK app_err load(conf *c, const char *const *env, char *msg)
{
    return conf_load(c, "/srv/pysb", fake_lookup, (void *)env, msg, APP_ERRMSG_LEN);
}

static void defaults(void **state)
{
    (void)state;
    const char *env[] = {NULL};
    conf c;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(load(&c, env, msg), APP_OK);
    assert_string_equal(c.templates_dir, "/srv/pysb/templates");
    assert_string_equal(c.web_dir, "/srv/pysb/web");
    assert_string_equal(c.pyodide_url, "/pyodide/" PYODIDE_VERSION "/");
    assert_string_equal(c.package_url, c.pyodide_url);
    assert_string_equal(c.frame_ancestors, "'self'");
    assert_int_equal(c.max_body, CONF_DEFAULT_MAX_BODY);
    assert_int_equal(c.pyodide_load_timeout_s, 60);
    assert_int_equal(c.execution_retention_s, CONF_DEFAULT_EXECUTION_RETENTION_S);
    assert_string_equal(c.judge0_cors_origins, "*"); /* as Judge0 CE */
    assert_null(c.judge0_auth_tokens);                /* authentication off, as Judge0 CE */
    conf_free(&c);
    conf_free(NULL);
}

static void reads_overrides(void **state)
{
    (void)state;
    const char *env[] = {"PYSANDBOX_MAX_BODY_BYTES",
                         "2M",
                         "PYSANDBOX_FRAME_ANCESTORS",
                         "'self' https://insights.example.com http://127.0.0.1:9000",
                         "PYSANDBOX_PYODIDE_PACKAGE_URL",
                         "https://cdn.jsdelivr.net/pyodide/v0.29.5/full/",
                         "PYSANDBOX_TEMPLATES_DIR",
                         "/other/templates",
                         "PYSANDBOX_EXECUTION_RETENTION",
                         "5",
                         "PYSANDBOX_JUDGE0_CORS_ORIGINS",
                         "none",
                         "PYSANDBOX_JUDGE0_AUTH_TOKEN",
                         " a1 b2 ",
                         NULL};
    conf c;
    char msg[APP_ERRMSG_LEN];
    assert_int_equal(load(&c, env, msg), APP_OK);
    assert_int_equal(c.max_body, 2u * 1024 * 1024);
    assert_string_equal(c.templates_dir, "/other/templates");
    assert_int_equal(c.execution_retention_s, 5);
    assert_true(conf_origin_allowed(&c, "https://insights.example.com"));
    assert_true(conf_origin_allowed(&c, "http://127.0.0.1:9000"));
    assert_false(conf_origin_allowed(&c, "https://insights.example.co"));
    assert_false(conf_origin_allowed(&c, "https://evil.example"));
    assert_false(conf_origin_allowed(&c, "'self'"));
    assert_string_equal(c.judge0_cors_origins, "");
    assert_string_equal(c.judge0_auth_tokens, " a1 b2 ");
    conf_free(&c);
}

static void refuses_invalid_values(void **state)
{
    (void)state;
    struct {
        const char *name, *value, *reason;
    } bad[] = {
        {"PYSANDBOX_MAX_BODY_BYTES", "lots", "PYSANDBOX_MAX_BODY_BYTES"},
        {"PYSANDBOX_MAX_BODY_BYTES", "0", "PYSANDBOX_MAX_BODY_BYTES"},
        {"PYSANDBOX_MAX_BODY_BYTES", "100G", "PYSANDBOX_MAX_BODY_BYTES"},
        {"PYSANDBOX_FRAME_ANCESTORS", "", "empty"},
        {"PYSANDBOX_FRAME_ANCESTORS", "https://a.example; script-src *", "not 'self'"},
        {"PYSANDBOX_FRAME_ANCESTORS", "*", "not 'self'"},
        {"PYSANDBOX_FRAME_ANCESTORS", "'none' https://a.example", "cannot be combined"},
        {"PYSANDBOX_FRAME_ANCESTORS", "ftp://a.example", "not 'self'"},
        {"PYSANDBOX_FRAME_ANCESTORS", "https://a.example/path", "not 'self'"},
        {"PYSANDBOX_PYODIDE_PACKAGE_URL", "cdn.example/x/", "PYODIDE_PACKAGE_URL"},
        {"PYSANDBOX_PYODIDE_PACKAGE_URL", "https://cdn.example/x", "PYODIDE_PACKAGE_URL"},
        {"PYSANDBOX_PYODIDE_PACKAGE_URL", "https://cdn.example/\"x/", "PYODIDE_PACKAGE_URL"},
        {"PYSANDBOX_PYODIDE_PACKAGE_URL", "//cdn.example/x/", "PYODIDE_PACKAGE_URL"},
        {"PYSANDBOX_PYODIDE_LOAD_TIMEOUT", "0", "PYODIDE_LOAD_TIMEOUT"},
        {"PYSANDBOX_EXECUTION_RETENTION", "0", "EXECUTION_RETENTION"},
        {"PYSANDBOX_EXECUTION_RETENTION", "1h", "EXECUTION_RETENTION"},
        {"PYSANDBOX_JUDGE0_CORS_ORIGINS", "", "JUDGE0_CORS_ORIGINS"},
        {"PYSANDBOX_JUDGE0_CORS_ORIGINS", "* https://a.example", "JUDGE0_CORS_ORIGINS"},
        {"PYSANDBOX_JUDGE0_CORS_ORIGINS", "https://a.example\r\nX: y", "JUDGE0_CORS_ORIGINS"},
        {"PYSANDBOX_JUDGE0_AUTH_TOKEN", "a\nb", "JUDGE0_AUTH_TOKEN"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *env[] = {bad[i].name, bad[i].value, NULL};
        conf c;
        char msg[APP_ERRMSG_LEN] = "";
        app_err e = load(&c, env, msg);
        if (e != APP_ECONFIG || strstr(msg, bad[i].reason) == NULL)
            fail_msg("%s=%s: got %d '%s'", bad[i].name, bad[i].value, e, msg);
        conf_free(&c);
    }
}

static void parses_sizes(void **state)
{
    (void)state;
    size_t v;
    assert_true(conf_parse_size("0", &v) && v == 0);
    assert_true(conf_parse_size("10", &v) && v == 10);
    assert_true(conf_parse_size("3K", &v) && v == 3072);
    assert_true(conf_parse_size("1g", &v) && v == 1073741824u);
    assert_false(conf_parse_size("", &v));
    assert_false(conf_parse_size("-1", &v));
    assert_false(conf_parse_size("1KB", &v));
    assert_false(conf_parse_size("99999999999999999999999", &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(reads_overrides),
        cmocka_unit_test(refuses_invalid_values),
        cmocka_unit_test(parses_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
