"""HTTP tests of the page endpoints through real nginx + FastCGI."""

import concurrent.futures
import gzip
import json
import re
import socket
import unittest

from tests.http.service import Service

svc = None
PAGE = "/api/insights/python-sandbox"
BATCH = "/api/insights/batch-analyze"


def setUpModule():
    global svc
    svc = Service().start()


def tearDownModule():
    svc.stop()


def embedded(body, element_id):
    """Returns the text inside <script type="application/json" id=element_id>."""
    m = re.search(rb'<script type="application/json" id="' + element_id.encode() + rb'">(.*?)</script>',
                  body, re.S)
    assert m, f"no #{element_id} in page"
    return m.group(1).decode()


class PageTests(unittest.TestCase):
    def test_get_page_has_isolation_and_csp_headers(self):
        status, h, body = svc.get(PAGE)
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertEqual(h["cross-origin-opener-policy"], "same-origin")
        self.assertEqual(h["cross-origin-embedder-policy"], "require-corp")
        self.assertIn("no-store", h["cache-control"])
        csp = h["content-security-policy"]
        self.assertIn("'wasm-unsafe-eval'", csp)
        self.assertIn("frame-ancestors 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("'unsafe-eval'", csp)
        self.assertEqual(embedded(body, "pysb-data"), "[]")

    def test_head_is_answered_without_body(self):
        status, h, body = svc.request("HEAD", PAGE)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    def test_post_json_embeds_data_byte_exact(self):
        data_text = '[{"n":1.0,"big":12345678901234567890,"s":"</script><!--\\u2028","z":"\\u0000"}]'
        raw = '{"code":"print(data)","data":' + data_text + "}"
        status, h, body = svc.post_json(PAGE, raw=raw)
        self.assertEqual(status, 200)
        text = embedded(body, "pysb-data")
        # Same JSON value, same number spellings; only < > & U+2028 are escaped.
        self.assertEqual(json.loads(text), json.loads(data_text))
        self.assertIn('"n":1.0', text)
        self.assertIn("12345678901234567890", text)
        self.assertNotIn("<", text)
        self.assertEqual(json.loads(embedded(body, "pysb-input"))["code"], "print(data)")

    def test_post_form_matches_json(self):
        status, _, body = svc.post_form(PAGE, {"code": "print(len(data))",
                                               "data": '[{"a":1},{"a":2}]'})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(embedded(body, "pysb-data")), [{"a": 1}, {"a": 2}])
        self.assertEqual(json.loads(embedded(body, "pysb-input"))["code"], "print(len(data))")

    def test_batch_analyze_embeds_program_and_autorun(self):
        status, h, body = svc.post_json(BATCH, {"data": [{"x": 1}, {"x": 2}],
                                                "analysisType": "comprehensive"})
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        inp = json.loads(embedded(body, "pysb-input"))
        self.assertTrue(inp["autorun"])
        self.assertIn('run_analysis(data, "comprehensive")', inp["code"])

    def test_batch_analyze_unknown_type_is_400(self):
        status, _, body = svc.post_json(BATCH, {"data": [], "analysisType": "tarot"})
        self.assertEqual(status, 400)
        err = json.loads(body)["error"]
        self.assertEqual(err["code"], "invalid_field")
        self.assertIn("tarot", err["message"])


