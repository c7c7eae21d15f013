"""Read-only database access from jailed code, through the broker (issue 12).

Two services: one given a SQLite file seeded from tests/data/agent_seed.sql,
one given a throwaway PostgreSQL cluster seeded from the same file
(tests/http/pgcluster.py).  The same tests run against both: the seed's
three use cases, every kind of write refused with the database unchanged
(byte for byte for SQLite), limits, and hostile programs that forge broker
frames, flood queries and send huge parameters.
"""
import concurrent.futures
import json
import os
import tempfile
import textwrap
import unittest

from tests.http import pgcluster
from tests.http.service import Service

# Set for the services below (small enough to test quickly).
MAX_ROWS = 40
TIMEOUT_S = 1


def create_sandbox(svc):
    st, _, body = svc.post_json("/sandbox/create", {})
    assert st == 201, body
    return json.loads(body)["sandbox_id"]


def run_in(svc, sid, code, timeout=90):
    st, _, body = svc.post_json(f"/sandbox/{sid}/execute", {"code": textwrap.dedent(code)},
                                timeout=timeout)
    return st, json.loads(body)


def run_once(svc, code, timeout=90):
    st, _, body = svc.post_json("/api/python/execute",
                                {"code": textwrap.dedent(code),
                                 "requirements": {"preferredEngine": "native"}}, timeout=timeout)
    return st, json.loads(body)


ACTIVITY_ANALYSIS = """
import pandas as pd
rows = await db_query(
    "SELECT u.name, a.action, a.duration_seconds FROM user_activities a "
    "JOIN users u ON u.id = a.user_id WHERE u.id = :id", {"id": 1})
df = pd.DataFrame(rows)
summary = df.groupby("action")["duration_seconds"].agg(["count", "mean"]).round(2)
print(summary.to_string())
__result__ = {"activities": len(df), "actions": sorted(df["action"].unique().tolist())}
"""

KNOWLEDGE_EXTRACTION = """
import re
from collections import Counter
docs = await db_query("SELECT id, title, content FROM documents ORDER BY id")
words = Counter()
for d in docs:
    words.update(w for w in re.findall(r"[a-z]{5,}", d["content"].lower()))
top = [w for w, _ in words.most_common(5)]
print("top words:", top)
try:
    await db_query("UPDATE documents SET keywords = :k WHERE id = :id",
                   {"k": ",".join(top), "id": docs[0]["id"]})
    refused = None
except DatabaseReadOnly as e:
    refused = str(e)
__result__ = {"documents": len(docs), "top": top, "refused": refused}
"""

PIPELINE_DEBUGGING = """
import json
failed = await db_query("SELECT id, source, payload, error FROM pipeline_input "
                        "WHERE status = :s ORDER BY id", {"s": "failed"})
broken = []
for row in failed:
    try:
        json.loads(row["payload"])
    except ValueError as e:
        broken.append({"id": row["id"], "why": str(e)[:40]})
print(f"{len(failed)} failed rows, {len(broken)} with malformed JSON")
schema = await db_schema("pipeline_input")
__result__ = {"failed": len(failed), "broken": [b["id"] for b in broken],
              "columns": [c["name"] for c in schema]}
"""

# Writes and escapes, each of which must raise DatabaseReadOnly.
WRITES_COMMON = [
    "UPDATE users SET name = 'x'",
    "INSERT INTO users (id, name) VALUES (100, 'x')",
    "DELETE FROM users",
    "DROP TABLE users",
    "CREATE TABLE t (x INTEGER)",
    "CREATE TEMP TABLE t (x INTEGER)",
    "ALTER TABLE users ADD COLUMN y INTEGER",
]
WRITES_SQLITE = WRITES_COMMON + [
    "ATTACH DATABASE '/tmp/pysb-attach.db' AS other",
    "PRAGMA query_only = 0",
    "PRAGMA user_version = 7",
    "PRAGMA journal_mode = DELETE",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "SELECT load_extension('/tmp/x')",
    "BEGIN IMMEDIATE",
    "WITH x AS (SELECT 1) UPDATE users SET name = 'y'",
]
WRITES_POSTGRES = WRITES_COMMON + [
    "WITH x AS (UPDATE users SET name = 'y' RETURNING id) SELECT * FROM x",
    "SELECT * FROM users FOR UPDATE",
    "TRUNCATE users",
    "CREATE INDEX ix ON users (name)",
]


