"""Read-only database access without code: the HTTP API
(POST /sandbox/{id}/database/query, GET .../database/schema[?table=],
GET .../database/log[?limit=]) and the MCP tools db_query and db_schema.

Three services: one given a SQLite file seeded from tests/data/agent_seed.sql,
one given a throwaway PostgreSQL cluster seeded from the same file
(tests/http/pgcluster.py), and one without PYSANDBOX_AGENT_DB.  The same
cases run against both databases (tests/http/test_database.py is the
jail's view of the same broker); MCP runs against SQLite only.
"""
import json
import os
import tempfile
import textwrap
import time
import unittest

from tests.http import pgcluster
from tests.http.service import Service, wait_for

# Set for the two database services (small enough to test quickly).
MAX_ROWS = 40
TIMEOUT_S = 1

SEED_COLUMNS = {
    "users": ["id", "name", "email", "plan", "created_at", "active"],
    "user_activities": ["id", "user_id", "action", "duration_seconds", "created_at"],
    "documents": ["id", "title", "content", "category", "keywords", "created_at"],
    "pipeline_input": ["id", "source", "payload", "status", "error", "processed_at"],
}

ATTACHED = "/tmp/pysb-attach-api.db"
WRITES_COMMON = [
    "UPDATE users SET name = 'x'",
    "INSERT INTO users (id, name) VALUES (100, 'x')",
    "DELETE FROM users",
    "CREATE TABLE t (x INTEGER)",
]
WRITES_SQLITE = WRITES_COMMON + [
    f"ATTACH DATABASE '{ATTACHED}' AS other",
    "PRAGMA user_version = 3",
]
WRITES_POSTGRES = WRITES_COMMON


def create_sandbox(svc):
    st, _, body = svc.post_json("/sandbox/create", {})
    assert st == 201, body
    return json.loads(body)["sandbox_id"]


def pairs(raw):
    """The JSON text raw parsed with every object as its list of (key, value)
    pairs, in order and with repeats (json.loads would keep the last)."""
    return json.loads(raw, object_pairs_hook=list)


def error_of(raw):
    return json.loads(raw)["error"]


