/* test_xproto.c - the executor's request header: checks and client keys. */
#include "xproto.h"

#include <string.h>

#include "unit.h"

static void checks_request_headers(void **state)
{
    (void)state;
    char msg[APP_ERRMSG_LEN];
    xp_req_hdr h;
    xp_req_init(&h, XP_OP_JOB);
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_OK);
    h.client = xp_client_key("192.0.2.7"); /* who asked is not a malformed header */
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_OK);
    h.magic ^= 1;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EUPSTREAM);
    xp_req_init(&h, XP_OP_JOB);
    h.flags = 0x80;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EUPSTREAM);
    xp_req_init(&h, XP_OP_JOB);
    h.wall_ms = 30001;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EFIELD);
    xp_req_init(&h, XP_OP_JOB);
    h.data_len = (uint64_t)XP_MAX_DATA + 1;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_ETOOBIG);
    xp_req_init(&h, XP_OP_STATUS);
    h.code_len = 1;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EUPSTREAM);
    xp_req_init(&h, XP_OP_JOB);
    h.reserved = 1;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EUPSTREAM);
    /* A CPU-time limit is none (0) or within the same range as the wall time. */
    xp_req_init(&h, XP_OP_JOB);
    h.cpu_ms = XP_MIN_WALL_MS;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_OK);
    h.cpu_ms = 30000;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_OK);
    h.cpu_ms = XP_MIN_WALL_MS - 1;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EFIELD);
    h.cpu_ms = 30001;
    assert_int_equal(xp_req_check(&h, 30000, 512, msg, sizeof msg), APP_EFIELD);
    assert_non_null(strstr(msg, "CPU-time limit"));
}

static void rlimit_cpu_backs_the_cpu_limit_in_whole_seconds(void **state)
{
    (void)state;
    assert_int_equal(xp_job_rlimit_cpu_s(3000, 0), 3); /* no CPU limit: the wall time */
    assert_int_equal(xp_job_rlimit_cpu_s(2500, 0), 3);
    assert_int_equal(xp_job_rlimit_cpu_s(10000, 1500), 2);  /* never below the limit */
    assert_int_equal(xp_job_rlimit_cpu_s(1000, 20000), 20); /* threads: CPU past the wall */
    assert_int_equal(xp_job_rlimit_cpu_s(100, 100), 1);
}

static void keys_clients(void **state)
{
    (void)state;
    /* 0 means "not a client": the service's own work is never counted. */
    assert_true(xp_client_key(NULL) == 0);
    assert_true(xp_client_key("") == 0);
    uint64_t a = xp_client_key("127.0.0.1"), b = xp_client_key("127.0.0.2");
    assert_true(a != 0 && b != 0 && a != b);
    assert_true(xp_client_key("127.0.0.1") == a);
    assert_true(xp_client_key("2001:db8::1") != xp_client_key("2001:db8::2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checks_request_headers),
        cmocka_unit_test(rlimit_cpu_backs_the_cpu_limit_in_whole_seconds),
        cmocka_unit_test(keys_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
