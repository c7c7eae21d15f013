"""pysandbox harness: runs one user program and describes what happened.

The same file runs in the browser engine (Pyodide, in a Web Worker) and in
the jailed native engine (embedded CPython).  It injects ``data``, runs the
code as ``__main__``, and returns one dict in the shared result schema:

    success        True when status is "ok"
    status         "ok" | "error" | "memory_limit" | "output_limit" | "killed"
    output         captured stdout ("" when the engine captures fd 1 itself)
    stderr         captured stderr (idem)
    error          None or {type, message, traceback, line?, missingModule?}
    result         JSON form of ``__result__`` (see to_jsonable), or None
    charts         [{format: "png", data: <base64>, width, height}]
    executionTime  milliseconds spent in the user's code
    limits         {outputTruncated, stderrTruncated, resultTruncated, chartsDropped}
    debug_info     only when the code called debug(), inspect_var() or
                   get_debug_info(): {logs, variables, logs_truncated,
                   variables_truncated} (see _DebugState)
    steps          only when the run was traced (trace=True): the user's
                   lines as they ran (see _Tracer); steps_truncated with it

The code may ``await`` at the top level (as in Jupyter and Pyodide's
runPythonAsync): see run() for how each engine drives it.

The engine adds ``engine`` and ``metadata``.  Nothing here is a security
boundary: the browser tab and the OS jail are.  The limits below only keep
honest-but-careless programs from producing answers too big to carry.
"""

import ast
import base64
import builtins
import io
import json
import linecache
import math
import sys
import time
import traceback

USER_FILENAME = "<sandbox>"

# compile() flags for the user's code: top-level await, async for and async
# with are accepted (the module's code object is then a coroutine function's:
# eval() returns a coroutine).  Code without them compiles and runs exactly as
# with plain exec.
COMPILE_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_CO_COROUTINE = 0x0080  # inspect.CO_COROUTINE, without importing inspect

# Captured stdout and stderr, each (characters).  Past it the program is
# stopped with status "output_limit" and the text is truncated.
MAX_OUTPUT_CHARS = 1024 * 1024
# JSON text of the result.  Past it the result is replaced by a marked repr.
MAX_RESULT_BYTES = 8 * 1024 * 1024
# Figures captured per run, and PNG bytes per figure; extra ones are dropped.
MAX_CHARTS = 16
MAX_CHART_BYTES = 4 * 1024 * 1024
# Nesting depth followed when converting the result.
MAX_RESULT_DEPTH = 64
# Rows of a DataFrame rendered as an HTML table.
MAX_HTML_ROWS = 200

# Live output: None, or a callable(name, text) that captured streams also
# hand every piece of text they keep, as it is written (name "stdout" or
# "stderr").  The browser worker sets it to show output while a run goes on;
# the returned dict stays the whole, final output.  Whatever it raises (a
# KeyboardInterrupt from Stop) reaches the user's print() like any write error.
live_output = None


class OutputLimitExceeded(BaseException):
    """Raised inside print() once a stream passes its cap.

    A BaseException, like KeyboardInterrupt, so ``except Exception`` in the
    user's code does not swallow it."""


class _CappedStream(io.TextIOBase):
    """A text stream that keeps at most ``limit`` characters."""

    def __init__(self, name, limit, live=None):
        self.name = name
        self.limit = limit
        self.live = live  # callable(name, text) or None: see live_output
        self.parts = []
        self.size = 0
        self.truncated = False

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        room = self.limit - self.size
        if len(s) > room:
            self.parts.append(s[:room])
            self.size = self.limit
            self.truncated = True
            if self.live is not None and room > 0:
                self.live(self.name, s[:room])
            raise OutputLimitExceeded(f"{self.name} passed {self.limit} characters")
        self.parts.append(s)
        self.size += len(s)
        if self.live is not None and s:
            self.live(self.name, s)
        return len(s)

    def getvalue(self):
        return "".join(self.parts)

    @property
    def encoding(self):
        return "utf-8"


