/* j0_render.c - the Judge0-compatible API's JSON bodies (see j0_render.h). */
#include "j0_render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "http.h"
#include "j0_request.h"
#include "j0_result.h"
#include "jscan.h"
#include "jsonw.h"
#include "judge0.h"
#include "utf8.h"

/* Appends bytes as a JSON value: null when absent; base64 (MIME) when b64;
 * else a JSON string, or APP_EUTF8 when the bytes are not UTF-8 (Judge0's
 * "cannot be converted to UTF-8"). */
static APP_MUST_CHECK app_err put_bytes(sbuf *out, const char *p, size_t n, bool present, bool b64)
{
    if (!present)
        return sbuf_puts(out, "null");
    if (!b64) {
        if (!utf8_valid(p, n, NULL))
            return APP_EUTF8;
        return jsonw_string(out, p, n);
    }
    sbuf enc;
    sbuf_init(&enc, HTTP_MAX_RESPONSE);
    app_err err = b64_encode(p, n, B64_MIME, &enc);
    if (err == APP_OK)
        err = jsonw_string(out, enc.data ? enc.data : "", enc.len);
    sbuf_free(&enc);
    return err;
}

/* Appends a string member of the stored result as a field value: its
 * bytes from name J0RES_BASE64_SUFFIX when it was stored so (j0res_json). */
static APP_MUST_CHECK app_err put_result_text(sbuf *out, const char *doc, js_span result,
                                              const char *name, bool b64)
{
    char raw_name[64];
    snprintf(raw_name, sizeof raw_name, "%s" J0RES_BASE64_SUFFIX, name);
    js_span v;
    bool raw = j0req_member(doc, result, raw_name, &v) && v.type == JS_STRING;
    if (!raw && (!j0req_member(doc, result, name, &v) || v.type != JS_STRING))
        return sbuf_puts(out, "null");
    sbuf b;
    sbuf_init(&b, HTTP_MAX_RESPONSE);
    app_err err = js_string_decode(doc, v, &b, NULL);
    if (err == APP_OK && raw) {
        sbuf bytes;
        sbuf_init(&bytes, HTTP_MAX_RESPONSE);
        err = b64_decode(b.data ? b.data : "", b.len, B64_STRICT, &bytes);
        sbuf_free(&b);
        b = bytes;
    }
    if (err == APP_OK)
        err = put_bytes(out, b.data ? b.data : "", b.len, true, b64);
    sbuf_free(&b);
    return err;
}

/* Appends a number or string member of the stored result verbatim, or null. */
static APP_MUST_CHECK app_err put_result_raw(sbuf *out, const char *doc, js_span result,
                                             const char *name)
{
    js_span v;
    if (!j0req_member(doc, result, name, &v) || (v.type != JS_NUMBER && v.type != JS_STRING))
        return sbuf_puts(out, "null");
    return sbuf_append(out, doc + v.off, v.len);
}

/*
 * Appends the submission in row as a JSON object with the fields f, byte
 * fields in base64 when b64.  Returns APP_OK; APP_EUTF8 when a text field
 * is not UTF-8 and b64 is false; APP_ETOOBIG; APP_ENOMEM.
 */
