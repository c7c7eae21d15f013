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

# The file name the user's code is compiled as, so tracebacks name it:
# "<sandbox>", or for a program (the Judge0 API's submissions) "script.py",
# the name Judge0 gives Python sources.  _run_steps sets USER_FILENAME.
SANDBOX_FILENAME = "<sandbox>"
PROGRAM_FILENAME = "script.py"
USER_FILENAME = SANDBOX_FILENAME

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


# --- chart data: what a matplotlib figure shows, as numbers -------------------
#
# Each chart gains "chart" (type, title, axis labels, elements) read back from
# the figure's artists after it was saved, in the shape e2b's code
# interpreter gives: a line's points, a scatter's offsets, bars, pie wedges,
# box plots, a "superchart" of several axes.  Whatever cannot be read (an
# image, a 3-D or polar plot, bars mixed with lines, an unknown artist) gives
# no "chart": the PNG stays the answer.  See docs/design/insights.md.

# Points kept per line or scatter element; the rest are cut (truncated).
CHART_MAX_POINTS = 5000
# Elements per chart (series, bars, wedges, boxes; axes of a superchart).
CHART_MAX_ELEMENTS = 50
# Points kept per figure over all its elements (bars, wedges and box
# statistics count one each): keeps the answer's JSON to a few hundred KB.
CHART_MAX_TOTAL_POINTS = 20000
# Tick labels listed in xTickLabels.
CHART_MAX_TICK_LABELS = 100
# Characters of a title, label or tick label.
CHART_MAX_TEXT = 200
# Significant digits of chart numbers (ten keep a timestamp in seconds).
CHART_DIGITS = 10
# JSON bytes of one chart's data; a larger one is dropped (the PNG stays).
CHART_MAX_JSON_BYTES = 1024 * 1024

_NO_LINE = ("None", "none", " ", "")


class _Unreadable(Exception):
    """An axes holds artists whose data cannot be read back."""


class _ChartBudget:
    def __init__(self):
        self.points = CHART_MAX_TOTAL_POINTS
        self.truncated = False

    def take(self, wanted, cap):
        """How many of wanted items fit under cap and the figure's budget."""
        n = min(wanted, cap, self.points)
        if n < wanted:
            self.truncated = True
        self.points -= n
        return n


def _chart_text(text):
    text = clean_text(str(text or ""))
    return text[:CHART_MAX_TEXT]


def _chart_num(x):
    """A finite float rounded to CHART_DIGITS (an int when whole), else None."""
    x = float(x)
    if not math.isfinite(x):
        return None
    x = float(format(x, ".%dg" % CHART_DIGITS))
    if x == int(x) and abs(x) < 2 ** 53:
        return int(x)
    return x


def _artist_label(artist):
    label = artist.get_label()
    return "" if not isinstance(label, str) or label.startswith("_") else _chart_text(label)


def _axis_kind(axis):
    """("category", {position: name}), ("date", None), ("period", freq) or
    ("number", None).  pandas plots a regular time series on period
    ordinals (its PeriodConverter, the frequency kept on the axes), any
    other dates on matplotlib's day numbers."""
    getter = getattr(axis, "get_converter", None)
    converter = getter() if getter is not None else getattr(axis, "converter", None)
    module = type(converter).__module__ if converter is not None else ""
    name = type(converter).__name__ if converter is not None else ""
    if module.endswith("category"):
        mapping = getattr(axis.get_units(), "_mapping", None) or {}
        return "category", {float(v): _chart_text(k) for k, v in mapping.items()}
    if module.endswith("dates") or (module.startswith("pandas") and name == "DatetimeConverter"):
        return "date", None
    freq = getattr(axis.axes, "freq", None)
    if module.startswith("pandas") and name == "PeriodConverter" and freq is not None:
        return "period", freq
    return "number", None


def _period_text(ordinal, freq):
    import pandas

    moment = pandas.Period(ordinal=int(round(ordinal)), freq=freq).to_timestamp()
    moment = moment.to_pydatetime().replace(tzinfo=None)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date().isoformat()
    return moment.isoformat()


def _date_text(num):
    from matplotlib import dates

    moment = dates.num2date(num).replace(tzinfo=None)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date().isoformat()
    return moment.isoformat()


def _axis_values(axis, values):
    """Values of one axis as the chart shows them: category names, ISO dates,
    or rounded numbers (None where not finite)."""
    kind, mapping = _axis_kind(axis)
    out = []
    for v in values:
        v = float(v)
        if not math.isfinite(v):
            out.append(None)
        elif kind == "category" and v in mapping:
            out.append(mapping[v])
        elif kind == "date":
            out.append(_date_text(v))
        elif kind == "period":
            out.append(_period_text(v, mapping))
        else:
            out.append(_chart_num(v))
    return out


def _fixed_tick_labels(axis):
    """{position: label} when the axis's tick labels were set as text
    (set_xticks(labels=...), boxplot labels), else {}."""
    from matplotlib import ticker

    if not isinstance(axis.get_major_formatter(), ticker.FixedFormatter):
        return {}
    return {float(loc): _chart_text(t.get_text())
            for loc, t in zip(axis.get_majorticklocs(), axis.get_majorticklabels())}


def _position_label(axis, position):
    """A bar's or box's name: its category, tick label, date, or number."""
    kind, mapping = _axis_kind(axis)
    position = float(position)
    if kind == "category" and position in mapping:
        return mapping[position]
    ticks = _fixed_tick_labels(axis)
    for loc, text in ticks.items():
        if text and abs(loc - position) <= 1e-9 * max(1.0, abs(position)):
            return text
    if kind == "date":
        return _date_text(position)
    if kind == "period":
        return _period_text(position, mapping)
    return format(position, ".6g")