class BadInputTests(unittest.TestCase):
    def assertJsonError(self, resp, status, code, text=None):
        st, h, body = resp
        self.assertEqual(st, status, body)
        self.assertTrue(h["content-type"].startswith("application/json"), h)
        err = json.loads(body)["error"]
        self.assertEqual(err["code"], code)
        if text:
            self.assertIn(text, err["message"])

    def test_malformed_json_names_the_problem(self):
        self.assertJsonError(svc.post_json(PAGE, raw='{"code": "x",}'), 400, "invalid_json",
                             "byte")

    def test_wrong_field_types(self):
        self.assertJsonError(svc.post_json(PAGE, {"code": ["x"]}), 400, "invalid_field",
                             "must be a string")
        self.assertJsonError(svc.post_json(PAGE, {"data": "rows"}), 400, "invalid_field",
                             "array of objects")

    def test_invalid_utf8(self):
        self.assertJsonError(svc.post_json(PAGE, raw=b'{"code": "\xc3\x28"}'), 400,
                             "invalid_utf8")
        self.assertJsonError(svc.request("POST", PAGE, b"code=%ff",
                                         {"Content-Type": "application/x-www-form-urlencoded"}),
                             400, "invalid_utf8")

    def test_unsupported_content_type(self):
        self.assertJsonError(svc.request("POST", PAGE, b"{}", {"Content-Type": "text/plain"}),
                             415, "unsupported_media_type")

    def test_oversized_body_is_413_from_the_service(self):
        body = b'{"code":"' + b"x" * (10 * 1024 * 1024) + b'"}'
        self.assertJsonError(svc.post_json(PAGE, raw=body), 413, "payload_too_large")

    def test_body_over_the_nginx_cap_is_413_json(self):
        body = b" " * (57 * 1024 * 1024)
        self.assertJsonError(svc.post_json(PAGE, raw=body), 413, "payload_too_large")

    def test_unknown_api_route_is_404_json(self):
        self.assertJsonError(svc.get("/api/does-not-exist"), 404, "not_found")

    def test_wrong_method_is_405_with_allow(self):
        resp = svc.request("PUT", PAGE, b"{}", {"Content-Type": "application/json"})
        self.assertJsonError(resp, 405, "method_not_allowed")
        self.assertEqual(resp[1]["allow"], "GET, HEAD, POST")

    def test_garbage_never_crashes_or_502s(self):
        payloads = [b"", b"{", b"[" * 100000, b'{"code":' + b'"\\ud800"}', b"\x00" * 1000,
                    b'{"data":' + b"[" * 70 + b"]" * 70 + b"}", b"%" * 5000,
                    b'{"code":"' + b"\\" * 9999 + b'"}', bytes(range(256)) * 40]
        for p in payloads:
            for ctype in ("application/json", "application/x-www-form-urlencoded"):
                for path in (PAGE, BATCH):
                    st, _, _ = svc.request("POST", path, p, {"Content-Type": ctype})
                    self.assertIn(st, (200, 400, 413), (path, ctype, p[:40]))
        self.assertEqual(svc.get("/api/health")[0], 200)
        self.assertNotIn("killed by signal", svc.log("fcgi.log"))

    def test_client_that_disconnects_mid_body_does_not_hurt(self):
        s = socket.create_connection(("127.0.0.1", svc.port))
        s.sendall(b"POST " + PAGE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"code\":")
        s.close()
        self.assertEqual(svc.get("/api/health")[0], 200)

    def test_concurrent_requests_all_succeed(self):
        def one(i):
            # 16 clients (one loopback address each): one client may have
            # only PYSANDBOX_CLIENT_MAX_REQUESTS in progress (test_fairness).
            return svc.post_json(PAGE, {"code": f"print({i})", "data": [{"i": i}]},
                                 source=f"127.0.2.{i % 16 + 1}")[0]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(one, range(200)))
        self.assertEqual(statuses, [200] * 200)


class StaticTests(unittest.TestCase):
    def test_wasm_is_served_compressed_with_the_right_type(self):
        st, h, body = svc.get("/pyodide/0.29.5/pyodide.asm.wasm", {"Accept-Encoding": "gzip"})
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "application/wasm")
        self.assertEqual(h.get("content-encoding"), "gzip")
        self.assertIn("immutable", h["cache-control"])
        self.assertEqual(h["cross-origin-resource-policy"], "cross-origin")
        self.assertEqual(gzip.decompress(body)[:4], b"\0asm")

    def test_mjs_has_a_javascript_type(self):
        st, h, _ = svc.get("/pyodide/0.29.5/pyodide.mjs")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/javascript"))

    def test_missing_pyodide_file_is_404_not_a_page(self):
        # A wheel the lockfile names but we do not ship must be a plain 404, never
        # a 200 fallback page (that would surface as an integrity error instead).
        st, _, _ = svc.get("/pyodide/0.29.5/numpy-2.2.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl")
        self.assertEqual(st, 404)

    def test_harness_is_served(self):
        st, h, body = svc.get("/static/harness.py")
        self.assertEqual(st, 200)
        self.assertIn(b"def run_json", body)
        self.assertEqual(h["cross-origin-embedder-policy"], "require-corp")


if __name__ == "__main__":
    unittest.main()
