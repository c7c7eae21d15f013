"""The database layer (cgi/dbbroker/dbq*.c) on its own, against PostgreSQL.

Each request goes through build/<variant>/tests/dbq_run, which opens the
database as the broker does, serves one request JSON from stdin and prints
the answer object: so every test sees what a jailed program would.  The
module starts one throwaway cluster (tests/http/pgcluster.py) seeded from
tests/data/agent_seed.sql, and is skipped without PostgreSQL's server
binaries.  cluster.url's role owns the tables and may write them, so the
broker's read-only transactions are what stops every kind of write here:
each must come back DatabaseReadOnly with the data unchanged, whatever the
statement tries.  A superuser's URL is refused outright.

dbq_run --lines serves many requests on one connection, as a broker
thread does: Session checks that a request leaves nothing in the session
(advisory locks, settings, a changed role) for the next one.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from tests.http.pgcluster import OWNER, PgCluster, seed_sqlite

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("PYSANDBOX_BUILD_DIR", os.path.join(ROOT, "build", "rel"))
DBQ_RUN = os.path.join(BUILD, "tests", "dbq_run")

cluster = None


def setUpModule():
    global cluster
    cluster = PgCluster()
    try:
        if not os.access(DBQ_RUN, os.X_OK):
            raise RuntimeError(f"{DBQ_RUN} is missing: build it first (make build)")
        # Owned by the role of cluster.url, which may write them but for the
        # broker's read-only transactions.
        cluster.run_sql("""
            CREATE SEQUENCE agent_seq;
            CREATE VIEW active_users AS SELECT id, name FROM users WHERE active;
            CREATE SCHEMA hidden;
            CREATE TABLE hidden.secret (x int);
            GRANT SELECT ON active_users TO agent_ro;
            """, role=OWNER)
    except BaseException:
        cluster.stop()
        raise


def tearDownModule():
    if cluster is not None:
        cluster.stop()


def ask(request, target=None, rows=None, max_bytes=None, timeout_ms=None):
    """Serves request (a dict) with dbq_run; returns the answer object."""
    argv = [DBQ_RUN, target or cluster.url]
    if (rows, max_bytes, timeout_ms) != (None, None, None):
        argv += [str(rows if rows is not None else 10000),
                 str(max_bytes if max_bytes is not None else 8 << 20),
                 str(timeout_ms if timeout_ms is not None else 5000)]
    p = subprocess.run(argv, input=json.dumps(request).encode(), capture_output=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"dbq_run exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return json.loads(p.stdout)


def query(sql, params=None, **kw):
    request = {"op": "query", "sql": sql}
    if params is not None:
        request["params"] = params
    return ask(request, **kw)


def raw_query(sql, params=None):
    """The answer's text as dbq_run printed it (to see numbers' digits)."""
    request = {"op": "query", "sql": sql}
    if params is not None:
        request["params"] = params
    p = subprocess.run([DBQ_RUN, cluster.url], input=json.dumps(request).encode(),
                       capture_output=True, timeout=30, check=True)
    return p.stdout.decode()


def fingerprint():
    """Everything the write tests could have changed, as one string."""
    return cluster.run_sql("""
        SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u;
        SELECT count(*), md5(string_agg(a::text, ',' ORDER BY id)) FROM user_activities a;
        SELECT count(*) FROM pg_class WHERE relname IN ('evil', 'evil2');
        SELECT last_value, is_called FROM agent_seq;
        SELECT count(*) FROM pg_largeobject_metadata;
        """)


class DbTestCase(unittest.TestCase):
    def ok(self, answer):
        self.assertIs(answer.get("ok"), True, answer)
        return answer

    def fails(self, answer, kind, contains=None):
        self.assertIs(answer.get("ok"), False, answer)
        self.assertEqual(answer["error"]["type"], kind, answer)
        if contains is not None:
            self.assertIn(contains, answer["error"]["message"])
        return answer["error"]["message"]


class Parameters(DbTestCase):
    def test_named_parameter(self):
        a = self.ok(query("SELECT name, email FROM users WHERE id = :id", {"id": 3}))
        self.assertEqual(a["columns"], ["name", "email"])
        self.assertEqual(a["rows"], [["Chloé Dubois", "chloe@example.fr"]])
        self.assertEqual(a["row_count"], 1)
        self.assertIs(a["truncated"], False)
        self.assertNotIn("truncated_reason", a)

    def test_positional_parameter(self):
        a = self.ok(query("SELECT name FROM users WHERE id = $1", [2]))
        self.assertEqual(a["rows"], [["Bob Nguyen"]])

    def test_a_name_used_twice_casts_and_unused_names(self):
        a = self.ok(query("SELECT :n::int + 1 AS a, name FROM users WHERE id = :n", {"n": 1, "unused": 5}))
        self.assertEqual(a["rows"], [[2, "Alice Martin"]])

    def test_what_only_looks_like_a_name_is_left_alone(self):
        sql = ("SELECT ':a' AS s, 'it''s :b' AS q, E'it\\'s :c' AS e, $$ :d $$ AS d,"
               " $t$ it's :e $t$ AS t, \":f\" AS v, :real AS r -- :g\n"
               " FROM (SELECT 1 AS \":f\") x /* :h /* nested :i */ :j */")
        a = self.ok(query(sql, {"real": "yes"}))
        self.assertEqual(a["columns"], ["s", "q", "e", "d", "t", "v", "r"])
        self.assertEqual(a["rows"], [[":a", "it's :b", "it's :c", " :d ", " it's :e ", 1, "yes"]])
        # A $ inside a word opens no dollar quote.
        a = self.ok(query("SELECT 1 AS a$b$, :v AS v", {"v": "x"}))
        self.assertEqual((a["columns"], a["rows"]), (["a$b$", "v"], [[1, "x"]]))

    def test_values_go_as_text_of_unknown_type(self):
        # The server infers each parameter's type from where it stands (once
        # per name: a name is one $n); alone in a select list it is text.
        a = self.ok(query("SELECT :v AS v, :w::int + 1 AS w, :x + 1 AS x",
                          {"v": 2, "w": 2, "x": 2}))
        self.assertEqual(a["rows"], [["2", 3, 3]])
        self.fails(query("SELECT :v AS v, :v::int + 1 AS w", {"v": 2}), "DatabaseError",
                   "inconsistent types deduced for parameter :v")

    def test_a_missing_named_parameter(self):
        self.fails(query("SELECT :nope", {}), "DatabaseError", "no value for parameter :nope")
        self.fails(query("SELECT :id, :other", {"id": 1}), "DatabaseError",
                   "no value for parameter :other")
        # No parameters at all: the same, where PostgreSQL's syntax error is at the name.
        self.fails(query("SELECT 'é', :nope"), "DatabaseError", "no value for parameter :nope")
        self.fails(query("SELEC 'é', :nope"), "DatabaseError", 'syntax error at or near "SELEC"')

    def test_values_of_every_type(self):
        a = self.ok(query("SELECT :a::bool, :b::float8, :c::text, :d::int8, :e::text, :f",
                          {"a": True, "b": -1.5, "c": "héllo — ü", "d": 9007199254740993,
                           "e": None, "f": "plain"}))
        self.assertEqual(a["rows"], [[True, -1.5, "héllo — ü", 9007199254740993, None, "plain"]])

    def test_a_text_value_holding_nul(self):
        self.fails(query("SELECT :t", {"t": "a\u0000b"}), "DatabaseError", "NUL")

    def test_positional_count_mismatch(self):
        self.fails(query("SELECT $1::int", [1, 2]), "DatabaseError")
        self.fails(query("SELECT $2::int", [1]), "DatabaseError")


class Types(DbTestCase):
    def test_the_type_samples(self):
        raw = raw_query("SELECT big_int, neg_float, label, empty_text, missing, flag"
                        " FROM type_samples ORDER BY id")
        self.assertIn("9007199254740993", raw)  # exact digits, not a double's
        a = self.ok(json.loads(raw))
        self.assertEqual(a["rows"], [
            [9007199254740993, -273.15, "naïve — ünïcode", "", None, True],
            [-9007199254740993, 0.1, "plain", "", None, False],
        ])
        self.assertIsInstance(a["rows"][0][0], int)

    def test_postgresql_types(self):
        raw = raw_query(
            "SELECT '\\x00ff41'::bytea AS b, 12.50::numeric AS n, 'NaN'::numeric AS nn,"
            " '2024-01-02 03:04:05'::timestamp AS ts, 'Infinity'::float8 AS inf,"
            " '-Infinity'::float8 AS ninf, 'NaN'::float8 AS nan, 1.5::real AS r,"
            " 2::float8 AS two, ARRAY[1,2] AS arr, '{\"a\": 1}'::json AS j, 7::int2 AS s,"
            " 4000000000::int8 AS big, 12::oid AS o, false AS f, '2024-05-06'::date AS d,"
            " 'Infinity'::numeric AS ninf2")
        self.assertIn("12.50", raw)  # numeric's own text
        a = self.ok(json.loads(raw))
        row = dict(zip(a["columns"], a["rows"][0]))
        self.assertEqual(row["b"], {"__type__": "bytes",
                                    "base64": base64.b64encode(b"\x00\xffA").decode()})
        self.assertEqual(row["n"], 12.5)
        self.assertIsNone(row["nn"])
        self.assertEqual(row["ts"], "2024-01-02 03:04:05")
        self.assertEqual(row["inf"], float("inf"))
        self.assertEqual(row["ninf"], float("-inf"))
        self.assertIsNone(row["nan"])
        self.assertEqual(row["r"], 1.5)
        self.assertEqual(row["two"], 2.0)
        self.assertIsInstance(row["two"], float)
        self.assertEqual(row["arr"], "{1,2}")
        self.assertEqual(row["j"], '{"a": 1}')
        self.assertEqual((row["s"], row["big"], row["o"], row["f"]), (7, 4000000000, 12, False))
        self.assertEqual(row["d"], "2024-05-06")
        self.assertEqual(row["ninf2"], float("inf"))

    def test_bytea_in_escape_format(self):
        # A query may switch bytea_output for itself: still bytes.
        a = self.ok(query("SELECT set_config('bytea_output', 'escape', true) AS s,"
                          " '\\x00ff5c41'::bytea AS b"))
        self.assertEqual(a["rows"][0][1]["base64"], base64.b64encode(b"\x00\xff\\A").decode())

    def test_column_names(self):
        a = self.ok(query('SELECT 1 AS "wéird ""name""", 2 AS "?column?"'))
        self.assertEqual(a["columns"], ['wéird "name"', "?column?"])

    def test_a_statement_without_rows(self):
        a = self.ok(query("SELECT FROM users WHERE false"))
        self.assertEqual((a["columns"], a["rows"], a["row_count"]), ([], [], 0))