def _unit(label):
    """"km" from "Distance (km)" or "Distance [km]"."""
    import re

    m = re.search(r"(?:\(([^()]{1,30})\)|\[([^\[\]]{1,30})\])\s*$", label)
    return (m.group(1) or m.group(2)).strip() if m else None


def _container_artists(ax):
    """ids of every artist that belongs to one of ax's containers."""
    ids = set()
    stack = list(ax.containers)
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif item is not None:
            ids.add(id(item))
    return ids


def _points(xs_axis, ys_axis, xy, budget):
    """[[x, y], ...] of an N x 2 array, non-finite points left out."""
    import numpy

    xy = numpy.ma.filled(numpy.ma.asarray(xy, dtype=float), numpy.nan).reshape(-1, 2)
    xy = xy[numpy.isfinite(xy).all(axis=1)]
    n = budget.take(len(xy), CHART_MAX_POINTS)
    xy = xy[:n]
    return [list(p) for p in zip(_axis_values(xs_axis, xy[:, 0]),
                                 _axis_values(ys_axis, xy[:, 1]))]


def _series_elements(ax, artists, budget):
    elements = []
    if len(artists) > CHART_MAX_ELEMENTS:
        budget.truncated = True
    for artist in artists[:CHART_MAX_ELEMENTS]:
        if hasattr(artist, "get_xydata"):
            xy = artist.get_xydata()
        else:
            xy = artist.get_offsets()
        elements.append({"label": _artist_label(artist),
                         "points": _points(ax.xaxis, ax.yaxis, xy, budget)})
    return elements


def _bar_elements(ax, containers, budget):
    elements = []
    for container in containers:
        horizontal = getattr(container, "orientation", None) == "horizontal"
        axis = ax.yaxis if horizontal else ax.xaxis
        group = _artist_label(container)
        for rect in container.patches:
            if len(elements) >= CHART_MAX_ELEMENTS or budget.take(1, 1) < 1:
                budget.truncated = True
                return elements
            if horizontal:
                value, position = rect.get_width(), rect.get_y() + rect.get_height() / 2.0
            else:
                value, position = rect.get_height(), rect.get_x() + rect.get_width() / 2.0
            value = _chart_num(value)
            if value is None:
                continue
            elements.append({"label": _position_label(axis, position), "group": group,
                             "value": value})
    return elements


def _pie_elements(wedges, budget):
    elements = []
    for wedge in wedges[:budget.take(len(wedges), CHART_MAX_ELEMENTS)]:
        angle, radius = _chart_num(wedge.theta2 - wedge.theta1), _chart_num(wedge.r)
        if angle is not None and radius is not None:
            elements.append({"label": _artist_label(wedge), "angle": angle, "radius": radius})
    return elements


def _across(segment, p, v, pos, value=None):
    """True for a 2-point segment across position pos at one value (a cap,
    a median)."""
    if len(segment) != 2 or segment[0][v] != segment[1][v] or segment[0][p] == segment[1][p]:
        return False
    if not min(segment[0][p], segment[1][p]) <= pos <= max(segment[0][p], segment[1][p]):
        return False
    return value is None or segment[0][v] == value


def _parse_boxes(lines, seq, vertical):
    """The statistics of boxes drawn by Axes.boxplot/bxp, read from its lines
    in the order bxp adds them per box: [box outline], 2 whiskers, [2 caps],
    median, [mean marker], [fliers].  None when the lines are anything else."""
    p, v = (0, 1) if vertical else (1, 0)
    boxes = []
    i = 0
    while i < len(seq):
        outline = seq[i]
        if len(outline) in (5, 11) and outline[0][0] == outline[-1][0] and \
                outline[0][1] == outline[-1][1]:
            i += 1
        if i + 1 >= len(seq) or len(seq[i]) != 2 or len(seq[i + 1]) != 2:
            return None
        low, high = seq[i], seq[i + 1]
        pos = low[0][p]
        if not low[1][p] == high[0][p] == high[1][p] == pos:
            return None
        q1, whislo, q3, whishi = low[0][v], low[1][v], high[0][v], high[1][v]
        if not whislo <= q1 <= q3 <= whishi:
            return None
        i += 2
        if i + 1 < len(seq) and _across(seq[i], p, v, pos, whislo) and \
                _across(seq[i + 1], p, v, pos, whishi):
            i += 2
        if i >= len(seq) or not _across(seq[i], p, v, pos):
            return None
        median = seq[i][0][v]
        if not q1 <= median <= q3:
            return None
        i += 1
        fliers = []
        while i < len(seq) and lines[i].get_linestyle() in _NO_LINE and \
                all(point[p] == pos for point in seq[i]):
            values = [point[v] for point in seq[i]]
            if len(values) == 1 and whislo <= values[0] <= whishi:
                i += 1  # the mean marker (showmeans)
                continue
            if any(whislo <= x <= whishi for x in values):
                return None
            fliers = values
            i += 1
            break
        boxes.append((pos, whislo, q1, median, q3, whishi, fliers))
    return boxes or None