def clean_text(s):
    """Returns s with lone surrogates replaced, so it always encodes as UTF-8."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")


def _marked(value, note=None):
    try:
        text = repr(value)
    except BaseException as exc:  # a hostile __repr__ must not break the harness
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    if len(text) > 10000:
        text = text[:10000] + "..."
    out = {"__type__": type(value).__name__, "__repr__": clean_text(text)}
    if note:
        out["__note__"] = note
    return out


def to_jsonable(value, depth=0):
    """Converts a Python value into something json.dumps accepts.

    JSON values pass through; tuples become lists; numpy arrays and scalars
    become lists and numbers; a pandas DataFrame becomes
    {"__type__": "DataFrame", columns, index, records, html, shape} (records
    hold the rows in order; index their labels, as strings); a Series
    {"__type__": "Series", name, index, values}.  Anything else (sets,
    non-finite floats, objects, dicts with non-string keys) becomes the
    marked repr {"__type__": <type name>, "__repr__": repr(value)}.
    """
    if depth > MAX_RESULT_DEPTH:
        return _marked(value, "nested too deeply")
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else _marked(value)
    if type(value) is str:
        return clean_text(value)
    if type(value) in (list, tuple, DbResult):
        return [to_jsonable(v, depth + 1) for v in value]
    if type(value) is dict:
        if all(type(k) is str for k in value):
            return {clean_text(k): to_jsonable(v, depth + 1) for k, v in value.items()}
        return _marked(value, "dict keys must be strings in JSON")
    module = type(value).__module__ or ""
    if module.startswith("pandas"):
        converted = _pandas_to_jsonable(value, depth)
        if converted is not None:
            return converted
    if module == "numpy":
        try:
            if hasattr(value, "tolist"):
                return to_jsonable(value.tolist(), depth + 1)
        except Exception:
            pass
    return _marked(value)


def _pandas_to_jsonable(value, depth):
    kind = type(value).__name__
    try:
        if kind == "DataFrame":
            records = json.loads(value.to_json(orient="records", date_format="iso"))
            return {
                "__type__": "DataFrame",
                "columns": [clean_text(str(c)) for c in value.columns],
                "index": [clean_text(str(i)) for i in value.index],
                "records": records,
                "shape": list(value.shape),
                "html": clean_text(value.to_html(max_rows=MAX_HTML_ROWS, border=0)),
            }
        if kind == "Series":
            return {
                "__type__": "Series",
                "name": None if value.name is None else clean_text(str(value.name)),
                "index": [clean_text(str(i)) for i in value.index],
                "values": json.loads(value.to_json(orient="values", date_format="iso")),
            }
    except Exception as exc:
        return _marked(value, f"could not convert: {type(exc).__name__}")
    return None


def _collect_charts(charts, limits):
    """Saves every open matplotlib figure as PNG and closes it."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    try:
        for num in list(pyplot.get_fignums()):
            fig = pyplot.figure(num)
            if len(charts) >= MAX_CHARTS:
                limits["chartsDropped"] += 1
                continue
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
            png = buf.getvalue()
            if len(png) > MAX_CHART_BYTES:
                limits["chartsDropped"] += 1
                continue
            width, height = (int(round(x)) for x in fig.get_size_inches() * fig.dpi)
            charts.append(
                {
                    "format": "png",
                    "data": base64.b64encode(png).decode("ascii"),
                    "width": width,
                    "height": height,
                }
            )
        pyplot.close("all")
    except Exception as exc:  # a broken figure must not lose the run's output
        print(f"pysandbox: could not save a figure: {exc!r}", file=sys.stderr)


def _install_show_hook(charts, limits):
    """Makes plt.show() capture figures instead of doing nothing (Agg)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return None
    original = pyplot.show

    def show(*args, **kwargs):
        _collect_charts(charts, limits)

    pyplot.show = show
    return lambda: setattr(pyplot, "show", original)


def _user_traceback(exc):
    """Formats exc with the harness's own frames removed."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != USER_FILENAME:
        tb = tb.tb_next
    exc = exc.with_traceback(tb)  # None when no frame is the user's (SyntaxError)
    # A helper's own error (debug()'s ValueError) ends at the user's call:
    # the frames of this file after the last user frame are cut.
    last_user = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == USER_FILENAME:
            last_user = tb
        elif tb.tb_frame.f_code.co_filename != __file__:
            last_user = None  # a library's frames follow: keep all
            break
        tb = tb.tb_next
    if last_user is not None:
        last_user.tb_next = None
    return clean_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def _error_info(exc):
    info = {
        "type": type(exc).__name__,
        "message": clean_text(str(exc)),
        "traceback": _user_traceback(exc),
    }
    if isinstance(exc, SyntaxError):
        if exc.lineno is not None:
            info["line"] = exc.lineno
    else:
        tb = exc.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == USER_FILENAME:
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is not None:
            info["line"] = line
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        info["missingModule"] = exc.name.split(".")[0]
    return info


