"""The MCP endpoint (POST /mcp) through real nginx, FastCGI, the store and
the jailed engine, with hand-written JSON-RPC: the transport's rules and
the tools' exactness.  The official SDK client drives the same endpoint in
tests/browser/mcp.test.mjs; the module's edge cases are in
tests/unit/test_mcp.c (and tests/fuzz/fuzz_mcp.c).
"""

import json
import unittest

from tests.http.service import Service

svc = None
ACCEPT = "application/json, text/event-stream"


def setUpModule():
    global svc
    svc = Service().start()
    svc.wait_warm()


def tearDownModule():
    svc.stop()


def rpc(message, session=None, headers=None, raw=None):
    h = {"Content-Type": "application/json", "Accept": ACCEPT}
    if session:
        h["Mcp-Session-Id"] = session
    h.update(headers or {})
    body = raw if raw is not None else json.dumps(message)
    status, hdrs, out = svc.request("POST", "/mcp", body, h)
    return status, hdrs, (json.loads(out) if out else None)


def initialize(version="2025-06-18"):
    status, hdrs, body = rpc({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                              "params": {"protocolVersion": version, "capabilities": {},
                                         "clientInfo": {"name": "t", "version": "1"}}})
    assert status == 200, (status, body)
    return hdrs["mcp-session-id"], body["result"]


def call_tool(session, name, arguments, id_=1):
    return rpc({"jsonrpc": "2.0", "id": id_, "method": "tools/call",
                "params": {"name": name, "arguments": arguments}}, session)


class TransportTests(unittest.TestCase):
    def test_sessions_are_made_named_and_ended(self):
        sid, result = initialize("2024-11-05")
        self.assertRegex(sid, r"^[0-9a-f]{32}$")
        self.assertEqual(result["protocolVersion"], "2024-11-05")
        self.assertEqual(result["serverInfo"]["name"], "pysandbox")
        status, _, body = rpc({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        self.assertEqual((status, body["error"]["code"]), (400, -32000))
        status, _, body = rpc({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, "f" * 32)
        self.assertEqual((status, body["error"]["code"], body["id"]), (404, -32001, 1))
        status, _, body = rpc({"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
        self.assertEqual((status, body), (202, None))
        status, _, body = rpc({"jsonrpc": "2.0", "id": "x", "method": "tools/list"}, sid)
        self.assertEqual(status, 200)
        self.assertEqual(body["id"], "x")
        self.assertEqual(sorted(t["name"] for t in body["result"]["tools"]),
                         ["create_sandbox", "db_query", "db_schema", "delete_sandbox", "run_python",
                          "sandbox_execute"])
        status, _, _ = svc.request("DELETE", "/mcp", None, {"Mcp-Session-Id": sid})
        self.assertEqual(status, 204)
        status, _, _ = rpc({"jsonrpc": "2.0", "id": 2, "method": "ping"}, sid)
        self.assertEqual(status, 404)

    def test_an_unknown_version_is_answered_with_ours(self):
        _, result = initialize("2031-01-01")
        self.assertEqual(result["protocolVersion"], "2025-06-18")
        sid, _ = initialize()
        status, _, body = rpc({"jsonrpc": "2.0", "id": 1, "method": "ping"}, sid,
                              {"MCP-Protocol-Version": "1999-01-01"})
        self.assertEqual(status, 400)
        self.assertIn("MCP-Protocol-Version", body["error"]["message"])

    def test_bad_requests_get_json_rpc_errors(self):
        sid, _ = initialize()
        cases = [
            (b'{"jsonrpc":"2.0","id":1,', 400, -32700),
            (b'{"jsonrpc":"2.0","id":1,"method":"ping","x":"\xc3\x28"}', 400, -32700),
            (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 400, -32600),
            (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600),
            (b'{"jsonrpc":"2.0","id":1,"method":"no/such"}', 200, -32601),
        ]
        for raw, status, code in cases:
            with self.subTest(raw=raw):
                got, _, body = rpc(None, sid, raw=raw)
                self.assertEqual((got, body["error"]["code"]), (status, code), body)
        status, _, body = rpc({"jsonrpc": "2.0", "id": 1, "method": "ping"}, sid,
                              {"Content-Type": "text/plain"})
        self.assertEqual(status, 415)

    def test_get_is_refused_and_foreign_origins_are_forbidden(self):
        sid, _ = initialize()
        status, hdrs, _ = svc.request("GET", "/mcp", None, {"Accept": "text/event-stream",
                                                           "Mcp-Session-Id": sid})
        self.assertEqual(status, 405)
        self.assertEqual(hdrs["allow"], "POST, DELETE")
        status, _, body = rpc({"jsonrpc": "2.0", "id": 1, "method": "ping"}, sid,
                              {"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        status, _, _ = rpc({"jsonrpc": "2.0", "id": 1, "method": "ping"}, sid,
                           {"Origin": f"http://127.0.0.1:{svc.port}"})
        self.assertEqual(status, 200)


class ToolTests(unittest.TestCase):
    def test_run_python_keeps_data_exact(self):
        sid, _ = initialize()
        # Integers past 2**53 and 1.0 reach Python as sent (no JSON tree in between).
        raw = ('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"run_python",'
               '"arguments":{"code":"print(data[0] + 1, type(data[1]).__name__)",'
               '"data":[12345678901234567890, 1.0]}}}')
        status, _, body = rpc(None, sid, raw=raw)
        self.assertEqual(status, 200, body)
        result = body["result"]
        self.assertFalse(result["isError"])
        self.assertEqual(result["structuredContent"]["output"], "12345678901234567891 float\n")
        self.assertEqual(json.loads(result["content"][0]["text"]), result["structuredContent"])

    def test_endpoint_errors_are_tool_errors_the_model_can_read(self):
        sid, _ = initialize()
        status, _, body = call_tool(sid, "run_python", {"code": 5})
        self.assertEqual(status, 200)
        self.assertTrue(body["result"]["isError"])
        self.assertIn("HTTP 400", body["result"]["content"][0]["text"])
        status, _, body = call_tool(sid, "run_python",
                                    {"code": "import time\ntime.sleep(5)",
                                     "requirements": {"maxExecutionTime": 1}})
        self.assertTrue(body["result"]["isError"])
        self.assertEqual(body["result"]["structuredContent"]["status"], "timeout")

    def test_sandbox_tools_keep_state(self):
        sid, _ = initialize()
        _, _, made = call_tool(sid, "create_sandbox", {"config": {"idle_timeout": 60}})
        box = made["result"]["structuredContent"]["sandbox_id"]
        call_tool(sid, "sandbox_execute", {"sandbox_id": box, "code": "import math\nr = 2"})
        _, _, body = call_tool(sid, "sandbox_execute",
                               {"sandbox_id": box, "code": "print(math.pi * r)"})
        self.assertTrue(body["result"]["structuredContent"]["output"].startswith("6.28318"))
        _, _, body = call_tool(sid, "delete_sandbox", {"sandbox_id": box})
        self.assertEqual(body["result"]["structuredContent"], {"deleted": True})
        status, _, _ = svc.get(f"/sandbox/{box}/status")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