def _box_elements(ax, lines, budget):
    seq = [[tuple(point) for point in line.get_xydata().tolist()] for line in lines]
    for vertical in (True, False):
        boxes = _parse_boxes(lines, seq, vertical)
        if boxes is not None:
            break
    else:
        return None
    axis = ax.xaxis if vertical else ax.yaxis
    elements = []
    for pos, whislo, q1, median, q3, whishi, fliers in boxes:
        if len(elements) >= CHART_MAX_ELEMENTS or budget.take(1, 1) < 1:
            budget.truncated = True
            break
        kept = budget.take(len(fliers), CHART_MAX_POINTS)
        elements.append({"label": _position_label(axis, pos), "min": _chart_num(whislo),
                         "firstQuartile": _chart_num(q1), "median": _chart_num(median),
                         "thirdQuartile": _chart_num(q3), "max": _chart_num(whishi),
                         "outliers": [_chart_num(x) for x in fliers[:kept]]})
    return elements


def _axes_chart(ax, budget):
    """ax's chart dict; None for an axes with nothing drawn on it.  Raises
    _Unreadable for one whose content cannot be read back."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.patches import Wedge

    if getattr(ax, "name", "") != "rectilinear" or ax.images:
        raise _Unreadable()
    owned = _container_artists(ax)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    lines = [line for line in ax.lines if id(line) not in owned]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    wedges = [w for w in ax.patches if isinstance(w, Wedge)]
    kinds = [k for k, present in (("pie", wedges), ("bar", bars), ("series", lines or scatters))
             if present]
    if not kinds:
        if ax.collections or ax.patches or ax.lines:
            raise _Unreadable()  # only fills, step histograms, hexbins...
        return None
    if len(kinds) > 1:
        raise _Unreadable()  # bars with a line (a Pareto chart): not one of the types
    chart_type = kinds[0]
    elements = None
    if chart_type == "pie":
        elements = _pie_elements(wedges, budget)
    elif chart_type == "bar":
        elements = _bar_elements(ax, bars, budget)
    elif not scatters:
        elements = _box_elements(ax, lines, budget)
        chart_type = "box_and_whisker" if elements is not None else "line"
    if elements is None:
        chart_type = "scatter" if scatters else "line"
        elements = _series_elements(ax, scatters + lines if scatters else lines, budget)
    title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
    chart = {"type": chart_type, "title": _chart_text(title),
             "xLabel": _chart_text(ax.get_xlabel()), "yLabel": _chart_text(ax.get_ylabel())}
    for key, label in (("xUnit", chart["xLabel"]), ("yUnit", chart["yLabel"])):
        unit = _unit(label)
        if unit:
            chart[key] = unit
    kind, mapping = _axis_kind(ax.xaxis)
    if kind == "category":
        chart["xTickLabels"] = [mapping[k] for k in sorted(mapping)][:CHART_MAX_TICK_LABELS]
    else:
        ticks = _fixed_tick_labels(ax.xaxis)
        if ticks:
            chart["xTickLabels"] = [ticks[k] for k in sorted(ticks)][:CHART_MAX_TICK_LABELS]
    chart["elements"] = elements
    return chart


def _figure_chart(fig):
    """The "chart" of a saved figure, or None (see the section's comment)."""
    budget = _ChartBudget()
    charts = []
    for ax in fig.get_axes():
        if getattr(ax, "_colorbar", None) is not None:
            continue  # a colorbar is the key of another axes' colours, not data
        chart = _axes_chart(ax, budget)
        if chart is not None:
            charts.append(chart)
    if not charts:
        return None
    if len(charts) == 1:
        chart = charts[0]
    else:
        if len(charts) > CHART_MAX_ELEMENTS:
            budget.truncated = True
        texts = [getattr(fig, name, None) for name in ("_suptitle", "_supxlabel", "_supylabel")]
        title, xlabel, ylabel = (_chart_text(t.get_text()) if t is not None else "" for t in texts)
        chart = {"type": "superchart", "title": title, "xLabel": xlabel, "yLabel": ylabel,
                 "elements": charts[:CHART_MAX_ELEMENTS]}
    if budget.truncated:
        chart["truncated"] = True
    return chart


def _chart_data(fig):
    """_figure_chart(fig), or None when reading it fails in any way or its
    JSON would pass CHART_MAX_JSON_BYTES: the PNG is then the answer."""
    try:
        chart = _figure_chart(fig)
        if chart is None or len(json.dumps(chart, allow_nan=False)) > CHART_MAX_JSON_BYTES:
            return None
        return chart
    except (KeyboardInterrupt, OutputLimitExceeded):
        raise
    except BaseException:  # _Unreadable, or an artist this matplotlib lays out otherwise
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
            entry = {
                "format": "png",
                "data": base64.b64encode(png).decode("ascii"),
                "width": width,
                "height": height,
            }
            chart = _chart_data(fig)  # after savefig: the figure is laid out, its ticks set
            if chart is not None:
                entry["chart"] = chart
            charts.append(entry)
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


# --- insights: what stands out in the data ------------------------------------
#
# find_insights(data) looks at the request's data (a list of row dicts, or a
# dict of equal-length column lists) and names what stands out: strong
# correlations, outliers, trends, missing values, skew, constant columns,
# dominant categories, duplicate rows.  run(insights=True) adds its answer to
# the result; a run also finds it as a builtin.  Standard library only, and
# only arithmetic that is exact or correctly rounded everywhere (+ - * /,
# sqrt, math.fsum, sorting): Pyodide's wasm libm and glibc then give the
# same floats, and rounding to INSIGHTS_DIGITS makes the JSON byte-identical
# (statistics.* and sum() are not used: their rounding differs by version).
# Rules, thresholds and scores: docs/design/insights.md.

# Findings returned, best first; the rest are dropped.
MAX_INSIGHTS = 50
# Rows looked at: the first ones, in order; evidence then carries
# rowsConsidered and rowsTotal.
INSIGHTS_MAX_ROWS = 100_000
# Columns looked at (first seen first); later columns are ignored.
INSIGHTS_MAX_COLUMNS = 50
# Rows x columns looked at: with more columns, fewer rows (10 columns: the
# first 20,000 rows).  Keeps the worst case near a second natively.
INSIGHTS_MAX_CELLS = 200_000
# Pairs of numeric columns x rows correlated: past it each pair uses only
# its first INSIGHTS_MAX_PAIR_CELLS // pairs rows (evidence n says how many).
INSIGHTS_MAX_PAIR_CELLS = 2_000_000
# Significant digits of every float in a finding.
INSIGHTS_DIGITS = 6
# Characters of a name or value quoted in a message or evidence.
INSIGHTS_MAX_TEXT = 200
# Values and row indices listed in an outlier's or duplicates' evidence.
INSIGHTS_MAX_LISTED = 5
# Share of a column's non-missing values that must be numbers (or strings,
# or ISO dates) for the column to count as numeric (text, dates); the others
# are then ignored by that column's numeric (text, date) rules.
INSIGHTS_TYPE_SHARE = 0.9
# A correlation or trend's score reaches |r| from this many pairs on.
INSIGHTS_CONFIDENT_N = 30
CORRELATION_MIN_R = 0.7
CORRELATION_MIN_N = 3
OUTLIER_MIN_N = 5
OUTLIER_MODIFIED_Z = 3.5  # Iglewicz and Hoaglin's cut-off
OUTLIER_IQR_FACTOR = 1.5  # Tukey's fences, used when the MAD is 0
TREND_MIN_R = 0.7
TREND_MIN_N = 5
SKEW_MIN = 1.0
SKEW_MIN_N = 10
CONSTANT_MIN_N = 2
DOMINANT_MIN_SHARE = 0.5
DOMINANT_MIN_N = 5
# The order column named by a trend over row order (no date column).
ROW_ORDER = "(row order)"

_OUTLIER_RULE_MAD = "modified z-score > 3.5 (median and MAD)"
_OUTLIER_RULE_IQR = "outside 1.5 IQR of the quartiles"
_MISSING = object()  # a row without the column's key
_ISO_DATE = None  # compiled on first use: the harness's import stays cheap


def find_insights(data):
    """Returns what stands out in data, a list of row dicts (or a dict of
    equal-length column lists): correlations, outliers, trends, missing
    values, skew, constant columns, dominant categories, duplicate rows.

    Each finding is {kind, columns, message, score, evidence}, best (score
    0..1) first, at most 50.  Anything else than such data gives [].  It
    never raises on odd data: a failure gives [] too."""
    try:
        return _find_insights(data)
    except (KeyboardInterrupt, OutputLimitExceeded):
        raise
    except BaseException:  # RecursionError, MemoryError, a bug: no insights, never a failed run
        return []


def _insights_of_json(data_json):
    """find_insights() of data parsed afresh from data_json ([] without data)."""
    if not data_json:
        return []
    try:
        data = json.loads(data_json)
    except (KeyboardInterrupt, OutputLimitExceeded):
        raise
    except BaseException:
        return []
    return find_insights(data)


def _round_sig(x):
    """x rounded to INSIGHTS_DIGITS significant digits (Python's own
    correctly rounded formatting: the same on every platform)."""
    x = float(format(x, ".%dg" % INSIGHTS_DIGITS))
    return 0.0 if x == 0 else x


def _fmt(x):
    """A number for a message: 3 significant digits."""
    if type(x) is int and abs(x) < 10 ** 15:
        return str(x)
    return format(float(x), ".3g")


def _name(text):
    text = clean_text(text)
    if len(text) > INSIGHTS_MAX_TEXT:
        text = text[:INSIGHTS_MAX_TEXT] + "..."
    return "'" + text + "'"


def _number_out(x):
    """A data value for evidence: a JSON-safe int, else a rounded float."""
    if type(x) is int and -(2 ** 53) <= x <= 2 ** 53:
        return x
    return _round_sig(float(x))


def _value_out(v):
    """A data value for evidence: short, JSON-safe."""
    if v is None or type(v) is bool:
        return v
    if type(v) in (int, float):
        try:
            return _number_out(v)
        except (OverflowError, ValueError):
            return "<number too large>"
    if type(v) is str:
        return clean_text(v[:INSIGHTS_MAX_TEXT])
    try:
        text = json.dumps(v, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except Exception:
        text = "<" + type(v).__name__ + ">"
    return clean_text(text[:INSIGHTS_MAX_TEXT])


def _cell_key(v):
    """A hashable key equal for equal JSON values (1 and 1.0 alike, True
    apart from 1), for distinct counts and duplicate rows."""
    t = type(v)
    if v is None:
        return (0,)
    if t is bool:
        return (1, v)
    if t is int:
        return (2, v)
    if t is float:
        return (2, v) if v == v else (3,)
    if t is str:
        return (4, v)
    try:
        return (5, json.dumps(v, sort_keys=True, allow_nan=True))
    except Exception:  # deep nesting, non-JSON objects: equal only to itself
        return (6, id(v))


def _parse_iso_day(text):
    """An ISO date or datetime string as days (float) since 0001-01-01, or
    None.  Parsed here, not by datetime.fromisoformat, whose accepted forms
    differ between Python 3.8 and 3.11."""
    global _ISO_DATE
    if len(text) > 40:
        return None
    if _ISO_DATE is None:
        import re

        _ISO_DATE = re.compile(
            r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
            r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]{1,9})?)?"
            r"(Z|[+-][0-9]{2}:?[0-9]{2})?)?")
    m = _ISO_DATE.fullmatch(text)
    if m is None:
        return None
    import datetime

    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        days = datetime.date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        return None
    if hour is None:
        return float(days)
    hour, minute, second = int(hour), int(minute), int(second or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    seconds = hour * 3600 + minute * 60 + second
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[-2:]) * 60)
    day_seconds = float(seconds)
    if fraction:
        day_seconds += float(fraction)
    return days + day_seconds / 86400.0


