"""A throwaway PostgreSQL cluster for the database tests, and the same seed
data as a SQLite file.

    cluster = PgCluster()        # initdb + start + database "agent", seeded
    cluster.url                  # postgresql://pysandbox@/agent?host=...&port=...
    cluster.ro_url               # the same database as role agent_ro (SELECT only)
    cluster.admin_url            # the same as the superuser (the broker refuses it)
    cluster.run_sql("SELECT 1")  # psql as the superuser; returns its stdout
    cluster.stop()               # stops the server and deletes everything

    seed_sqlite(path)            # a SQLite file with the same tables and rows

The cluster lives in a fresh folder under the system's temporary folder,
listens on a Unix socket there only (no TCP), and runs with fsync off:
nothing of it outlives stop().  initdb and the server refuse to run as
root, so as root they run as the `postgres` user (or `nobody`) through
runuser; nothing the server reads is inside the checkout, which that user
may not be able to read (the seed is read here and piped to psql).

Three roles: `postgres`, the superuser, for setting up; `pysandbox`, which
owns the database and its tables and so may write them (not a superuser:
the broker refuses superusers, whose powers outside the database no
read-only transaction stops), so that with .url the broker's read-only
transactions are what is under test; and `agent_ro`, which may only read
the seed's tables.  Deployments should do what agent_ro shows: give the
broker a role that may only read the tables it needs, so the database's
grants back up the broker's read-only transactions.

Needs Debian's PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin);
without them the suite that asks for a cluster is skipped.
"""

import glob
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = os.path.join(ROOT, "tests", "data", "agent_seed.sql")

ADMIN = "postgres"   # the superuser
OWNER = "pysandbox"  # owns the database and the seed's tables
READER = "agent_ro"  # may only read the seed's tables
DATABASE = "agent"
# The tables of the seed, which agent_ro may read.
SEED_TABLES = ["users", "user_activities", "documents", "pipeline_input", "type_samples"]


def find_bin_dir():
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and
    pg_ctl, or None."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        version = os.path.basename(os.path.dirname(d))
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            try:
                found.append((float(version), d))
            except ValueError:
                continue
    return max(found)[1] if found else None


def seed_sql():
    with open(SEED, encoding="utf-8") as f:
        return f.read()


def seed_sqlite(path):
    """Creates the SQLite file at path from tests/data/agent_seed.sql."""
    con = sqlite3.connect(path)
    try:
        con.executescript(seed_sql())
        con.commit()
    finally:
        con.close()


def free_port():
    """A TCP port number nobody listens on now; it only names the server's
    socket file (.s.PGSQL.<port>)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_user():
    """Who runs initdb and the server: ourselves, or as root a user they
    accept (root is refused)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise unittest.SkipTest("running as root, and there is neither a postgres nor a nobody user "
                            "to run PostgreSQL as")