# --- debug helpers and step tracing -------------------------------------------
#
# debug(), inspect_var() and get_debug_info() are builtins while a run goes
# on (a name the user binds shadows them, as for any builtin).  Their logs
# and variables belong to one run, like __result__: a sandbox's next run
# starts with none.  Caps (each documented in README "Limits"):

# Characters of one debug() message kept; the entry then says truncated.
DEBUG_MAX_MESSAGE = 10000
# Characters of one inspected value's repr (and of a step's variable's).
DEBUG_MAX_REPR = 1000
# Log entries kept per run; later ones are counted out (logs_truncated).
DEBUG_MAX_LOGS = 1000
# Distinct names inspect_var() keeps per run; a new name past it is dropped
# (variables_truncated); a name already kept is still updated.
DEBUG_MAX_VARIABLES = 100
DEBUG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Steps recorded by a traced run.  Past it tracing stops and the program runs
# on untraced to its end (steps_truncated).
TRACE_MAX_STEPS = 1000
# Variables one step reports (the changed ones, in the frame's order), and
# the characters of each one's repr: 1,000 steps stay under ~4 MB.
TRACE_MAX_STEP_VARIABLES = 20
TRACE_MAX_REPR = 200


def _safe_repr(value, cap):
    """repr(value) cut to cap characters, or a placeholder when it raises.
    A hostile __repr__ (raises, returns a non-str, is huge) cannot break the
    run; a slow one only costs its own time (the run's limits bound it)."""
    try:
        text = repr(value)
        if type(text) is not str:
            raise TypeError("__repr__ returned non-string")
    except BaseException as exc:  # KeyboardInterrupt from Stop included: a
        # repr is not the place to stop, the next user line is
        if isinstance(exc, (KeyboardInterrupt, OutputLimitExceeded)):
            raise
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>", False
    if len(text) > cap:
        return clean_text(text[:cap]), True
    return clean_text(text), False


def _user_line():
    """Line of the innermost user frame calling us, or None."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename != USER_FILENAME:
        f = f.f_back
    return f.f_lineno if f is not None else None


class _DebugState:
    """One run's logs and inspected variables."""

    def __init__(self, started):
        self.started = started
        self.used = False
        self.logs = []
        self.logs_dropped = 0
        self.variables = {}
        self.variables_dropped = 0

    def info(self):
        """The debug_info member: fresh lists and dicts, so what the user
        does with get_debug_info()'s answer cannot change it."""
        return {
            "logs": [dict(e) for e in self.logs[:DEBUG_MAX_LOGS]],
            "variables": {k: dict(v)
                          for k, v in list(self.variables.items())[:DEBUG_MAX_VARIABLES]},
            "logs_truncated": self.logs_dropped > 0,
            "variables_truncated": self.variables_dropped > 0,
        }


_debug = None  # the current run's _DebugState, or None between runs


def _state():
    global _debug
    if _debug is None:  # called outside a run (from a task left pending)
        _debug = _DebugState(time.perf_counter())
    _debug.used = True
    return _debug


def debug(message, level="INFO"):
    """Logs message at level (DEBUG, INFO, WARNING or ERROR) into the run's
    debug_info, with the user's line and the seconds since the run began."""
    if type(level) is not str or level not in DEBUG_LEVELS:
        given = (repr(level[:40]) if type(level) is str
                 else f"a value of type {type(level).__name__}")
        raise ValueError(f"debug() level must be one of {', '.join(DEBUG_LEVELS)}, not {given}")
    st = _state()
    if len(st.logs) >= DEBUG_MAX_LOGS:
        st.logs_dropped += 1
        return
    if type(message) is str:
        text = message
    else:
        try:
            text = str(message)
            if type(text) is not str:
                raise TypeError("__str__ returned non-string")
        except (KeyboardInterrupt, OutputLimitExceeded):
            raise
        except BaseException as exc:
            text = f"<unprintable {type(message).__name__}: {type(exc).__name__}>"
    entry = {"level": level, "message": None, "line": _user_line(),
             "t": round(time.perf_counter() - st.started, 6)}
    if len(text) > DEBUG_MAX_MESSAGE:
        text = text[:DEBUG_MAX_MESSAGE]
        entry["truncated"] = True
    entry["message"] = clean_text(text)
    st.logs.append(entry)