class _Column:
    """One column's cells, classified."""

    __slots__ = ("name", "cells", "missing", "present", "numbers", "numeric", "text", "days",
                 "centred")

    def __init__(self, name, cells):
        self.name = name
        self.cells = cells  # the row's value, or _MISSING
        self.missing = 0  # missing key, None or NaN
        self.present = 0
        self.numbers = None  # numeric column: float per row, None where unusable
        self.numeric = False
        self.text = False
        self.days = None  # date column: days per row, None where not a date
        self.centred = None  # see _centred


def _centred(values):
    """(values minus their mean, sum of their squares) for a list of floats
    with no None in it, or None when it has one (or the sums overflow)."""
    import operator

    if not values or any(x is None for x in values):
        return None
    try:
        mean = math.fsum(values) / len(values)
        centred = [x - mean for x in values]
        return centred, math.fsum(map(operator.mul, centred, centred))
    except (ArithmeticError, ValueError):
        return None


def _column_centred(col):
    if col.centred is None:
        col.centred = _centred(col.numbers) or ()
    return col.centred or None


def _classify(col):
    cells = col.cells
    types = set(map(type, cells))
    if types <= {int, float}:  # the common numeric column: C loops only
        try:
            floats = list(map(float, cells))
        except OverflowError:  # a huge int: the loop below sorts it out
            floats = None
        if floats is not None and all(map(math.isfinite, floats)):
            col.present, col.numeric, col.numbers = len(cells), True, floats
            return
    elif types == {str}:
        col.present, col.text = len(cells), True
        col.days = _days_of(cells, len(cells))
        return
    floats = []
    number_like = strings = 0
    for v in cells:
        t = type(v)
        if t is float:
            if v != v:
                col.missing += 1
                floats.append(None)
                continue
            number_like += 1
            floats.append(v if v - v == 0 else None)  # inf: a number, not used
        elif t is int:
            number_like += 1
            try:
                floats.append(float(v))
            except OverflowError:  # a huge int: a number, not used
                floats.append(None)
        else:
            floats.append(None)
            if v is _MISSING or v is None:
                col.missing += 1
            elif t is str:
                strings += 1
    col.present = len(cells) - col.missing
    if col.present == 0:
        return
    if number_like >= INSIGHTS_TYPE_SHARE * col.present:
        col.numeric = True
        col.numbers = floats
    elif strings >= INSIGHTS_TYPE_SHARE * col.present:
        col.text = True
        col.days = _days_of(cells, col.present)