class ApiCases:
    """The cases both databases answer; a subclass sets svc, kind, writes,
    slow_sql, positional (a query and its list of parameters) and unchanged()."""

    svc = None
    sid = None  # a sandbox of svc for the cases that need any
    kind = ""
    writes = []
    slow_sql = ""
    positional = ("", [])

    def unchanged(self):
        raise NotImplementedError

    def query(self, body, sid=None, raw=None, timeout=60):
        """POST .../database/query; returns (status, headers, body bytes)."""
        return self.svc.post_json(f"/sandbox/{sid or self.sid}/database/query", body, raw=raw,
                                  timeout=timeout)

    def ok_query(self, body, sid=None):
        st, _, raw = self.query(body, sid)
        self.assertEqual(st, 200, raw)
        return json.loads(raw)

    def log(self, sid, limit=None):
        path = f"/sandbox/{sid}/database/log" + (f"?limit={limit}" if limit is not None else "")
        st, _, raw = self.svc.get(path)
        self.assertEqual(st, 200, raw)
        answer = json.loads(raw)
        self.assertEqual(answer["sandbox_id"], sid)
        return answer["queries"]

    def wait_log(self, sid, predicate, what):
        """The log once predicate(log) holds: the broker writes it after it answered."""
        return wait_for(lambda: (lambda q: q if predicate(q) else None)(self.log(sid)), 10, what)

    # --- 1. queries ---------------------------------------------------------------

    def test_named_and_positional_parameters(self):
        a = self.ok_query({"query": "SELECT id, name FROM users WHERE id = :id",
                           "params": {"id": 1}})
        self.assertIs(a["success"], True)
        self.assertEqual(a["columns"], ["id", "name"])
        self.assertEqual(a["rows"], [{"id": 1, "name": "Alice Martin"}])
        self.assertEqual(a["row_count"], 1)
        self.assertIs(a["truncated"], False)
        self.assertNotIn("truncated_reason", a)
        self.assertIsInstance(a["duration_ms"], (int, float))
        self.assertGreaterEqual(a["duration_ms"], 0)
        sql, params = self.positional
        a = self.ok_query({"query": sql, "params": params})
        self.assertEqual(a["rows"], [{"id": 2, "name": "Bob Nguyen"}])
        self.assertEqual(a["row_count"], 1)
        self.assertIs(a["truncated"], False)
        self.assertGreaterEqual(a["duration_ms"], 0)
        # No params at all, several rows, in order.
        a = self.ok_query({"query": "SELECT id FROM users WHERE id <= 3 ORDER BY id DESC"})
        self.assertEqual(a["rows"], [{"id": 3}, {"id": 2}, {"id": 1}])
        self.assertEqual(a["row_count"], 3)

    # --- 2. repeated column names ----------------------------------------------------

    def test_a_repeated_column_keeps_the_last_value(self):
        st, _, raw = self.query({"query": "SELECT 1 AS a, 2 AS a"})
        self.assertEqual(st, 200, raw)
        answer = dict(pairs(raw))
        self.assertEqual(answer["columns"], ["a", "a"])
        self.assertEqual(answer["rows"], [[("a", 2)]])  # one key a, the last value
        # The key stays where the name first was, with the value of its last.
        st, _, raw = self.query({"query": "SELECT 1 AS a, 2 AS b, 3 AS a"})
        self.assertEqual(st, 200, raw)
        self.assertEqual(dict(pairs(raw))["rows"], [[("a", 3), ("b", 2)]])

    # --- 3. the row cap --------------------------------------------------------------

    def test_the_row_cap_truncates_and_says_why(self):
        a = self.ok_query({"query": "SELECT id FROM user_activities ORDER BY id"})
        self.assertIs(a["truncated"], True)
        self.assertEqual(a["truncated_reason"], "rows")
        self.assertEqual(len(a["rows"]), MAX_ROWS)
        self.assertEqual(a["row_count"], MAX_ROWS)
        self.assertEqual(a["rows"][0], {"id": 1})
        a = self.ok_query({"query": f"SELECT id FROM user_activities WHERE id <= {MAX_ROWS}"})
        self.assertIs(a["truncated"], False)
        self.assertEqual(a["row_count"], MAX_ROWS)

    # --- 4. writes -------------------------------------------------------------------

    def test_writes_are_refused_and_nothing_changes(self):
        for sql in self.writes:
            with self.subTest(sql=sql):
                st, _, raw = self.query({"query": sql})
                self.assertEqual(st, 422, raw)
                e = error_of(raw)
                self.assertEqual(e["type"], "DatabaseReadOnly", e)
                self.assertTrue(e["message"], e)
        # With parameters too.
        st, _, raw = self.query({"query": "UPDATE users SET name = :n WHERE id = :id",
                                 "params": {"n": "x", "id": 1}})
        self.assertEqual((st, error_of(raw)["type"]), (422, "DatabaseReadOnly"), raw)
        self.unchanged()
        a = self.ok_query({"query": "SELECT name FROM users WHERE id = 1"})
        self.assertEqual(a["rows"], [{"name": "Alice Martin"}])

    # --- 5. errors -------------------------------------------------------------------

    def test_bad_sql_and_parameter_mismatches_are_database_errors(self):
        for body in ({"query": "SELECT nope FROM users"},
                     {"query": "SELEC 1"},
                     {"query": "SELECT * FROM no_such_table"},
                     {"query": "SELECT * FROM users WHERE id = :id"},
                     {"query": "SELECT * FROM users WHERE id = :id", "params": {"other": 1}}):
            with self.subTest(body=body):
                st, _, raw = self.query(body)
                self.assertEqual(st, 400, raw)
                e = error_of(raw)
                self.assertEqual(e["type"], "DatabaseError", e)
                self.assertTrue(e["message"], e)

    def test_a_slow_query_times_out(self):
        t = time.monotonic()
        st, _, raw = self.query({"query": self.slow_sql}, timeout=TIMEOUT_S + 30)
        elapsed = time.monotonic() - t
        self.assertEqual(st, 504, raw)
        self.assertEqual(error_of(raw)["type"], "DatabaseTimeout", raw)
        self.assertLess(elapsed, TIMEOUT_S + 4)
        # The connection is usable at once afterwards.
        self.assertEqual(self.ok_query({"query": "SELECT 1 AS one"})["rows"], [{"one": 1}])

    # --- 6. malformed bodies ---------------------------------------------------------

    def test_malformed_bodies_are_400_without_asking(self):
        cases = [
            ("no query", json.dumps({"params": {"id": 1}})),
            ("empty query", json.dumps({"query": ""})),
            ("query a number", json.dumps({"query": 5})),
            ("query null", json.dumps({"query": None})),
            ("unknown field", json.dumps({"query": "SELECT 1", "sql": "SELECT 1"})),
            ("params a number", json.dumps({"query": "SELECT :a", "params": 5})),
            ("params a string", json.dumps({"query": "SELECT :a", "params": "1"})),
            ("nested object", json.dumps({"query": "SELECT :a", "params": {"a": {"b": 1}}})),
            ("nested array", json.dumps({"query": "SELECT ?", "params": [[1]]})),
            ("broken JSON", '{"query": "SELECT 1"'),
            ("not an object", json.dumps(["SELECT 1"])),
            ("empty body", ""),
        ]
        for what, raw in cases:
            with self.subTest(what):
                st, _, out = self.query(None, raw=raw)
                self.assertEqual(st, 400, out)
                e = error_of(out)
                self.assertNotIn("type", e)  # refused by the front, not the database
                self.assertTrue(e["message"], e)

    def test_sql_over_256_kib_is_413(self):
        big = "SELECT 1 AS one -- " + "x" * (256 * 1024)
        st, _, raw = self.query({"query": big})
        self.assertEqual(st, 413, raw)
        # Just under the cap is read (and answered by the database).
        fits = "SELECT 1 AS one -- " + "x" * (256 * 1024 - len("SELECT 1 AS one -- "))
        self.assertEqual(self.ok_query({"query": fits})["rows"], [{"one": 1}])

    # --- 7. methods ------------------------------------------------------------------

    def test_wrong_methods_are_405(self):
        st, hdrs, raw = self.svc.get(f"/sandbox/{self.sid}/database/query")
        self.assertEqual(st, 405, raw)
        self.assertEqual(hdrs.get("allow"), "POST")
        for what in ("schema", "log"):
            with self.subTest(what):
                st, hdrs, raw = self.svc.post_json(f"/sandbox/{self.sid}/database/{what}", {})
                self.assertEqual(st, 405, raw)
                self.assertIn("GET", hdrs.get("allow", ""))
        st, _, raw = self.svc.request("DELETE", f"/sandbox/{self.sid}/database/query")
        self.assertEqual(st, 405, raw)
        st, _, raw = self.svc.get(f"/sandbox/{self.sid}/database/nothing")
        self.assertEqual(st, 404, raw)

    # --- 8. sandbox ids ------------------------------------------------------------

    def each_route(self, sid):
        """The statuses of query, schema and log for sandbox sid."""
        return [self.query({"query": "SELECT 1"}, sid)[0],
                self.svc.get(f"/sandbox/{sid}/database/schema")[0],
                self.svc.get(f"/sandbox/{sid}/database/schema?table=users")[0],
                self.svc.get(f"/sandbox/{sid}/database/log")[0]]

    def test_unknown_deleted_and_previous_executor_ids(self):
        for bad in ("nope", "0" * 31, "g" * 32, self.sid.upper() + "0"):
            with self.subTest(bad=bad):
                self.assertEqual(self.each_route(bad), [404] * 4)
        sid = create_sandbox(self.svc)
        self.assertEqual(self.each_route(sid), [200] * 4)
        st, _, raw = self.svc.request("DELETE", f"/sandbox/{sid}")
        self.assertEqual(st, 200, raw)
        self.assertEqual(self.each_route(sid), [404] * 4)
        # Same boot tag, never made: 404.
        never = self.sid[:8] + format(int(self.sid[8:], 16) ^ 0x5A5A5A, "024x")
        self.assertEqual(self.each_route(never), [404] * 4)
        # Another boot tag (an executor that restarted since): 410.
        other = format(int(self.sid[:8], 16) ^ 0xFFFFFFFF, "08x") + self.sid[8:]
        self.assertEqual(self.each_route(other), [410] * 4)
        st, _, raw = self.query({"query": "SELECT 1"}, other)
        self.assertEqual(error_of(raw)["code"], "ended", raw)

    # --- 9. schema -------------------------------------------------------------------

    def test_schema_lists_the_seed(self):
        st, _, raw = self.svc.get(f"/sandbox/{self.sid}/database/schema")
        self.assertEqual(st, 200, raw)
        s = json.loads(raw)
        self.assertEqual(s["database"], self.kind)
        self.assertIs(s["tables_truncated"], False)
        tables = {t["name"]: t["columns"] for t in s["tables"]}
        for name, columns in SEED_COLUMNS.items():
            with self.subTest(table=name):
                self.assertIn(name, tables)
                self.assertEqual([c["name"] for c in tables[name]], columns)
        users = {c["name"]: c for c in tables["users"]}
        self.assertEqual(users["id"]["key"], "primary")
        self.assertIsNone(users["name"]["key"])

    def test_schema_of_one_table(self):
        st, _, raw = self.svc.get(f"/sandbox/{self.sid}/database/schema?table=users")
        self.assertEqual(st, 200, raw)
        s = json.loads(raw)
        self.assertEqual(set(s), {"table", "columns"})
        self.assertEqual(s["table"], "users")
        by_name = {c["name"]: c for c in s["columns"]}
        self.assertEqual(list(by_name), SEED_COLUMNS["users"])
        self.assertEqual(by_name["id"]["key"], "primary")
        self.assertIs(by_name["name"]["nullable"], False)
        self.assertIs(by_name["email"]["nullable"], True)
        for name in ("no_such_table", "users%3B%20DROP%20TABLE%20users"):
            with self.subTest(table=name):
                st, _, raw = self.svc.get(f"/sandbox/{self.sid}/database/schema?table={name}")
                self.assertEqual(st, 404, raw)
        st, _, raw = self.svc.get(f"/sandbox/{self.sid}/database/schema?table=")
        self.assertEqual(st, 400, raw)
        self.unchanged()

    # --- 10. the log -----------------------------------------------------------------

    def test_the_log_shows_jail_and_api_queries_newest_first(self):
        sid, other = create_sandbox(self.svc), create_sandbox(self.svc)
        self.assertEqual(self.log(sid), [])
        jail_sql = "SELECT name FROM users WHERE id = :id"
        api_sql = "SELECT email FROM users WHERE id = :id"
        st, _, raw = self.svc.post_json(f"/sandbox/{sid}/execute", {"code": textwrap.dedent(f"""
            rows = db_query({jail_sql!r}, {{"id": 1}})
            print(rows[0]["name"])
            """)}, timeout=90)
        a = json.loads(raw)
        self.assertEqual((st, a["status"], a["output"]), (200, "ok", "Alice Martin\n"), a)
        self.wait_log(sid, lambda q: len(q) >= 1, "the jail's query in the log")
        self.assertEqual(self.ok_query({"query": api_sql, "params": {"id": 2}}, sid)["rows"],
                         [{"email": "bob@example.com"}])
        log = self.wait_log(sid, lambda q: len(q) >= 2, "the API's query in the log")
        self.assertEqual(len(log), 2, log)
        newest, oldest = log
        self.assertEqual((newest["origin"], newest["query"]), ("api", api_sql), log)
        self.assertEqual((oldest["origin"], oldest["query"]), ("jail", jail_sql), log)
        for entry in log:
            self.assertEqual(entry["op"], "query", entry)
            self.assertEqual(entry["params"], {"id": "int"}, entry)  # the shape, not the value
            self.assertEqual(entry["outcome"], "ok", entry)
            self.assertEqual(entry["rows"], 1, entry)
            self.assertIs(entry["truncated"], False, entry)
            self.assertGreaterEqual(entry["duration_ms"], 0, entry)
        self.assertGreaterEqual(newest["at"], oldest["at"])
        # A refused write is logged with its error's type.
        write = "DELETE FROM users WHERE id = :id"
        st, _, raw = self.query({"query": write, "params": {"id": 3}}, sid)
        self.assertEqual(st, 422, raw)
        log = self.wait_log(sid, lambda q: len(q) >= 3, "the refused write in the log")
        self.assertEqual((log[0]["query"], log[0]["origin"], log[0]["outcome"]),
                         (write, "api", "DatabaseReadOnly"), log[0])
        self.assertEqual(log[0]["params"], {"id": "int"})
        self.assertTrue(log[0]["message"], log[0])
        # Positional parameters are logged as a list of types.
        sql, params = self.positional
        self.ok_query({"query": sql, "params": params}, sid)
        log = self.wait_log(sid, lambda q: len(q) >= 4, "the positional query in the log")
        self.assertEqual((log[0]["query"], log[0]["params"]), (sql, ["int"]), log[0])
        # Another sandbox's log has only its own.
        self.assertEqual(self.log(other), [])
        self.ok_query({"query": "SELECT 42 AS answer"}, other)
        olog = self.wait_log(other, lambda q: len(q) >= 1, "the other sandbox's query")
        self.assertEqual([e["query"] for e in olog], ["SELECT 42 AS answer"])
        self.assertIsNone(olog[0]["params"])
        self.assertEqual(len(self.log(sid)), 4)
        # limit
        self.assertEqual([e["query"] for e in self.log(sid, limit=1)], [sql])
        self.assertEqual(len(self.log(sid, limit=3)), 3)
        for bad in ("0", "-1", "x", "100000", ""):
            with self.subTest(limit=bad):
                st, _, raw = self.svc.get(f"/sandbox/{sid}/database/log?limit={bad}")
                self.assertEqual(st, 400, raw)