class DatabaseCases:
    """The tests both databases answer; a subclass sets svc, kind, writes and unchanged()."""

    svc = None
    kind = ""
    writes = []

    def unchanged(self):
        raise NotImplementedError

    # --- the seed's use cases, as written ---------------------------------------

    def test_activity_analysis(self):
        sid = create_sandbox(self.svc)
        st, a = run_in(self.svc, sid, ACTIVITY_ANALYSIS)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertGreater(a["result"]["activities"], 0)
        self.assertIn("count", a["output"])

    def test_knowledge_extraction_reads_and_its_update_is_refused(self):
        sid = create_sandbox(self.svc)
        st, a = run_in(self.svc, sid, KNOWLEDGE_EXTRACTION)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertGreater(a["result"]["documents"], 0)
        self.assertEqual(len(a["result"]["top"]), 5)
        self.assertIn("read-only", a["result"]["refused"])
        self.unchanged()

    def test_pipeline_debugging(self):
        sid = create_sandbox(self.svc)
        st, a = run_in(self.svc, sid, PIPELINE_DEBUGGING)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertGreater(a["result"]["failed"], 0)
        self.assertGreater(len(a["result"]["broken"]), 0)
        self.assertIn("payload", a["result"]["columns"])

    # --- the functions --------------------------------------------------------------

    def test_functions_return_values_with_or_without_await(self):
        st, a = run_once(self.svc, """
            plain = db_query("SELECT id, name FROM users WHERE id = :id", {"id": 2})
            awaited = await db_query("SELECT id, name FROM users WHERE id = :id", {"id": 2})
            tables = db_tables()
            columns = await db_schema("users")
            __result__ = {"same": plain == awaited, "row": plain[0], "cols": list(plain.columns),
                          "tables": list(tables), "schema": columns}
            """)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        r = a["result"]
        self.assertTrue(r["same"])
        self.assertEqual(r["row"]["id"], 2)
        self.assertEqual(r["cols"], ["id", "name"])
        for t in ("users", "user_activities", "documents", "pipeline_input"):
            self.assertIn(t, r["tables"])
        by_name = {c["name"]: c for c in r["schema"]}
        self.assertEqual(by_name["id"]["key"], "primary")
        self.assertFalse(by_name["name"]["nullable"])
        self.assertTrue(by_name["email"]["nullable"])

    def test_values_keep_their_types(self):
        st, a = run_once(self.svc, """
            rows = db_query("SELECT * FROM type_samples ORDER BY id")
            __result__ = [{k: [type(v).__name__, v] for k, v in r.items()} for r in rows]
            """)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        flat = [cell for row in a["result"] for cell in row.values()]
        self.assertIn(["int", 9007199254740993], flat)  # beyond 2**53, exact
        self.assertIn(["str", "naïve — ünïcode"], flat)
        self.assertIn(["NoneType", None], flat)

    def test_row_cap_truncates_and_says_so(self):
        st, a = run_once(self.svc, """
            rows = db_query("SELECT * FROM user_activities")
            __result__ = [len(rows), rows.truncated, rows.row_count]
            """)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertEqual(a["result"], [MAX_ROWS, True, MAX_ROWS])

    def test_every_write_is_refused_and_nothing_changes(self):
        code = textwrap.dedent("""
            out = {}
            for sql in %r:
                try:
                    db_query(sql)
                    out[sql] = "ran"
                except DatabaseReadOnly:
                    out[sql] = "read-only"
                except DatabaseError as e:
                    out[sql] = type(e).__name__ + ": " + str(e)
            __result__ = out
            """) % (self.writes,)
        st, a = run_once(self.svc, code)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        for sql in self.writes:
            self.assertEqual(a["result"][sql], "read-only", sql)
        self.unchanged()

    def test_errors_are_clear(self):
        st, a = run_once(self.svc, """
            out = []
            for call in (lambda: db_query("SELECT nope FROM users"),
                         lambda: db_query("SELECT 1; SELECT 2"),
                         lambda: db_query("SELECT * FROM users WHERE id = :id"),
                         lambda: db_query("SELECT 1", {"x": [1, 2]}),
                         lambda: db_schema("no_such_table")):
                try:
                    call()
                    out.append("ran")
                except DatabaseError as e:
                    out.append(type(e).__name__)
            __result__ = out
            """)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertEqual(a["result"], ["DatabaseError"] * 5)

    def test_a_slow_query_stops_at_the_time_cap(self):
        st, a = run_once(self.svc, """
            import time
            t = time.monotonic()
            try:
                db_query(%r)
                out = "ran"
            except DatabaseTimeout as e:
                out = "timeout"
            __result__ = [out, time.monotonic() - t]
            """ % (self.slow_sql,))
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertEqual(a["result"][0], "timeout")
        self.assertLess(a["result"][1], TIMEOUT_S + 4)

    def test_threads_query_one_at_a_time(self):
        st, a = run_once(self.svc, """
            import threading
            got = []
            def worker(i):
                got.append(db_query("SELECT id FROM users WHERE id = :id", {"id": i})[0]["id"])
            ts = [threading.Thread(target=worker, args=(i,)) for i in range(1, 5)]
            [t.start() for t in ts]
            [t.join() for t in ts]
            __result__ = sorted(got)
            """)
        self.assertEqual((st, a["status"], a["result"]), (200, "ok", [1, 2, 3, 4]), a)

    # --- hostile programs -----------------------------------------------------------

    def test_forged_frames(self):
        # A frame of garbage JSON is answered with an error; the run goes on.
        st, a = run_once(self.svc, """
            import os, struct, json
            def raw(payload):
                os.write(3, struct.pack("<I", 0x80000000 | len(payload)) + payload)
                (n,) = struct.unpack("<I", os.read(3, 4))
                buf = b""
                while len(buf) < n:
                    buf += os.read(3, n - len(buf))
                return json.loads(buf)
            answers = [raw(b"{not json"), raw(b'{"op":"query","sql":"SELECT 1","extra":1}'),
                       raw(b'{"op":"drop"}'), raw(b'[]'), raw(b'{"op":"query","sql":"\\\\u0000"}')]
            __result__ = [x["ok"] for x in answers] + [db_query("SELECT 1 AS one")[0]["one"]]
            """)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertEqual(a["result"], [False] * 5 + [1])
        # A frame longer than the cap breaks the channel: the run has no
        # result (EngineError), its output is kept, and only the run suffers.
        st, a = run_once(self.svc, """
            import os, struct
            os.write(3, struct.pack("<I", 0x80000000 | 0x7fffffff) + b"{}")
            print("still here")
            """)
        self.assertEqual(st, 200, a)
        self.assertEqual((a["status"], a["error"]["type"]), ("error", "EngineError"), a)
        self.assertEqual(a["output"], "still here\n")
        st, a = run_once(self.svc, "print(len(db_tables()) > 0)")
        self.assertEqual(a["output"], "True\n", a)

    def test_huge_parameters_are_refused(self):
        st, a = run_once(self.svc, """
            try:
                db_query("SELECT :x", {"x": "y" * (2 * 1024 * 1024)})
                out = "ran"
            except DatabaseLimit as e:
                out = "limit"
            __result__ = out
            """)
        self.assertEqual((st, a["status"], a["result"]), (200, "ok", "limit"), a)

    def test_a_flood_of_queries_is_answered_then_capped(self):
        st, a = run_once(self.svc, """
            n = 0
            try:
                while True:
                    db_query("SELECT 1")
                    n += 1
            except DatabaseLimit as e:
                __result__ = [n, str(e)]
            """, timeout=120)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertEqual(a["result"][0], 10000)  # DBW_MAX_QUERIES_PER_JOB
        self.unchanged()

    def test_sandboxes_query_at_the_same_time(self):
        sids = [create_sandbox(self.svc) for _ in range(3)]
        code = "__result__ = len(db_query('SELECT * FROM users'))"
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda s: run_in(self.svc, s, code), sids))
        for st, a in answers:
            self.assertEqual((st, a["status"], a["result"]), (200, "ok", 9), a)