app_err j0render_submission(const j0tab_limits *l, const hist_j0_row *row, const j0tab_fields *f,
                            bool b64, sbuf *out)
{
    bool want_req = false, want_bytes = false;
    for (size_t i = 0; i < f->n; i++) {
        unsigned k = f->list[i];
        want_bytes =
            want_bytes || k == J0_F_SOURCE_CODE || k == J0_F_STDIN || k == J0_F_EXPECTED_OUTPUT;
        want_req = want_req || k == J0_F_SOURCE_CODE || k == J0_F_STDIN ||
                   k == J0_F_EXPECTED_OUTPUT ||
                   (k >= J0_F_NUMBER_OF_RUNS && k <= J0_F_MAX_FILE_SIZE) || k == J0_F_REDIRECT ||
                   k == J0_F_ENABLE_NETWORK;
    }
    j0req r;
    j0req_init(&r, l);
    char msg[APP_ERRMSG_LEN];
    app_err err = APP_OK;
    js_span root;
    if (want_req && js_validate(row->request, row->request_len, &root, msg, sizeof msg) == APP_OK)
        err = j0req_decode_stored(row->request, root, want_bytes, &r);
    js_span result = {.type = JS_NULL};
    const char *rdoc = row->result ? row->result : "null";
    if (row->result == NULL ||
        js_validate(row->result, row->result_len, &result, msg, sizeof msg) != APP_OK)
        result.type = JS_NULL;

    char buf[64];
    if (err == APP_OK)
        err = sbuf_putc(out, '{');
    for (size_t i = 0; i < f->n && err == APP_OK; i++) {
        unsigned k = f->list[i];
        err = sbuf_printf(out, "%s\"%s\":", i > 0 ? "," : "", j0tab_field_name(k));
        if (err != APP_OK)
            break;
        switch (k) {
        case J0_F_TOKEN:
            err = jsonw_string(out, row->token, strlen(row->token));
            break;
        case J0_F_SOURCE_CODE:
            err =
                put_bytes(out, r.source.data ? r.source.data : "", r.source.len, r.has_source, b64);
            break;
        case J0_F_STDIN:
            err = put_bytes(out, r.input.data ? r.input.data : "", r.input.len, r.has_input, b64);
            break;
        case J0_F_EXPECTED_OUTPUT:
            err = put_bytes(out, r.expected.data ? r.expected.data : "", r.expected.len,
                            r.has_expected, b64);
            break;
        case J0_F_LANGUAGE_ID:
            err = sbuf_printf(out, "%ld", row->language_id);
            break;
        case J0_F_STDOUT:
        case J0_F_STDERR:
        case J0_F_COMPILE_OUTPUT:
        case J0_F_MESSAGE:
            err = put_result_text(out, rdoc, result, j0tab_field_name(k), b64);
            break;
        case J0_F_TIME:
        case J0_F_WALL_TIME:
        case J0_F_MEMORY:
        case J0_F_EXIT_CODE:
        case J0_F_EXIT_SIGNAL:
            err = put_result_raw(out, rdoc, result, j0tab_field_name(k));
            break;
        case J0_F_STATUS_ID:
            err = sbuf_printf(out, "%d", row->status_id);
            break;
        case J0_F_STATUS:
            err = sbuf_printf(out, "{\"id\":%d,\"description\":\"%s\"}", row->status_id,
                              jz_status_description(row->status_id));
            break;
        case J0_F_CREATED_AT:
        case J0_F_FINISHED_AT: {
            double t = k == J0_F_CREATED_AT ? row->created_at : row->finished_at;
            j0tab_iso_time(t, buf, sizeof buf);
            err = t < 0 ? sbuf_puts(out, "null") : sbuf_printf(out, "\"%s\"", buf);
            break;
        }
        case J0_F_NUMBER_OF_RUNS:
            err = sbuf_printf(out, "%ld", r.number_of_runs);
            break;
        case J0_F_CPU_TIME_LIMIT:
        case J0_F_CPU_EXTRA_TIME:
        case J0_F_WALL_TIME_LIMIT:
            j0tab_decimal(k == J0_F_CPU_TIME_LIMIT   ? r.cpu_time_limit
                          : k == J0_F_CPU_EXTRA_TIME ? r.cpu_extra_time
                                                     : r.wall_time_limit,
                          buf, sizeof buf);
            err = sbuf_printf(out, "\"%s\"", buf);
            break;
        case J0_F_MEMORY_LIMIT:
            err = sbuf_printf(out, "%ld", r.memory_limit);
            break;
        case J0_F_STACK_LIMIT:
            err = sbuf_printf(out, "%ld", r.stack_limit);
            break;
        case J0_F_MAX_PROCESSES:
            err = sbuf_printf(out, "%ld", r.max_processes);
            break;
        case J0_F_MAX_FILE_SIZE:
            err = sbuf_printf(out, "%ld", r.max_file_size);
            break;
        case J0_F_PP_TIME:
        case J0_F_PP_MEMORY:
        case J0_F_REDIRECT:
        case J0_F_ENABLE_NETWORK: {
            bool b = k == J0_F_PP_TIME     ? r.pp_time
                     : k == J0_F_PP_MEMORY ? r.pp_memory
                     : k == J0_F_REDIRECT  ? r.redirect
                                           : r.network;
            err = sbuf_puts(out, b ? "true" : "false");
            break;
        }
        case J0_F_LANGUAGE: {
            const char *name = j0tab_language_name(row->language_id);
            err = sbuf_printf(out, "{\"id\":%ld,\"name\":", row->language_id);
            if (err == APP_OK)
                err = name ? jsonw_string(out, name, strlen(name)) : sbuf_puts(out, "null");
            if (err == APP_OK)
                err = sbuf_putc(out, '}');
            break;
        }
        default: /* compiler_options, command_line_arguments, callback_url,
                    additional_files: refused when set, so always null */
            err = sbuf_puts(out, "null");
            break;
        }
    }
    if (err == APP_OK)
        err = sbuf_putc(out, '}');
    j0req_free(&r);
    return err;
}