class SqliteApiTests(ApiCases, unittest.TestCase):
    kind = "sqlite"
    writes = WRITES_SQLITE
    slow_sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT count(*) FROM c")
    positional = ("SELECT id, name FROM users WHERE id = ?", [2])

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pysb-agentdb-api-")
        os.chmod(cls.dir, 0o755)
        cls.db = os.path.join(cls.dir, "agent.db")
        pgcluster.seed_sqlite(cls.db)
        os.chmod(cls.db, 0o644)
        cls.digest = pgcluster.file_sha256(cls.db)
        cls.svc = Service(env={"PYSANDBOX_AGENT_DB": cls.db,
                               "PYSANDBOX_AGENT_DB_MAX_ROWS": str(MAX_ROWS),
                               "PYSANDBOX_AGENT_DB_TIMEOUT": str(TIMEOUT_S)}).start()
        try:
            cls.svc.wait_warm()
            cls.sid = create_sandbox(cls.svc)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()
        for name in os.listdir(cls.dir):
            os.unlink(os.path.join(cls.dir, name))
        os.rmdir(cls.dir)

    def unchanged(self):
        self.assertEqual(pgcluster.file_sha256(self.db), self.digest, "the SQLite file changed")
        self.assertEqual(sorted(os.listdir(self.dir)), ["agent.db"])
        self.assertFalse(os.path.exists(ATTACHED))

    # --- 12. MCP (SQLite only, to keep the time down) ------------------------------

    def rpc(self, message, session=None):
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if session:
            h["Mcp-Session-Id"] = session
        st, hdrs, out = self.svc.request("POST", "/mcp", json.dumps(message), h)
        return st, hdrs, (json.loads(out) if out else None)

    def mcp_session(self):
        st, hdrs, body = self.rpc({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                   "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                              "clientInfo": {"name": "t", "version": "1"}}})
        self.assertEqual(st, 200, body)
        self.assertIn("db_query", body["result"]["instructions"])
        return hdrs["mcp-session-id"]

    def call(self, session, name, arguments, id_=1):
        st, _, body = self.rpc({"jsonrpc": "2.0", "id": id_, "method": "tools/call",
                                "params": {"name": name, "arguments": arguments}}, session)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["id"], id_, body)
        return body

    def test_mcp_db_query(self):
        session = self.mcp_session()
        sql = "SELECT id, name FROM users WHERE id = :id"
        sid = create_sandbox(self.svc)
        for i, extra in enumerate(({}, {"sandbox_id": None}, {"sandbox_id": sid})):
            with self.subTest(extra=extra):
                body = self.call(session, "db_query",
                                 dict({"query": sql, "params": {"id": 1}}, **extra), id_=10 + i)
                result = body["result"]
                self.assertIs(result["isError"], False, result)
                sc = result["structuredContent"]
                self.assertEqual(sc["rows"], [{"id": 1, "name": "Alice Martin"}])
                self.assertEqual((sc["row_count"], sc["truncated"]), (1, False))
                self.assertEqual(json.loads(result["content"][0]["text"]), sc)
        # Only the call with the sandbox is in its log, as the API's.
        log = self.wait_log(sid, lambda q: len(q) >= 1, "the MCP query in the sandbox's log")
        self.assertEqual([(e["query"], e["origin"]) for e in log], [(sql, "api")])
        # Positional parameters, and the row cap.
        body = self.call(session, "db_query", {"query": "SELECT name FROM users WHERE id = ?",
                                               "params": [3]})
        self.assertEqual(body["result"]["structuredContent"]["rows"], [{"name": "Chloé Dubois"}])
        body = self.call(session, "db_query", {"query": "SELECT id FROM user_activities"})
        sc = body["result"]["structuredContent"]
        self.assertEqual((len(sc["rows"]), sc["truncated"], sc["truncated_reason"]),
                         (MAX_ROWS, True, "rows"))

    def test_mcp_db_query_errors_are_tool_errors(self):
        session = self.mcp_session()
        sid = create_sandbox(self.svc)
        for extra in ({}, {"sandbox_id": sid}):
            with self.subTest(extra=extra):
                body = self.call(session, "db_query",
                                 dict({"query": "DELETE FROM users"}, **extra))
                result = body["result"]
                self.assertIs(result["isError"], True, result)
                self.assertNotIn("structuredContent", result)
                text = result["content"][0]["text"]
                self.assertIn("DatabaseReadOnly", text)
                self.assertIn("HTTP 422", text)
        body = self.call(session, "db_query", {"query": "SELECT nope FROM users"})
        self.assertIs(body["result"]["isError"], True)
        self.assertIn("DatabaseError", body["result"]["content"][0]["text"])
        body = self.call(session, "db_query", {"query": 5})
        self.assertIs(body["result"]["isError"], True)
        self.assertIn("HTTP 400", body["result"]["content"][0]["text"])
        body = self.call(session, "db_query", {"query": "SELECT 1", "sandbox_id": "nope"})
        self.assertEqual(body["error"]["code"], -32602, body)
        deleted = create_sandbox(self.svc)
        self.assertEqual(self.svc.request("DELETE", f"/sandbox/{deleted}")[0], 200)
        body = self.call(session, "db_query", {"query": "SELECT 1", "sandbox_id": deleted})
        self.assertIs(body["result"]["isError"], True)
        self.assertIn("HTTP 404", body["result"]["content"][0]["text"])
        self.unchanged()

    def test_mcp_db_schema(self):
        session = self.mcp_session()
        body = self.call(session, "db_schema", {})
        result = body["result"]
        self.assertIs(result["isError"], False, result)
        sc = result["structuredContent"]
        self.assertEqual(sc["database"], "sqlite")
        tables = {t["name"]: t["columns"] for t in sc["tables"]}
        for name, columns in SEED_COLUMNS.items():
            self.assertEqual([c["name"] for c in tables[name]], columns, name)
        body = self.call(session, "db_schema", {"table": "users", "sandbox_id": self.sid})
        sc = body["result"]["structuredContent"]
        self.assertEqual(sc["table"], "users")
        self.assertEqual([c["name"] for c in sc["columns"]], SEED_COLUMNS["users"])
        body = self.call(session, "db_schema", {"table": "no such table"})
        self.assertIs(body["result"]["isError"], True)
        self.assertIn("HTTP 404", body["result"]["content"][0]["text"])


class PostgresApiTests(ApiCases, unittest.TestCase):
    kind = "postgresql"
    writes = WRITES_POSTGRES
    slow_sql = "SELECT pg_sleep(30)"
    positional = ("SELECT id, name FROM users WHERE id = $1", [2])

    @classmethod
    def setUpClass(cls):
        cls.cluster = pgcluster.PgCluster()
        try:
            cls.snapshot = pgcluster.data_fingerprint(cls.cluster)
            # The owner role: the broker's read-only transactions are the
            # boundary under test, not the grants.
            cls.svc = Service(env={"PYSANDBOX_AGENT_DB": cls.cluster.url,
                                   "PYSANDBOX_AGENT_DB_MAX_ROWS": str(MAX_ROWS),
                                   "PYSANDBOX_AGENT_DB_TIMEOUT": str(TIMEOUT_S)}).start()
        except BaseException:
            cls.cluster.stop()
            raise
        try:
            cls.svc.wait_warm()
            cls.sid = create_sandbox(cls.svc)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()
        cls.cluster.stop()

    def unchanged(self):
        self.assertEqual(pgcluster.data_fingerprint(self.cluster), self.snapshot,
                         "the PostgreSQL data changed")


class NotConfiguredApiTests(unittest.TestCase):
    """Without PYSANDBOX_AGENT_DB: 503 DatabaseNotConfigured, an empty log."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service(env={"PYSANDBOX_WORKERS": "4", "PYSANDBOX_STREAM_WORKERS": "1",
                               "PYSANDBOX_POOL_SIZE": "1"}).start()
        try:
            cls.svc.wait_warm()
            cls.sid = create_sandbox(cls.svc)
        except BaseException:
            cls.svc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_query_and_schema_are_503(self):
        for method, path, body in (
                ("POST", "database/query", json.dumps({"query": "SELECT 1"})),
                ("GET", "database/schema", None),
                ("GET", "database/schema?table=users", None)):
            with self.subTest(path=path):
                st, _, raw = self.svc.request(method, f"/sandbox/{self.sid}/{path}", body,
                                              {"Content-Type": "application/json"})
                self.assertEqual(st, 503, raw)
                e = error_of(raw)
                self.assertEqual(e["type"], "DatabaseNotConfigured", e)
                self.assertIn("PYSANDBOX_AGENT_DB", e["message"])

    def test_the_log_is_empty(self):
        st, _, raw = self.svc.get(f"/sandbox/{self.sid}/database/log")
        self.assertEqual(st, 200, raw)
        self.assertEqual(json.loads(raw), {"sandbox_id": self.sid, "queries": []})

    def test_an_unknown_sandbox_is_still_404(self):
        never = self.sid[:8] + format(int(self.sid[8:], 16) ^ 0x5A5A5A, "024x")
        for method, path in (("POST", "database/query"), ("GET", "database/schema"),
                             ("GET", "database/log")):
            with self.subTest(path=path):
                st, _, raw = self.svc.request(method, f"/sandbox/{never}/{path}",
                                              json.dumps({"query": "SELECT 1"})
                                              if method == "POST" else None,
                                              {"Content-Type": "application/json"})
                self.assertEqual(st, 404, raw)
                self.assertNotIn("type", error_of(raw))


if __name__ == "__main__":
    unittest.main()