def _days_of(cells, present):
    """Days per row when enough of a text column's values are ISO dates (see
    INSIGHTS_TYPE_SHARE), else None.  Gives up at the first value past the
    share's allowance that is not a date: a text column costs a few tries."""
    allowed = present - math.ceil(INSIGHTS_TYPE_SHARE * present)
    days = []
    for v in cells:
        d = _parse_iso_day(v) if type(v) is str else None
        if d is None and v is not _MISSING and v is not None and not (
                type(v) is float and v != v):
            allowed -= 1
            if allowed < 0:
                return None
        days.append(d)
    return days


def _table(data):
    """(rows, row indices, total, cut) from data, or None when data is not a
    table.  Row indices are positions in data (a list's items that are not
    dicts are skipped); total counts data's rows; cut says whether a cap
    (INSIGHTS_MAX_ROWS, INSIGHTS_MAX_CELLS) left rows out."""
    if isinstance(data, dict):
        lists = list(data.values())
        if not lists or not all(type(v) is list for v in lists):
            return None
        total = len(lists[0])
        if any(len(v) != total for v in lists):
            return None
        names = [k for k in data if type(k) is str][:INSIGHTS_MAX_COLUMNS]
        length = min(total, INSIGHTS_MAX_ROWS, INSIGHTS_MAX_CELLS // max(1, len(names)))
        rows = [{k: data[k][i] for k in names} for i in range(length)]
        return rows, list(range(length)), total, length < total
    if not isinstance(data, list):  # a DbResult (a list subclass) is a list of rows too
        return None
    total = len(data)
    head = data[:INSIGHTS_MAX_ROWS]
    indices = [i for i, r in enumerate(head) if type(r) is dict]
    if not indices:
        return None
    return [head[i] for i in indices], indices, total, total > INSIGHTS_MAX_ROWS


def _pearson(xs, ys):
    """(r, slope of ys on xs) of two equal-length float lists, or None when
    either does not vary (or the sums overflow)."""
    import operator

    n = len(xs)
    mx = math.fsum(xs) / n
    my = math.fsum(ys) / n
    dx = [x - mx for x in xs]
    dy = [y - my for y in ys]
    return _pearson_centered((dx, math.fsum(map(operator.mul, dx, dx))),
                             (dy, math.fsum(map(operator.mul, dy, dy))))


def _pearson_centered(x, y):
    """_pearson() of centred values, each given with its sum of squares."""
    import operator

    (dx, sxx), (dy, syy) = x, y
    if not (sxx > 0 and syy > 0) or not math.isfinite(sxx) or not math.isfinite(syy):
        return None
    sxy = math.fsum(map(operator.mul, dx, dy))
    r = sxy / (math.sqrt(sxx) * math.sqrt(syy))
    if not math.isfinite(r):
        return None
    return max(-1.0, min(1.0, r)), sxy / sxx


def _median_sorted(s):
    n = len(s)
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def _quantile_sorted(s, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(s) - 1) * p
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _finding(kind, columns, message, score, evidence):
    return {"kind": kind, "columns": [clean_text(c) for c in columns], "message": message,
            "score": _round_sig(max(0.0, min(1.0, score))), "evidence": evidence}


def _confidence(n):
    return min(1.0, n / float(INSIGHTS_CONFIDENT_N))


def _find_insights(data):
    table = _table(data)
    if table is None:
        return []
    rows, indices, total, cut = table
    names = []
    seen = set()
    for row in rows:
        for key in row:
            if type(key) is str and key not in seen:
                seen.add(key)
                names.append(key)
    names = names[:INSIGHTS_MAX_COLUMNS]
    keep = INSIGHTS_MAX_CELLS // max(1, len(names))
    if len(rows) > keep:
        rows, indices, cut = rows[:keep], indices[:keep], True
    n_rows = len(rows)
    columns = []
    for name in names:
        col = _Column(name, [row.get(name, _MISSING) for row in rows])
        _classify(col)
        columns.append(col)

    findings = []
    for rule in (_missing_findings, _constant_and_dominant_findings, _numeric_findings,
                 _correlation_findings, _trend_findings, _duplicate_findings):
        try:
            findings.extend(rule(columns, n_rows, indices, rows))
        except (ArithmeticError, ValueError):  # a hostile column: that rule says nothing
            pass
    if cut:
        for f in findings:
            f["evidence"]["rowsConsidered"] = n_rows
            f["evidence"]["rowsTotal"] = total
    findings.sort(key=lambda f: (-f["score"], f["kind"], f["columns"]))
    return findings[:MAX_INSIGHTS]


def _missing_findings(columns, n_rows, indices, rows):
    out = []
    for col in columns:
        if col.missing == 0:
            continue
        fraction = col.missing / float(n_rows)
        out.append(_finding(
            "missing", [col.name],
            "%s is missing in %d of %d rows (%s%%)." % (
                _name(col.name), col.missing, n_rows, _fmt(100.0 * fraction)),
            0.3 + 0.6 * fraction,
            {"count": col.missing, "fraction": _round_sig(fraction)}))
    return out


def _constant_and_dominant_findings(columns, n_rows, indices, rows):
    from collections import Counter

    out = []
    for col in columns:
        if col.present < CONSTANT_MIN_N:
            continue
        values = [v for v in col.cells
                  if v is not _MISSING and v is not None and not (type(v) is float and v != v)]
        first = values[0]
        first_type, first_key = type(first), _cell_key(first)
        # one pass that stops at the first other value (most columns: the second)
        if all((type(v) is first_type and v == first) or _cell_key(v) == first_key
               for v in values):
            value = _value_out(first)
            shown = _name(value) if type(value) is str else json.dumps(value)
            out.append(_finding(
                "constant", [col.name],
                "%s has the same value in all %d rows where it is present: %s." % (
                    _name(col.name), len(values), shown),
                0.4, {"value": value}))
            continue
        if not col.text or col.days is not None or col.present < DOMINANT_MIN_N:
            continue
        counts = Counter([v for v in values if type(v) is str])
        ranked = sorted(((c, v) for v, c in counts.items()), key=lambda cv: (-cv[0], cv[1]))
        if len(ranked) < 2 or ranked[0][0] == ranked[1][0]:
            continue
        count, value = ranked[0]
        fraction = count / float(col.present)
        if fraction < DOMINANT_MIN_SHARE:
            continue
        out.append(_finding(
            "dominant_category", [col.name],
            "%s is %s in %s%% of the rows where it is present (%d of %d)." % (
                _name(col.name), _name(value), _fmt(100.0 * fraction), count, col.present),
            0.6 * fraction,
            {"value": clean_text(value[:INSIGHTS_MAX_TEXT]), "count": count,
             "fraction": _round_sig(fraction)}))
    return out


def _numeric_findings(columns, n_rows, indices, rows):
    out = []
    for col in columns:
        if not col.numeric:
            continue
        try:
            finding = _outlier_finding(col, indices)
            if finding is not None:
                out.append(finding)
        except (ArithmeticError, ValueError):
            pass
        try:
            finding = _skew_finding(col)
            if finding is not None:
                out.append(finding)
        except (ArithmeticError, ValueError):
            pass
    return out


def _outlier_finding(col, indices):
    present = [(x, i) for i, x in enumerate(col.numbers) if x is not None]
    n = len(present)
    if n < OUTLIER_MIN_N:
        return None
    s = sorted([x for x, _ in present])
    med = _median_sorted(s)
    mad = _median_sorted(sorted([abs(x - med) for x in s]))
    if mad > 0:
        rule = _OUTLIER_RULE_MAD
        scale = 0.6745 / mad
        flagged = [(abs(x - med) * scale, x, i) for x, i in present
                   if abs(x - med) * scale > OUTLIER_MODIFIED_Z]
        if not flagged:
            return None
        severity = max(z for z, _, _ in flagged) - OUTLIER_MODIFIED_Z
    else:
        rule = _OUTLIER_RULE_IQR
        q1, q3 = _quantile_sorted(s, 0.25), _quantile_sorted(s, 0.75)
        iqr = q3 - q1
        lo, hi = q1 - OUTLIER_IQR_FACTOR * iqr, q3 + OUTLIER_IQR_FACTOR * iqr
        flagged = [(max(lo - x, x - hi), x, i) for x, i in present if x < lo or x > hi]
        if not flagged:
            return None
        beyond = max(d for d, _, _ in flagged)
        severity = beyond / iqr if iqr > 0 else 10.0
    if not all(math.isfinite(d) for d, _, _ in flagged):
        return None
    # the most extreme first (ties by row)
    flagged.sort(key=lambda dxi: (-abs(dxi[1] - med), dxi[2]))
    listed = flagged[:INSIGHTS_MAX_LISTED]
    values = [_value_out(col.cells[i]) for _, _, i in listed]
    rows = [indices[i] for _, _, i in listed]
    count = len(flagged)
    score = (0.5 + 0.05 * min(severity, 10.0)) * (1.0 - count / float(n))
    top = values[0]
    return _finding(
        "outlier", [col.name],
        "%s has %d outlier%s; the most extreme is %s at row %d." % (
            _name(col.name), count, "" if count == 1 else "s",
            _fmt(top) if type(top) in (int, float) else top, rows[0]),
        score, {"rule": rule, "count": count, "values": values, "rows": rows})


def _skew_finding(col):
    xs = [x for x in col.numbers if x is not None]
    n = len(xs)
    if n < SKEW_MIN_N:
        return None
    fsum = math.fsum
    mean = fsum(xs) / n
    d = [x - mean for x in xs]
    m2 = fsum([e * e for e in d]) / n
    if not (m2 > 0) or not math.isfinite(m2):
        return None
    m3 = fsum([e * e * e for e in d]) / n
    g1 = m3 / (m2 * math.sqrt(m2))
    skew = g1 * math.sqrt(n * (n - 1.0)) / (n - 2.0)  # adjusted, as pandas' skew()
    if not math.isfinite(skew) or abs(skew) < SKEW_MIN:
        return None
    skew = _round_sig(skew)
    return _finding(
        "skew", [col.name],
        "%s is %s-skewed (skewness %s)." % (_name(col.name), "right" if skew > 0 else "left",
                                             _fmt(skew)),
        min(0.6, 0.2 + 0.1 * abs(skew)), {"skewness": skew})


def _correlation_findings(columns, n_rows, indices, rows):
    numeric = [c for c in columns if c.numeric]
    pairs_count = len(numeric) * (len(numeric) - 1) // 2
    if pairs_count * n_rows > INSIGHTS_MAX_PAIR_CELLS:  # the first rows only, for every pair
        n_rows = max(CORRELATION_MIN_N, INSIGHTS_MAX_PAIR_CELLS // pairs_count)
        cut = []
        for col in numeric:
            head = _Column(col.name, None)
            head.numbers = col.numbers[:n_rows]
            cut.append(head)
        numeric = cut
    out = []
    for a in range(len(numeric)):
        for b in range(a + 1, len(numeric)):
            ca, cb = numeric[a], numeric[b]
            try:
                x, y = _column_centred(ca), _column_centred(cb)
                if x is not None and y is not None:
                    n = n_rows
                    fit = _pearson_centered(x, y)
                else:
                    pairs = [(x, y) for x, y in zip(ca.numbers, cb.numbers)
                             if x is not None and y is not None]
                    n = len(pairs)
                    if n < CORRELATION_MIN_N:
                        continue
                    fit = _pearson([x for x, _ in pairs], [y for _, y in pairs])
            except (ArithmeticError, ValueError):
                continue
            if fit is None or abs(fit[0]) < CORRELATION_MIN_R:
                continue
            r = _round_sig(fit[0])
            out.append(_finding(
                "correlation", [ca.name, cb.name],
                "%s and %s are strongly %s correlated (r = %s, n = %d)." % (
                    _name(ca.name), _name(cb.name), "positively" if r > 0 else "negatively",
                    _fmt(r), n),
                abs(r) * _confidence(n), {"r": r, "n": n, "method": "pearson"}))
    return out


def _is_counter(numbers):
    """True for values that step by one same non-zero amount from row to row
    (an id, a counter, a year per row): their trend over rows says nothing."""
    xs = [x for x in numbers if x is not None]
    if len(xs) < 2:
        return False
    step = xs[1] - xs[0]
    return step != 0 and all(xs[k + 1] - xs[k] == step for k in range(len(xs) - 1))


def _trend_findings(columns, n_rows, indices, rows):
    order = None
    for col in columns:
        if col.days is not None and len(set(d for d in col.days if d is not None)) >= 2:
            order = col
            break
    if order is not None:
        positions, order_name, unit = order.days, order.name, "day"
    else:
        positions, order_name, unit = [float(i) for i in indices], ROW_ORDER, "row"
    order_centred = _centred(positions)
    out = []
    for col in columns:
        if not col.numeric or _is_counter(col.numbers):
            continue
        try:
            values_centred = _column_centred(col)
            if order_centred is not None and values_centred is not None:
                n = len(positions)
                if n < TREND_MIN_N:
                    continue
                fit = _pearson_centered(order_centred, values_centred)
            else:
                pairs = [(t, y) for t, y in zip(positions, col.numbers)
                         if t is not None and y is not None]
                n = len(pairs)
                if n < TREND_MIN_N:
                    continue
                fit = _pearson([t for t, _ in pairs], [y for _, y in pairs])
        except (ArithmeticError, ValueError):
            continue
        if fit is None or abs(fit[0]) < TREND_MIN_R or not math.isfinite(fit[1]):
            continue
        r, slope = _round_sig(fit[0]), _round_sig(fit[1])
        direction = "increasing" if fit[1] > 0 else "decreasing"
        over = "over " + _name(order_name) if order is not None else "over the rows' order"
        out.append(_finding(
            "trend", [col.name, order_name],
            "%s is %s %s (about %s per %s, r = %s)." % (
                _name(col.name), direction, over, _fmt(slope), unit, _fmt(r)),
            abs(r) * _confidence(n),
            {"orderBy": clean_text(order_name), "slope": slope, "r": r, "n": n,
             "direction": direction, "unit": unit}))
    return out


def _duplicate_findings(columns, n_rows, indices, rows):
    names = set(col.name for col in columns)
    if all(len(row) == len(names) or all(k in names for k in row) for row in rows):
        # every key of every row is a column looked at: a row is its column
        # values, each as itself where that is an exact key (str, int,
        # float), else as _cell_key (bool apart from int, lists, dicts, NaN)
        keyed = []
        for col in columns:
            types = set(map(type, col.cells))
            if types <= {str, int, float, type(None), object} and (
                    float not in types or not any(v != v for v in col.cells if type(v) is float)):
                keyed.append(col.cells)
            else:
                keyed.append([v if v is _MISSING else _cell_key(v) for v in col.cells])
        keys = zip(*keyed)
    else:  # keys beyond INSIGHTS_MAX_COLUMNS, or not str: each row as a whole
        keys = (frozenset((k, _cell_key(v)) for k, v in row.items()) for row in rows)
    seen = set()
    duplicates = []
    for k, key in enumerate(keys):
        if key in seen:
            duplicates.append(indices[k])
        else:
            seen.add(key)
    if not duplicates:
        return []
    count = len(duplicates)
    return [_finding(
        "duplicates", [],
        "%d row%s %s exact duplicate%s of an earlier row." % (
            count, "" if count == 1 else "s", "is an" if count == 1 else "are",
            "" if count == 1 else "s"),
        min(1.0, 0.5 + count / float(n_rows)),
        {"count": count, "rows": duplicates[:INSIGHTS_MAX_LISTED]})]


def describe_helpers():
    """Every helper a run finds as a builtin, with its signature and the
    first paragraph of its docstring: what GET /sandbox/{id}/help/functions
    answers (tools/harness-help writes it at build time, so it cannot
    drift from this file)."""
    import inspect

    out = []
    for obj in (debug, inspect_var, get_debug_info, find_insights) + _DB_BUILTINS:
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


def run(code, data_json=None, capture_output=True, program=False, session=None, trace=False,
        insights=False):
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

    insights=True adds ``insights``: find_insights() of the data parsed
    afresh from data_json (the input, whatever the code did to ``data``;
    [] without data_json, and for a program, which has no ``data``),
    computed after the code, even when it failed, and not counted in
    executionTime.

    Top-level await: code that awaits at the top level runs to its end on
    this process's one event loop (see _event_loop), made on first use.
    Tasks it leaves pending stay on that loop and run again only while a
    later run in the same process drives the loop (a stateful sandbox's
    next await); a process that exits drops them.  Where a loop is already
    running in this thread (Pyodide), use run_async() instead.
    """
    steps = _run_steps(code, data_json, capture_output, program, session, trace, insights)
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
                    trace=False, insights=False):
    """run() for a caller with a running event loop (Pyodide's webloop): code
    that awaits at the top level is awaited here, on that loop.  Tasks it
    leaves pending stay on the loop and go on running after the run (their
    output then goes wherever sys.stdout points at that moment)."""
    steps = _run_steps(code, data_json, capture_output, program, session, trace, insights)
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


def _run_steps(code, data_json, capture_output, program, session, trace=False, insights=False):
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
    global _debug, USER_FILENAME
    _debug = _DebugState(time.perf_counter())
    USER_FILENAME = PROGRAM_FILENAME if program else SANDBOX_FILENAME
    tracer = None
    for helper in (debug, inspect_var, get_debug_info, find_insights) + _DB_BUILTINS:
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
    if insights:  # after executionTime was taken: the data's, not the program's
        out_dict["insights"] = [] if program else _insights_of_json(data_json)
    return out_dict


def _to_json(result):
    return json.dumps(result, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def run_json(code, data_json=None, capture_output=True, program=False, session=None,
             trace=False, insights=False):
    """run() serialised as JSON text (what the engines carry)."""
    return _to_json(run(code, data_json, capture_output, program, session, trace, insights))


async def run_json_async(code, data_json=None, capture_output=True, program=False, session=None,
                         trace=False, insights=False):
    """run_async() serialised as JSON text (what the browser engine awaits)."""
    try:
        return _to_json(await run_async(code, data_json, capture_output, program, session, trace,
                                        insights))
    except KeyboardInterrupt:
        # A Stop that landed outside the user's code, while the result was
        # being packed.  The synchronous caller gets it as an exception; here
        # it would escape from the task that runs this coroutine into the
        # event loop's callback instead, so answer as that caller does.
        killed = {
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
        if insights:
            killed["insights"] = []
        return _to_json(killed)