/* --- the information routes ------------------------------------------------------ */

app_err j0render_languages(sbuf *out, bool all)
{
    app_err err = sbuf_putc(out, '[');
    for (size_t i = 0; i < j0tab_language_count() && err == APP_OK; i++) {
        int id = j0tab_language_id(i);
        err = sbuf_printf(out, "%s{\"id\":%d,\"name\":\"%s\"%s}", i > 0 ? "," : "", id,
                          j0tab_language_name(id), all ? ",\"is_archived\":false" : "");
    }
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

app_err j0render_language(sbuf *out, const char *id)
{
    char *end;
    errno = 0;
    long n = strtol(id, &end, 10);
    const char *name = j0tab_language_name(n);
    if (*id == '\0' || *end != '\0' || errno != 0 || name == NULL)
        return APP_ENOTFOUND;
    app_err err = sbuf_printf(out, "{\"id\":%ld,\"name\":\"%s\"", n, name);
    if (err == APP_OK)
        err = sbuf_puts(out, ",\"is_archived\":false,\"source_file\":\"script.py\","
                             "\"compile_cmd\":null,\"run_cmd\":\"/usr/bin/python3 script.py\"");
    return err == APP_OK ? sbuf_putc(out, '}') : err;
}

app_err j0render_statuses(sbuf *out)
{
    app_err err = sbuf_putc(out, '[');
    for (int i = 1; i <= JZ_STATUS_MAX && err == APP_OK; i++)
        err = sbuf_printf(out, "%s{\"id\":%d,\"description\":\"%s\"}", i > 1 ? "," : "", i,
                          jz_status_description(i));
    return err == APP_OK ? sbuf_putc(out, ']') : err;
}

app_err j0render_about(const conf *c, sbuf *out)
{
    const char *home = c->public_url ? c->public_url : "";
    app_err err = sbuf_puts(out, "{\"version\":\"" J0_VERSION "\",\"homepage\":");
    if (err == APP_OK)
        err = jsonw_string(out, home, strlen(home));
    if (err == APP_OK)
        err =
            sbuf_puts(out, ",\"source_code\":\"\",\"maintainer\":\"pysandbox: a Judge0-compatible "
                           "API over a jailed native CPython (Python only)\"}");
    return err;
}

app_err j0render_config_info(const conf *c, sbuf *out)
{
    j0tab_limits l;
    j0tab_limits_get(c, &l);
    char cpu[32], max_cpu[32], extra[32], max_extra[32], wall[32], max_wall[32];
    j0tab_decimal(l.cpu_time, cpu, sizeof cpu);
    j0tab_decimal(l.max_cpu_time, max_cpu, sizeof max_cpu);
    j0tab_decimal(l.cpu_extra, extra, sizeof extra);
    j0tab_decimal(l.max_cpu_extra, max_extra, sizeof max_extra);
    j0tab_decimal(l.wall_time, wall, sizeof wall);
    j0tab_decimal(l.max_wall_time, max_wall, sizeof max_wall);
    return sbuf_printf(
        out,
        "{\"maintenance_mode\":false,\"enable_wait_result\":true,"
        "\"enable_compiler_options\":false,\"allowed_languages_for_compile_options\":[],"
        "\"enable_command_line_arguments\":false,\"enable_submission_delete\":false,"
        "\"enable_callbacks\":false,\"callbacks_max_tries\":3,\"callbacks_timeout\":5.0,"
        "\"enable_additional_files\":false,\"max_queue_size\":%d,"
        "\"cpu_time_limit\":%s,\"max_cpu_time_limit\":%s,\"cpu_extra_time\":%s,"
        "\"max_cpu_extra_time\":%s,\"wall_time_limit\":%s,\"max_wall_time_limit\":%s,"
        "\"memory_limit\":%ld,\"max_memory_limit\":%ld,\"stack_limit\":%ld,"
        "\"max_stack_limit\":%ld,\"max_processes_and_or_threads\":%ld,"
        "\"max_max_processes_and_or_threads\":%ld,"
        "\"enable_per_process_and_thread_time_limit\":false,"
        "\"allow_enable_per_process_and_thread_time_limit\":false,"
        "\"enable_per_process_and_thread_memory_limit\":false,"
        "\"allow_enable_per_process_and_thread_memory_limit\":false,"
        "\"max_file_size\":%ld,\"max_max_file_size\":%ld,\"number_of_runs\":%ld,"
        "\"max_number_of_runs\":%ld,\"redirect_stderr_to_stdout\":false,"
        "\"max_extract_size\":0,\"enable_batched_submissions\":true,"
        "\"max_submission_batch_size\":%d,\"submission_cache_duration\":0.0,"
        "\"use_docs_as_homepage\":false,\"allow_enable_network\":false,"
        "\"enable_network\":false}",
        J0_MAX_QUEUE, cpu, max_cpu, extra, max_extra, wall, max_wall, l.memory, l.max_memory,
        l.stack, l.max_stack, l.procs, l.max_procs, l.file_size, l.max_file_size, l.runs,
        l.max_runs, J0_MAX_BATCH);
}

app_err j0render_system_info(sbuf *out)
{
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.machine, sizeof u.machine, "unknown");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    app_err err = sbuf_puts(out, "{\"Architecture\":");
    if (err == APP_OK)
        err = jsonw_string(out, u.machine, strlen(u.machine));
    if (err == APP_OK)
        err = sbuf_printf(out, ",\"CPU(s)\":\"%ld\",\"Mem\":\"%.1fG\"}", cpus,
                          mem / (1024.0 * 1024 * 1024));
    return err;
}