def inspect_var(name, value):
    """Records value under name in the run's debug_info.variables: its type,
    its repr (capped; a failing repr becomes a placeholder) and its len()
    when it has one."""
    st = _state()
    if type(name) is str:
        key = clean_text(name[:200])
    else:  # a name that is not a str is shown by its capped repr, which cannot fail
        key = _safe_repr(name, 200)[0]
    if key not in st.variables and len(st.variables) >= DEBUG_MAX_VARIABLES:
        st.variables_dropped += 1
        return
    text, cut = _safe_repr(value, DEBUG_MAX_REPR)
    item = {"type": clean_text(type(value).__name__), "repr": text}
    if cut:
        item["truncated"] = True
    try:
        size = len(value) if hasattr(type(value), "__len__") else None
    except (KeyboardInterrupt, OutputLimitExceeded):
        raise
    except BaseException:
        size = None
    if type(size) is int:
        item["size"] = size
    st.variables[key] = item


def get_debug_info():
    """The run's logs and variables so far, as the result's debug_info."""
    return _state().info()


# --- read-only database access ---------------------------------------------
#
# db_query(), db_tables() and db_schema() are builtins while a run goes on.
# The jailed process has neither network nor the database: each call writes
# one request frame on the native engine's channel (fd DB_CHANNEL_FD, set by
# the zygote) and blocks until the executor writes the broker's answer back
# (cgi/proto/dbwire.h).  The broker enforces read-only, the row, size and
# time caps; nothing here is a boundary.  Each returns its value at once and
# may also be awaited (await db_query(...)), as the seed's API was.

# The channel to the executor, or None where there is no broker (browser,
# Judge0): then the functions raise DatabaseUnavailable.
DB_CHANNEL_FD = None
# Bytes of one request's JSON (DBW_MAX_REQUEST).
DB_MAX_REQUEST = 1024 * 1024
_DB_FRAME_BIT = 0x80000000


class DatabaseError(Exception):
    """A database request failed (bad SQL, bad parameters, no such table)."""


class DatabaseReadOnly(DatabaseError):
    """The statement would write: database access is read-only."""


class DatabaseTimeout(DatabaseError):
    """The query ran longer than its time limit."""


class DatabaseLimit(DatabaseError):
    """A request or this run's queries passed a limit."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached from here, or not now."""


class DatabaseNotConfigured(DatabaseUnavailable):
    """The service has no database (PYSANDBOX_AGENT_DB is not set)."""


_DB_ERRORS = {cls.__name__: cls for cls in (DatabaseError, DatabaseReadOnly, DatabaseTimeout,
                                            DatabaseLimit, DatabaseUnavailable,
                                            DatabaseNotConfigured)}


class DbResult(list):
    """A list (rows, names or columns) that can also be awaited for itself.

    A query's result also has .columns, .row_count and .truncated (True
    when the broker's row or size cap cut it)."""

    columns = ()
    row_count = 0
    truncated = False

    def __await__(self):
        return self
        yield  # a generator: awaiting it finishes at once with the list


_db_lock = None