class Limits(DbTestCase):
    def test_rows_past_max_rows(self):
        a = self.ok(query("SELECT id FROM user_activities ORDER BY id", rows=5))
        self.assertEqual(a["rows"], [[1], [2], [3], [4], [5]])
        self.assertEqual(a["row_count"], 5)
        self.assertIs(a["truncated"], True)
        self.assertEqual(a["truncated_reason"], "rows")

    def test_exactly_max_rows_is_not_truncated(self):
        a = self.ok(query("SELECT id FROM user_activities", rows=60))
        self.assertEqual((a["row_count"], a["truncated"]), (60, False))

    def test_an_endless_query_is_cut_at_max_rows(self):
        t0 = time.monotonic()
        # In the select list generate_series streams (in FROM it would
        # materialize every row before the first).
        a = self.ok(query("SELECT generate_series(1, 1000000000) AS g, repeat('x', 100)",
                          rows=3, timeout_ms=20000))
        self.assertEqual(a["rows"][-1][0], 3)
        self.assertEqual(a["truncated_reason"], "rows")
        self.assertLess(time.monotonic() - t0, 3, "the statement was not cancelled")

    def test_bytes_past_max_bytes(self):
        a = self.ok(query("SELECT id, content FROM documents ORDER BY id", max_bytes=700))
        self.assertIs(a["truncated"], True)
        self.assertEqual(a["truncated_reason"], "bytes")
        self.assertGreaterEqual(a["row_count"], 1)
        self.assertLess(a["row_count"], 8)
        self.assertEqual(a["row_count"], len(a["rows"]))
        self.assertLessEqual(len(json.dumps(a["rows"], ensure_ascii=False)), 700)

    def test_one_value_larger_than_max_bytes(self):
        t0 = time.monotonic()
        a = self.ok(query("SELECT repeat('x', 20000000)", max_bytes=1000))
        self.assertEqual((a["rows"], a["row_count"], a["truncated_reason"]), ([], 0, "bytes"))
        self.assertLess(time.monotonic() - t0, 5)

    def test_the_answers_own_cap_acts_as_max_bytes(self):
        # 30 MB of rows, max_bytes above that: the answer (DBW_MAX_ANSWER,
        # 16 MiB) still closes, truncated.
        p = subprocess.run([DBQ_RUN, cluster.url, "10000", str(1 << 30), "10000"],
                           input=json.dumps({"op": "query", "sql": "SELECT repeat('x', 1000000)"
                                             " FROM generate_series(1, 30)"}).encode(),
                           capture_output=True, timeout=30, check=True)
        self.assertLessEqual(len(p.stdout), 16 * 1024 * 1024 + 1)
        a = self.ok(json.loads(p.stdout))
        self.assertEqual((a["truncated_reason"], a["row_count"]), ("bytes", 16))

    def test_statement_timeout(self):
        t0 = time.monotonic()
        msg = self.fails(query("SELECT pg_sleep(5)", timeout_ms=300), "DatabaseTimeout", "300 ms")
        self.assertLess(time.monotonic() - t0, 3, msg)

    def test_lock_wait_timeout(self):
        # Another session holds the lock the query waits for.
        holder = subprocess.Popen(
            [os.path.join(cluster.bin_dir, "psql"), "-X", "-q", "-h", cluster.dir, "-p",
             str(cluster.port), "-U", OWNER, "-d", "agent", "-c",
             "SELECT pg_advisory_lock(99), pg_sleep(3)"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 5
            while cluster.run_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                  " AND objid = 99").strip() != "1":
                self.assertLess(time.monotonic(), deadline, "the holder never took the lock")
                time.sleep(0.05)
            self.fails(query("SELECT pg_advisory_lock_shared(99)", timeout_ms=300),
                       "DatabaseTimeout", "300 ms")
        finally:
            holder.kill()
            holder.wait()


class ReadOnly(DbTestCase):
    WRITES = [
        "UPDATE users SET name = 'pwned'",
        "INSERT INTO users (id, name) VALUES (100, 'intruder')",
        "DELETE FROM user_activities",
        "TRUNCATE user_activities",
        "DROP TABLE user_activities",
        "ALTER TABLE users ADD COLUMN evil int",
        "CREATE TABLE evil (x int)",
        "CREATE TEMP TABLE evil2 (x int)",
        "CREATE INDEX evil ON users (name)",
        "SELECT * FROM users FOR UPDATE",
        "WITH x AS (UPDATE users SET plan = 'free' RETURNING id) SELECT count(*) FROM x",
        "SELECT nextval('agent_seq')",
        "SELECT setval('agent_seq', 42)",
        "SET TRANSACTION READ WRITE",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE READ WRITE",
        "DO $$ BEGIN SET TRANSACTION READ WRITE; UPDATE users SET name = 'pwned'; END $$",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "DO $$ BEGIN UPDATE users SET name = 'pwned'; END $$",
        "VACUUM users",
        "COPY users FROM STDIN",
        "GRANT ALL ON users TO PUBLIC",
    ]

    def test_writes_are_refused(self):
        before = fingerprint()
        for sql in self.WRITES:
            with self.subTest(sql=sql):
                self.fails(query(sql), "DatabaseReadOnly")
        self.assertEqual(fingerprint(), before)

    def test_the_message_is_the_servers(self):
        self.assertEqual(self.fails(query("UPDATE users SET name = 'x'"), "DatabaseReadOnly"),
                         "cannot execute UPDATE in a read-only transaction")

    def test_two_statements_are_refused(self):
        before = fingerprint()
        for sql in ["SELECT 1; SELECT 2", "SELECT 1; UPDATE users SET name = 'pwned'",
                    "COMMIT; UPDATE users SET name = 'pwned'",
                    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE;"
                    " UPDATE users SET name = 'pwned'"]:
            with self.subTest(sql=sql):
                self.fails(query(sql), "DatabaseError", "(SQLSTATE 42601)")
        self.assertEqual(fingerprint(), before)

    def test_transaction_tricks_do_not_write(self):
        before = fingerprint()
        # Each may pass or fail; none may leave a way to write.
        for sql in ["COMMIT", "ROLLBACK", "BEGIN", "END",
                    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                    "SELECT set_config('default_transaction_read_only', 'off', false)",
                    "SET default_transaction_read_only = off",
                    "SELECT pg_advisory_lock(4242)",
                    "SELECT lo_create(0)",  # in the rolled-back transaction only
                    "PREPARE p AS SELECT 1", "LISTEN x", "DISCARD ALL"]:
            with self.subTest(sql=sql):
                a = query(sql)
                if not a["ok"]:
                    self.assertIn(a["error"]["type"], ("DatabaseError", "DatabaseReadOnly"), a)
        self.assertEqual(fingerprint(), before)

    def test_an_advisory_lock_does_not_outlive_the_query(self):
        self.ok(query("SELECT pg_advisory_lock(4243)"))
        self.assertEqual(cluster.run_sql("SELECT count(*) FROM pg_locks"
                                         " WHERE locktype = 'advisory' AND objid = 4243").strip(), "0")


class Catalog(DbTestCase):
    def test_tables(self):
        a = self.ok(ask({"op": "tables"}))
        self.assertEqual(a["tables"], ["active_users", "documents", "pipeline_input",
                                       "type_samples", "user_activities", "users"])

    def test_schema(self):
        a = self.ok(ask({"op": "schema", "table": "users"}))
        self.assertEqual(a["table"], "users")
        self.assertEqual(a["columns"], [
            {"name": "id", "type": "integer", "nullable": False, "key": "primary"},
            {"name": "name", "type": "text", "nullable": False, "key": None},
            {"name": "email", "type": "text", "nullable": True, "key": None},
            {"name": "plan", "type": "text", "nullable": True, "key": None},
            {"name": "created_at", "type": "timestamp without time zone", "nullable": True,
             "key": None},
            {"name": "active", "type": "boolean", "nullable": True, "key": None},
        ])

    def test_schema_of_a_view(self):
        a = self.ok(ask({"op": "schema", "table": "active_users"}))
        self.assertEqual([(c["name"], c["key"]) for c in a["columns"]], [("id", None), ("name", None)])

    def test_unknown_table(self):
        for name in ["nope", "users' OR '1'='1", "secret", "pg_class", 'users"; DROP TABLE users; --']:
            with self.subTest(name=name):
                self.fails(ask({"op": "schema", "table": name}), "DatabaseError",
                           "no table named " + name)


class Roles(DbTestCase):
    def test_a_superuser_is_refused(self):
        # COPY ... TO PROGRAM would run a shell on the database server from a
        # read-only transaction.
        self.fails(query("SELECT 1", target=cluster.admin_url), "DatabaseUnavailable",
                   "superuser")
        cluster.run_sql("CREATE ROLE filer LOGIN IN ROLE pg_write_server_files;"
                        " GRANT CONNECT ON DATABASE agent TO filer")
        self.fails(query("SELECT 1", target=cluster.url_for("filer")), "DatabaseUnavailable",
                   "may use the server's files")

    def test_no_programs_or_server_files(self):
        for sql in ["COPY (SELECT 1) TO PROGRAM 'id'", "COPY (SELECT 1) TO '/tmp/pysb-x'",
                    "SELECT pg_read_file('/etc/hostname')", "SELECT pg_reload_conf()"]:
            with self.subTest(sql=sql):
                self.fails(query(sql), "DatabaseError", "(SQLSTATE 42501)")


class Errors(DbTestCase):
    def test_bad_sql_names_its_sqlstate(self):
        self.assertEqual(self.fails(query("SELECT * FROM nope"), "DatabaseError"),
                         'relation "nope" does not exist (SQLSTATE 42P01)')
        self.fails(query("SELEC 1"), "DatabaseError", "(SQLSTATE 42601)")
        self.fails(query("SELECT 1 / 0"), "DatabaseError", "division by zero (SQLSTATE 22012)")

    def test_an_error_after_some_rows(self):
        self.fails(query("SELECT 10 / (3 - g) FROM generate_series(1, 5) g"), "DatabaseError",
                   "(SQLSTATE 22012)")

    def test_unreachable_server(self):
        for url in ["postgresql://pysandbox:s3cret@/agent?host=/nonexistent&port=5432",
                    "postgresql://pysandbox:s3cret@127.0.0.1:1/agent"]:
            with self.subTest(url=url):
                msg = self.fails(ask({"op": "query", "sql": "SELECT 1"}, target=url),
                                 "DatabaseUnavailable")
                self.assertNotIn("s3cret", msg)

    def test_no_such_database(self):
        url = cluster.url_for(OWNER, "nodb")
        self.fails(ask({"op": "tables"}, target=url), "DatabaseUnavailable", '"nodb"')


class BothBackends(DbTestCase):
    """The seed is portable: a portable query answers the same from the
    SQLite file made from it (booleans aside: SQLite has none)."""

    QUERIES = [
        ("SELECT id, name, email, plan, created_at FROM users ORDER BY id", None),
        ("SELECT id, user_id, action, duration_seconds, created_at FROM user_activities"
         " ORDER BY id", None),
        ("SELECT user_id, count(*) AS n FROM user_activities GROUP BY user_id ORDER BY user_id",
         None),
        ("SELECT id, status, error FROM pipeline_input WHERE status = :s ORDER BY id",
         {"s": "failed"}),
        ("SELECT big_int, neg_float, label, empty_text, missing FROM type_samples ORDER BY id",
         None),
    ]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pysb-dbq-")
        cls.sqlite = os.path.join(cls.tmp, "agent.db")
        seed_sqlite(cls.sqlite)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_same_answers(self):
        for sql, params in self.QUERIES:
            with self.subTest(sql=sql):
                pg = self.ok(query(sql, params))
                lite = self.ok(query(sql, params, target=self.sqlite))
                self.assertEqual((pg["columns"], pg["rows"]), (lite["columns"], lite["rows"]))
                self.assertGreater(pg["row_count"], 0)


class Session(DbTestCase):
    """Requests on one connection, as a broker thread serves them."""

    def test_a_request_leaves_nothing_for_the_next(self):
        p = subprocess.Popen([DBQ_RUN, "--lines", cluster.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def say(sql):
            p.stdin.write((json.dumps({"op": "query", "sql": sql}) + "\n").encode())
            p.stdin.flush()
            return json.loads(p.stdout.readline())

        try:
            self.assertTrue(say("SELECT pg_advisory_lock(4242) IS NOT NULL AS took")["ok"])
            # The connection is still open, and holds no lock any more.
            self.assertEqual(cluster.run_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
            ).strip(), "0")
            self.assertTrue(say("SELECT set_config('application_name', 'leaked', false)")["ok"])
            a = say("SELECT current_setting('application_name') AS name")
            self.assertNotEqual(a["rows"][0][0], "leaked")
            say("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            a = say("SELECT current_setting('transaction_read_only') AS ro")
            self.assertEqual(a["rows"][0][0], "on")
            w = say("UPDATE users SET name = 'x' WHERE id = 1")
            self.assertEqual(w["error"]["type"], "DatabaseReadOnly", w)
        finally:
            p.stdin.close()
            p.wait(timeout=10)
            p.stdout.close()
            p.stderr.close()


class ReadOnlyRole(DbTestCase):
    """The role pgcluster.py shows deployments: reads, nothing else."""

    def test_reads(self):
        a = self.ok(query("SELECT count(*) FROM users", target=cluster.ro_url))
        self.assertEqual(a["rows"], [[9]])
        self.ok(ask({"op": "schema", "table": "users"}, target=cluster.ro_url))

    def test_no_writes_and_no_server_files(self):
        self.fails(query("UPDATE users SET name = 'x'", target=cluster.ro_url), "DatabaseReadOnly")
        self.fails(query("SELECT pg_read_file('/etc/hostname')", target=cluster.ro_url),
                   "DatabaseError", "permission denied")


if __name__ == "__main__":
    unittest.main()