class PgCluster:
    """A started, seeded cluster (see the module's docstring)."""

    def __init__(self, open_socket=False):
        """open_socket: let every local user reach the server's socket (a
        broker under test running as another user); the cluster trusts
        whoever connects, so by default only its own user and root can."""
        self.bin_dir = find_bin_dir()
        if self.bin_dir is None:
            raise unittest.SkipTest("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
                                    "(apt-get install postgresql)")
        self.user = server_user()
        if self.user is not None and shutil.which("runuser") is None:
            raise unittest.SkipTest("running as root without runuser to start PostgreSQL as "
                                    + self.user.pw_name)
        self.dir = tempfile.mkdtemp(prefix="pysb-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.port = free_port()
        self.open_socket = open_socket
        self.started = False
        try:
            self._start()
            self._create_database()
        except BaseException:
            self.stop()
            raise
        self.url = self.url_for(OWNER)
        self.ro_url = self.url_for(READER)
        self.admin_url = self.url_for(ADMIN)

    # --- URLs and SQL --------------------------------------------------------------

    def url_for(self, role, database=DATABASE):
        """A postgresql:// URL reaching database as role over the socket."""
        query = urllib.parse.urlencode({"host": self.dir, "port": self.port})
        return f"postgresql://{role}@/{database}?{query}"

    def run_sql(self, sql, database=DATABASE, role=ADMIN):
        """Runs sql with psql as role (the superuser by default; objects that
        .url's role should own are made as OWNER) and returns its stdout,
        unaligned and without headers: one line per row, columns separated
        by '|'.  Stops at the first error: CalledProcessError with psql's
        stderr."""
        return self._psql(sql, database, role, ["-A", "-t"])

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError as e:
            return f"(no server log: {e})"

    # --- life ----------------------------------------------------------------------

    def stop(self):
        """Stops the server at once and deletes the cluster. Idempotent."""
        if self.started:
            self.started = False
            self._as_server_user([self._bin("pg_ctl"), "-D", self.data, "-m", "immediate",
                                  "-w", "stop"], check=False)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- inside --------------------------------------------------------------------

    def _bin(self, name):
        return os.path.join(self.bin_dir, name)

    def _as_server_user(self, argv, check=True):
        """Runs argv as the server's user, from the cluster's folder (the
        server refuses a current folder it cannot read)."""
        if self.user is not None:
            argv = ["runuser", "-u", self.user.pw_name, "--"] + argv
        p = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, LC_ALL="C"))
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout}{p.stderr}"
                               f"\n--- server log:\n{self.log_text()}")
        return p

    def _start(self):
        if self.user is not None:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        if self.open_socket:  # the data folder itself stays private (initdb makes it 0700)
            os.chmod(self.dir, 0o755)
        self._as_server_user([self._bin("initdb"), "-D", self.data, "-A", "trust", "-U", ADMIN,
                              "-E", "UTF8", "--no-locale", "--no-sync"])
        options = (f"-c listen_addresses='' -k {self.dir} -p {self.port} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._as_server_user([self._bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                              "-t", "60", "-o", options, "start"])
        self.started = True

    def _psql(self, sql, database, role, flags):
        # psql runs as whoever we are: the socket is open to everyone, and
        # the seed was read here, as us, from the checkout.
        psql = self._bin("psql")
        if not os.access(psql, os.X_OK):
            psql = shutil.which("psql") or psql
        argv = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port),
                "-U", role, "-d", database] + flags + ["-f", "-"]
        p = subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PGCLIENTENCODING="UTF8", PGCONNECT_TIMEOUT="10"))
        if p.returncode != 0:
            raise subprocess.CalledProcessError(p.returncode, argv, p.stdout, p.stderr)
        return p.stdout

    def _create_database(self):
        self._psql(f"""
            CREATE ROLE {OWNER} LOGIN;
            CREATE ROLE {READER} LOGIN;
            CREATE DATABASE {DATABASE} OWNER {OWNER};
            """, "postgres", ADMIN, [])
        self._psql(f"""
            REVOKE TEMP ON DATABASE {DATABASE} FROM PUBLIC;
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            ALTER SCHEMA public OWNER TO {OWNER};
            """, DATABASE, ADMIN, [])
        self._psql(seed_sql(), DATABASE, OWNER, [])
        tables = ", ".join(SEED_TABLES)
        self._psql(f"""
            GRANT CONNECT ON DATABASE {DATABASE} TO {READER};
            GRANT USAGE ON SCHEMA public TO {READER};
            GRANT SELECT ON {tables} TO {READER};
            """, DATABASE, OWNER, [])


def file_sha256(path):
    """The SQLite file's bytes, as one digest (writes refused leave it unchanged)."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def data_fingerprint(cluster):
    """Every seed row and every relation of the public schema, as one string
    (writes refused leave it unchanged)."""
    return cluster.run_sql(
        "SELECT string_agg(t::text, '|' ORDER BY t::text) FROM ("
        " SELECT 'u' || u::text AS t FROM users u UNION ALL"
        " SELECT 'a' || a::text FROM user_activities a UNION ALL"
        " SELECT 'd' || d::text FROM documents d UNION ALL"
        " SELECT 'p' || p::text FROM pipeline_input p UNION ALL"
        " SELECT 'c' || c.relname FROM pg_class c WHERE c.relnamespace ="
        "   'public'::regnamespace) s")