class SqliteTests(DatabaseCases, unittest.TestCase):
    kind = "sqlite"
    writes = WRITES_SQLITE
    slow_sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT count(*) FROM c")

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pysb-agentdb-")
        os.chmod(cls.dir, 0o755)
        cls.db = os.path.join(cls.dir, "agent.db")
        pgcluster.seed_sqlite(cls.db)
        os.chmod(cls.db, 0o644)
        cls.digest = pgcluster.file_sha256(cls.db)
        cls.svc = Service(env={"PYSANDBOX_AGENT_DB": cls.db,
                               "PYSANDBOX_AGENT_DB_MAX_ROWS": str(MAX_ROWS),
                               "PYSANDBOX_AGENT_DB_TIMEOUT": str(TIMEOUT_S)}).start()
        cls.svc.wait_warm()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()
        for name in os.listdir(cls.dir):
            os.unlink(os.path.join(cls.dir, name))
        os.rmdir(cls.dir)

    def unchanged(self):
        self.assertEqual(pgcluster.file_sha256(self.db), self.digest, "the SQLite file changed")
        self.assertEqual(sorted(os.listdir(self.dir)), ["agent.db"])
        self.assertFalse(os.path.exists("/tmp/pysb-attach.db"))


class PostgresTests(DatabaseCases, unittest.TestCase):
    kind = "postgresql"
    writes = WRITES_POSTGRES
    slow_sql = "SELECT pg_sleep(30)"

    @classmethod
    def setUpClass(cls):
        cls.cluster = pgcluster.PgCluster()
        cls.snapshot = pgcluster.data_fingerprint(cls.cluster)
        # The admin role: the broker's read-only transactions are the boundary
        # under test, not the grants (a SELECT-only role is the advice on top).
        cls.svc = Service(env={"PYSANDBOX_AGENT_DB": cls.cluster.url,
                               "PYSANDBOX_AGENT_DB_MAX_ROWS": str(MAX_ROWS),
                               "PYSANDBOX_AGENT_DB_TIMEOUT": str(TIMEOUT_S)}).start()
        cls.svc.wait_warm()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()
        cls.cluster.stop()

    def unchanged(self):
        self.assertEqual(pgcluster.data_fingerprint(self.cluster), self.snapshot,
                         "the PostgreSQL data changed")


class NotConfiguredTests(unittest.TestCase):
    """Without PYSANDBOX_AGENT_DB the functions say so (the sandbox suite's service)."""

    @classmethod
    def setUpClass(cls):
        cls.svc = Service().start()
        cls.svc.wait_warm()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_functions_raise_not_configured(self):
        st, a = run_once(self.svc, """
            try:
                db_tables()
            except DatabaseNotConfigured as e:
                __result__ = str(e)
            """)
        self.assertEqual((st, a["status"]), (200, "ok"), a)
        self.assertIn("PYSANDBOX_AGENT_DB", a["result"])


if __name__ == "__main__":
    unittest.main()