def _db_param(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise DatabaseError("a parameter is not a finite number")
    if hasattr(value, "isoformat"):  # datetime, date, time
        return value.isoformat()
    raise DatabaseError(f"parameter values must be None, bool, int, float or str, "
                        f"not {type(value).__name__}")


def _db_params(params):
    if params is None:
        return None
    if isinstance(params, dict):
        out = {}
        for key, value in params.items():
            if not isinstance(key, str):
                raise DatabaseError("named parameters need str names")
            out[key] = _db_param(value)
        return out
    if isinstance(params, (list, tuple)):
        return [_db_param(value) for value in params]
    raise DatabaseError("params must be a dict (named :name), a list or tuple (positional), "
                        "or None")


# run(trace=TRACE_STREAM): each step also goes out on the native engine's
# channel as it is recorded (the executor relays it as a live event).
TRACE_STREAM = 2
_STEP_FRAME_BIT = 0x40000000


def _channel_lock():
    global _db_lock
    if _db_lock is None:
        import threading

        _db_lock = threading.Lock()
    return _db_lock


def _emit_step(step):
    fd = DB_CHANNEL_FD
    if fd is None:
        return
    import os
    import struct

    payload = json.dumps(step, ensure_ascii=False, allow_nan=False).encode("utf-8")
    frame = struct.pack("<I", _STEP_FRAME_BIT | len(payload)) + payload
    with _channel_lock():  # a step's frame must not split a query's
        while frame:
            frame = frame[os.write(fd, frame):]


def _db_read(fd, n):
    import os

    chunks = []
    while n > 0:
        chunk = os.read(fd, n)
        if not chunk:
            raise DatabaseUnavailable("the database channel closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _db_request(request):
    fd = DB_CHANNEL_FD
    if fd is None:
        raise DatabaseUnavailable("database access runs on the server's native engine: use "
                                  "preferredEngine \"native\" or a sandbox")
    payload = json.dumps(request, ensure_ascii=False, allow_nan=False).encode("utf-8")
    if len(payload) > DB_MAX_REQUEST:
        raise DatabaseLimit(f"the request is larger than {DB_MAX_REQUEST} bytes")
    import os
    import struct

    with _channel_lock():  # one request in flight: the frames of two would interleave
        frame = struct.pack("<I", _DB_FRAME_BIT | len(payload)) + payload
        while frame:
            frame = frame[os.write(fd, frame):]
        (n,) = struct.unpack("<I", _db_read(fd, 4))
        answer = json.loads(_db_read(fd, n))
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        cls = _DB_ERRORS.get(error.get("type"), DatabaseError)
        raise cls(str(error.get("message", "the database request failed")))
    return answer


def _db_value(value):
    if isinstance(value, dict) and value.get("__type__") == "bytes":
        return base64.b64decode(value.get("base64", ""))
    return value


def db_query(sql, params=None):
    """Runs one read-only SQL statement; returns its rows as a list of dicts.

    params: a dict for :name parameters, or a list/tuple for positional ones
    (? in SQLite, $1 in PostgreSQL).  Can be awaited.  Raises
    DatabaseReadOnly for a statement that would write."""
    if not isinstance(sql, str):
        raise DatabaseError("sql must be a str")
    answer = _db_request({"op": "query", "sql": sql, "params": _db_params(params)})
    columns = answer.get("columns", [])
    rows = DbResult(dict(zip(columns, map(_db_value, row))) for row in answer.get("rows", []))
    rows.columns = tuple(columns)
    rows.row_count = answer.get("row_count", len(rows))
    rows.truncated = bool(answer.get("truncated"))
    return rows


def db_tables():
    """The names of the database's tables and views.  Can be awaited."""
    return DbResult(_db_request({"op": "tables"}).get("tables", []))


def db_schema(table):
    """A table's columns: [{name, type, nullable, key}].  Can be awaited."""
    if not isinstance(table, str):
        raise DatabaseError("table must be a str")
    return DbResult(_db_request({"op": "schema", "table": table}).get("columns", []))


_DB_BUILTINS = (db_query, db_tables, db_schema) + tuple(_DB_ERRORS.values())


def describe_helpers():
    """Every helper a run finds as a builtin, with its signature and the
    first paragraph of its docstring: what GET /sandbox/{id}/help/functions
    answers (tools/harness-help writes it at build time, so it cannot
    drift from this file)."""
    import inspect

    out = []
    for obj in (debug, inspect_var, get_debug_info) + _DB_BUILTINS:
        doc = " ".join((inspect.getdoc(obj) or "").split("\n\n", 1)[0].split())
        if isinstance(obj, type):
            base = obj.__mro__[1].__name__
            out.append({"name": obj.__name__, "kind": "exception",
                        "signature": f"class {obj.__name__}({base})", "doc": doc})
        else:
            out.append({"name": obj.__name__, "kind": "function",
                        "signature": f"{obj.__name__}{inspect.signature(obj)}", "doc": doc,
                        "awaitable": obj in _DB_BUILTINS})
    out.append({"name": "data", "kind": "variable", "signature": "data",
                "doc": "The request's data (JSON-decoded); [] when none was sent."})
    out.append({"name": "__result__", "kind": "variable", "signature": "__result__ = value",
                "doc": "Set it to return a value as the answer's result (DataFrames, numpy "
                       "values and charts are converted)."})
    return out


class _Tracer:
    """sys.settrace for one run: records the user's frames only (code
    compiled as USER_FILENAME; the harness's and libraries' frames are not
    traced at all).  Each step: {step, line_number, line_code, event,
    variables}, event one of call | line | return | exception, variables
    the frame's locals (a module's globals) whose repr differs from what the
    same frame showed at its previous step; dunder names, modules,
    functions and classes are left out.  A "line" step fires before its line
    runs, so its variables are what the lines before it changed.  The
    module's own "call" (line 0) is not a step.  After TRACE_MAX_STEPS the tracer
    removes itself and the program runs on untraced."""

    _SKIP = (type(sys), type(lambda: 0), type, type(len))
    _IMMUTABLE = frozenset((int, float, complex, str, bytes, bool, type(None), range))

    def __init__(self, lines, emit=None):
        self.lines = lines
        self.emit = emit  # called with each step as it is recorded (live step events)
        self.line_code = {}  # line number -> its text as steps show it
        self.steps = []
        self.truncated = False
        self.seen = {}  # id(frame) -> {name: repr} (frames are alive while traced)

    def start(self):
        sys.settrace(self.global_trace)

    def stop(self):
        sys.settrace(None)

    def global_trace(self, frame, event, arg):
        if frame.f_code.co_filename != USER_FILENAME or self.truncated:
            return None
        if frame.f_back is None or frame.f_back.f_code.co_filename == USER_FILENAME or \
                frame.f_code.co_name != "<module>":
            self.record(frame, event)  # not the module's own start: its line 1 follows
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if self.truncated:
            return None
        self.record(frame, event)
        if event == "return":
            self.seen.pop(id(frame), None)
        return self.local_trace

    def record(self, frame, event):
        if len(self.steps) >= TRACE_MAX_STEPS:
            self.truncated = True
            sys.settrace(None)
            return
        before = self.seen.setdefault(id(frame), {})  # name -> (value, repr)
        changed = {}
        for name, value in list(frame.f_locals.items()):
            if name.startswith("__") or isinstance(value, self._SKIP):
                continue
            seen = before.get(name)
            # The same immutable object shows the same repr: skip the call
            # (most of a tight loop's names, most steps).
            if seen is not None and seen[0] is value and type(value) in self._IMMUTABLE:
                continue
            text, _ = _safe_repr(value, TRACE_MAX_REPR)
            if seen is None or seen[1] != text:
                if len(changed) < TRACE_MAX_STEP_VARIABLES:
                    changed[name] = text
            before[name] = (value if type(value) in self._IMMUTABLE else None, text)
        line = frame.f_lineno or 0
        code = self.line_code.get(line)
        if code is None:
            code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
            code = self.line_code[line] = clean_text(code[:TRACE_MAX_REPR])
        step = {"step": len(self.steps) + 1, "line_number": line, "line_code": code,
                "event": event, "variables": changed}
        self.steps.append(step)
        if self.emit is not None:
            self.emit(step)


try:  # the same tracer in C (cgi/zygote/ctrace.c): the native engine has it built in
    import _pysandbox_trace
except ImportError:  # the browser (and a host python3 without the build's module)
    _pysandbox_trace = None


def _new_tracer(code, emit):
    """The run's step tracer: the C one where there is one, else _Tracer
    (the same steps either way: tests/http/test_debug.py compares them)."""
    lines = code.splitlines()
    if _pysandbox_trace is None:
        return _Tracer(lines, emit)

    def line_code(line):
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        return clean_text(text[:TRACE_MAX_REPR])

    return _pysandbox_trace.Tracer(USER_FILENAME, TRACE_MAX_STEPS, TRACE_MAX_STEP_VARIABLES,
                                   TRACE_MAX_REPR, _safe_repr, line_code, emit,
                                   (KeyboardInterrupt, OutputLimitExceeded))


def run(code, data_json=None, capture_output=True, program=False, session=None, trace=False):
    """Runs code with ``data`` bound to json.loads(data_json); returns the result dict.

    session: a dict kept by the caller between runs (a stateful sandbox): the
    code runs with it as its globals, so names, imports and functions defined
    by one run are there in the next; ``data`` is rebound only when
    data_json is given, and ``__result__`` is cleared before each run (a
    result belongs to the run that set it).  None: fresh globals.

    capture_output=True (browser) collects stdout/stderr here with caps;
    False (native engine) leaves them on fds 1 and 2, which the engine's
    supervisor reads and caps itself.

    program=True runs the code as a plain program (the Judge0-compatible
    API): no ``data``, input comes from stdin, an uncaught exception prints
    its traceback to stderr as CPython does, and the result carries the
    program's ``exitCode``.

    trace=True runs the code under sys.settrace (see _Tracer): the result
    gains ``steps`` and ``steps_truncated``.

    Top-level await: code that awaits at the top level runs to its end on
    this process's one event loop (see _event_loop), made on first use.
    Tasks it leaves pending stay on that loop and run again only while a
    later run in the same process drives the loop (a stateful sandbox's
    next await); a process that exits drops them.  Where a loop is already
    running in this thread (Pyodide), use run_async() instead.
    """
    steps = _run_steps(code, data_json, capture_output, program, session, trace)
    try:
        coroutine = steps.send(None)
    except StopIteration as done:
        return done.value
    try:
        _run_until_complete(coroutine)
    except BaseException as exc:
        return _resume(steps.throw, exc)
    return _resume(steps.send, None)


async def run_async(code, data_json=None, capture_output=True, program=False, session=None,
                    trace=False):
    """run() for a caller with a running event loop (Pyodide's webloop): code
    that awaits at the top level is awaited here, on that loop.  Tasks it
    leaves pending stay on the loop and go on running after the run (their
    output then goes wherever sys.stdout points at that moment)."""
    steps = _run_steps(code, data_json, capture_output, program, session, trace)
    try:
        coroutine = steps.send(None)
    except StopIteration as done:
        return done.value
    try:
        await coroutine
    except BaseException as exc:
        return _resume(steps.throw, exc)
    return _resume(steps.send, None)


def _resume(step, value):
    """Passes the awaited code's outcome back into _run_steps; returns its dict."""
    try:
        step(value)
    except StopIteration as done:
        return done.value
    raise RuntimeError("pysandbox harness: the run asked to await twice")


# The event loop of run() (not run_async), made on first use and kept for the
# process's life.  Never at import time: the native engine's zygote imports
# the harness and then forks its jailed children, which must not inherit a
# loop's selector and self-pipe.
_loop = None


def _event_loop():
    global _loop
    import asyncio

    if _loop is None or _loop.is_closed():  # the user's code may close it
        _loop = asyncio.new_event_loop()
    # Also the thread's current loop, so asyncio.get_event_loop() in the
    # user's later code finds it (asyncio.run() resets it to None).
    asyncio.set_event_loop(_loop)
    return _loop


def _run_until_complete(coroutine):
    import asyncio

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("top-level await cannot run here: an event loop is already "
                               "running in this thread (the harness's run_async can)")
        loop = _event_loop()
    except BaseException:
        coroutine.close()  # never started: no "coroutine was never awaited" warning
        raise
    loop.run_until_complete(coroutine)


def _run_steps(code, data_json, capture_output, program, session, trace=False):
    """run()'s body, as a generator.  When the compiled code awaits at the
    top level it yields the coroutine once; the caller drives it and sends
    None back, or throws in what it raised.  Returns the result dict."""
    limits = {
        "outputTruncated": False,
        "stderrTruncated": False,
        "resultTruncated": False,
        "chartsDropped": 0,
    }
    charts = []
    status = "ok"
    error = None
    result = None
    elapsed_ms = 0.0

    exit_code = 0
    try:
        if program or (session is not None and data_json is None):
            data = None
        else:
            data = json.loads(data_json) if data_json else []
    except ValueError as exc:
        data = None
        status = "error"
        error = {"type": "ValueError", "message": f"data is not valid JSON: {exc}", "traceback": ""}

    out = err = None
    saved = sys.stdout, sys.stderr
    if capture_output:
        out = _CappedStream("stdout", MAX_OUTPUT_CHARS, live_output)
        err = _CappedStream("stderr", MAX_OUTPUT_CHARS, live_output)

    if session is None:
        namespace = {"__name__": "__main__", "__builtins__": builtins}
    else:
        namespace = session
        namespace.setdefault("__name__", "__main__")
        namespace["__builtins__"] = builtins
        namespace.pop("__result__", None)
    if not program and (session is None or data_json is not None):
        namespace["data"] = data
    global _debug
    _debug = _DebugState(time.perf_counter())
    tracer = None
    for helper in (debug, inspect_var, get_debug_info) + _DB_BUILTINS:
        setattr(builtins, helper.__name__, helper)
    if status == "ok":
        linecache.cache[USER_FILENAME] = (len(code), None, code.splitlines(True), USER_FILENAME)
        restore_show = _install_show_hook(charts, limits)
        started = _debug.started = time.perf_counter()
        try:
            if capture_output:
                sys.stdout, sys.stderr = out, err
            if trace:
                tracer = _new_tracer(code, _emit_step if trace == TRACE_STREAM else None)
                tracer.start()
            compiled = compile(code, USER_FILENAME, "exec", flags=COMPILE_FLAGS,
                               dont_inherit=True)
            if compiled.co_flags & _CO_COROUTINE:
                # eval() only makes the coroutine; the names it binds appear
                # in namespace as the caller drives it.  An exception it
                # raises is thrown back in here and handled as for exec.
                yield eval(compiled, namespace)
            else:
                exec(compiled, namespace)
        except OutputLimitExceeded as exc:
            status = "output_limit"
            error = {"type": "OutputLimitExceeded", "message": str(exc), "traceback": ""}
        except SystemExit as exc:
            if exc.code not in (None, 0):
                status = "error"
                error = {
                    "type": "SystemExit",
                    "message": f"exit status {clean_text(str(exc.code))}",
                    "traceback": "",
                }
                if type(exc.code) is int:
                    exit_code = exc.code & 0xFF
                else:  # CPython prints a non-integer exit value and exits with 1
                    exit_code = 1
                    if program:
                        print(exc.code, file=sys.stderr)
        except KeyboardInterrupt:
            status = "killed"
            error = {"type": "KeyboardInterrupt", "message": "execution was stopped", "traceback": ""}
        except MemoryError as exc:
            status = "memory_limit"
            error = _error_info(exc)
            error["message"] = error["message"] or "out of memory"
            exit_code = 1
            if program:
                sys.stderr.write(error["traceback"])
        except BaseException as exc:
            status = "error"
            error = _error_info(exc)
            if program:
                exit_code = 1
                sys.stderr.write(error["traceback"])
        finally:
            if tracer is not None:
                tracer.stop()
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            if not capture_output:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        pass
            sys.stdout, sys.stderr = saved
            if restore_show is not None:
                restore_show()
        _collect_charts(charts, limits)
        if "__result__" in namespace:
            try:
                result = to_jsonable(namespace["__result__"])
                if len(json.dumps(result, allow_nan=False)) > MAX_RESULT_BYTES:
                    limits["resultTruncated"] = True
                    result = _marked(namespace["__result__"], "result larger than the limit")
            except BaseException as exc:
                result = {"__type__": "error", "__repr__": f"result could not be converted: {exc!r}"}
        linecache.cache.pop(USER_FILENAME, None)

    if capture_output:
        limits["outputTruncated"] = out.truncated
        limits["stderrTruncated"] = err.truncated
    out_dict = {
        "success": status == "ok",
        "status": status,
        "output": clean_text(out.getvalue()) if out else "",
        "stderr": clean_text(err.getvalue()) if err else "",
        "error": error,
        "result": result,
        "charts": charts,
        "executionTime": round(elapsed_ms, 3),
        "limits": limits,
    }
    if program:
        out_dict["exitCode"] = exit_code
    if _debug.used:
        out_dict["debug_info"] = _debug.info()
    if trace:
        out_dict["steps"] = tracer.steps[:TRACE_MAX_STEPS] if tracer is not None else []
        out_dict["steps_truncated"] = tracer is not None and tracer.truncated
    return out_dict


def _to_json(result):
    return json.dumps(result, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def run_json(code, data_json=None, capture_output=True, program=False, session=None,
             trace=False):
    """run() serialised as JSON text (what the engines carry)."""
    return _to_json(run(code, data_json, capture_output, program, session, trace))


async def run_json_async(code, data_json=None, capture_output=True, program=False, session=None,
                         trace=False):
    """run_async() serialised as JSON text (what the browser engine awaits)."""
    try:
        return _to_json(await run_async(code, data_json, capture_output, program, session, trace))
    except KeyboardInterrupt:
        # A Stop that landed outside the user's code, while the result was
        # being packed.  The synchronous caller gets it as an exception; here
        # it would escape from the task that runs this coroutine into the
        # event loop's callback instead, so answer as that caller does.
        return _to_json(
            {
                "success": False,
                "status": "killed",
                "output": "",
                "stderr": "",
                "error": {"type": "KeyboardInterrupt", "message": "execution was stopped",
                          "traceback": ""},
                "result": None,
                "charts": [],
                "executionTime": 0,
                "limits": {"outputTruncated": False, "stderrTruncated": False,
                           "resultTruncated": False, "chartsDropped": 0},
            }
        )