/* pg_size_pretty's spelling: "8192 bytes", "16 kB", "12 MB", ... */
static void size_pretty(long long bytes, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    long long v = bytes < 0 ? 0 : bytes;
    while (v >= 10 * 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v = (v + 512) / 1024;
        u++;
    }
    snprintf(buf, len, "%lld %s", v, units[u]);
}

/* "YYYY-MM-DD" of a day number (days since 1970-01-01, UTC). */
static void day_text(long long day, char *buf, size_t len)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, len, "1970-01-01");
}

app_err j0render_statistics(const j0render_stats *st, sbuf *out)
{
    char now[40], pretty[32];
    j0tab_iso_time(st->now, now, sizeof now);
    size_pretty(st->store_bytes, pretty, sizeof pretty);
    app_err err = sbuf_printf(out,
                              "{\"created_at\":\"%s\",\"cached_until\":\"%s\",\"submissions\":"
                              "{\"total\":%lld,\"today\":%lld,\"last_30_days\":{",
                              now, now, st->total, st->today);
    long long today = (long long)(st->now / 86400.0);
    for (int i = 0; i < J0_STATS_DAYS && err == APP_OK; i++) {
        char day[16];
        day_text(today - 1 - i, day, sizeof day);
        err = sbuf_printf(out, "%s\"%s\":%lld", i > 0 ? "," : "", day, st->days[i]);
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "}},\"languages\":[");
    for (size_t i = 0; i < st->nlanguages && err == APP_OK; i++) {
        const char *name = j0tab_language_name((long)st->languages[i].key);
        err = sbuf_printf(out, "%s{\"language\":{\"id\":%lld,\"name\":", i > 0 ? "," : "",
                          st->languages[i].key);
        if (err == APP_OK)
            err = name ? jsonw_string(out, name, strlen(name)) : sbuf_puts(out, "null");
        if (err == APP_OK)
            err = sbuf_printf(out, "},\"count\":%lld}", st->languages[i].count);
    }
    if (err == APP_OK)
        err = sbuf_puts(out, "],\"statuses\":[");
    for (size_t i = 0; i < st->nstatuses && err == APP_OK; i++) {
        long long id = st->statuses[i].key;
        const char *name = id >= 1 && id <= JZ_STATUS_MAX ? jz_status_description((int)id) : NULL;
        err = sbuf_printf(out, "%s{\"status\":{\"id\":%lld,\"name\":", i > 0 ? "," : "", id);
        if (err == APP_OK)
            err = name ? jsonw_string(out, name, strlen(name)) : sbuf_puts(out, "null");
        if (err == APP_OK)
            err = sbuf_printf(out, "},\"count\":%lld}", st->statuses[i].count);
    }
    if (err == APP_OK)
        err = sbuf_printf(out, "],\"database\":{\"size_pretty\":\"%s\",\"size_in_bytes\":%lld}}",
                          pretty, st->store_bytes);
    return err;
}

app_err j0render_workers(const conf *c, long working, sbuf *out)
{
    long total = (long)c->max_jobs;
    long busy = working < 0 ? 0 : working > total ? total : working;
    return sbuf_printf(out,
                       "[{\"queue\":\"" J0_VERSION "\",\"total\":%ld,\"available\":%ld,"
                       "\"idle\":%ld,\"working\":%ld,\"paused\":0,\"failed\":0}]",
                       total, total, total - busy, busy);
}
