# pysandbox batch analysis (standard library only, so it runs offline in the
# browser engine; Python 3.8 or later, so it runs on Judge0's interpreter too).
# The service appends one line:
#     __result__ = run_analysis(data, "<type>")
# `data` is the posted list of rows (dicts) or documents (strings or dicts).
# Besides the statistics, the result carries chart-ready data for the page's
# report (web/report.js; docs/design/reports.md): histograms, value counts,
# the correlation matrix, the strongest pair's points and a preview.  Every
# one of those is capped below, so the result stays small whatever the row count.
import collections
import json
import math
import operator
import re
import statistics

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its of on or that the "
    "this to was were will with you your we they he she not no".split()
)

# Caps on the chart data (what happens when one is hit: the rest is left out
# and an "...Omitted" count or a "truncated" flag says so).
HIST_MAX_BINS = 20          # Sturges' rule, capped
HIST_MAX_COLUMNS = 40       # histograms; later numeric columns get none
CATEGORY_TOP = 10           # value counts kept per categorical column
CATEGORY_MAX_COLUMNS = 40   # categorical columns with value counts
MATRIX_MAX_COLUMNS = 25     # the correlation matrix covers the first 25 numeric columns
SCATTER_MAX_POINTS = 2000   # the strongest pair's points, evenly sampled in row order
PREVIEW_ROWS = 10
PREVIEW_COLUMNS = 30
LABEL_MAX_CHARS = 200       # longer strings are cut (with an ellipsis) in labels and the preview


def _is_number(v):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float
        return False


def _columns(rows):
    seen = {}
    for row in rows:
        if isinstance(row, dict):
            for key in row:
                seen.setdefault(key, None)
    return list(seen)


def _round(x, digits=6):
    return None if x is None else round(x, digits)


def describe_column(rows, column):
    values = [row.get(column) for row in rows if isinstance(row, dict)]
    present = [v for v in values if v is not None]
    numbers = [float(v) for v in present if _is_number(v)]
    booleans = [v for v in present if isinstance(v, bool)]
    texts = [v for v in present if isinstance(v, str)]
    out = {"column": column, "count": len(present), "missing": len(values) - len(present)}
    if numbers and len(numbers) == len(present):
        out["kind"] = "numeric"
        numbers.sort()
        out["mean"] = _round(statistics.fmean(numbers))
        out["stdev"] = _round(statistics.stdev(numbers)) if len(numbers) > 1 else 0.0
        out["min"] = numbers[0]
        out["max"] = numbers[-1]
        out["median"] = _round(statistics.median(numbers))
        if len(numbers) > 1:
            q1, _, q3 = statistics.quantiles(numbers, n=4, method="inclusive")
            out["q1"], out["q3"] = _round(q1), _round(q3)
        else:
            out["q1"] = out["q3"] = numbers[0]
        out["sum"] = _round(math.fsum(numbers))
    elif booleans and len(booleans) == len(present):
        out["kind"] = "boolean"
        out["true"] = sum(1 for v in booleans if v)
        out["false"] = len(booleans) - out["true"]
    elif texts and len(texts) == len(present):
        out["kind"] = "text"
        counts = collections.Counter(texts)
        out["unique"] = len(counts)
        out["top"] = [[value, n] for value, n in counts.most_common(5)]
        lengths = [len(t) for t in texts]
        out["meanLength"] = _round(statistics.fmean(lengths))
    else:
        out["kind"] = "mixed" if present else "empty"
        out["types"] = dict(collections.Counter(type(v).__name__ for v in present))
    return out


def _numeric_values(rows, column):
    """The column's values as floats, None where a row has no finite number."""
    out = []
    append = out.append
    for r in rows:
        v = r.get(column) if type(r) is dict else None
        if type(v) is float:  # the common case, checked without a call
            append(v if v - v == 0.0 else None)  # inf - inf and nan - nan are nan
        else:
            append(float(v) if _is_number(v) else None)
    return out


def _all_numeric_values(rows, columns):
    """{column: _numeric_values} for the columns with at least one number."""
    out = {}
    for c in columns:
        values = _numeric_values(rows, c)
        if any(v is not None for v in values):
            out[c] = values
    return out


def _deviations(xs):
    """xs minus their mean, and the sum of their squares (fsum: exact sums,
    so every engine gets the same digits)."""
    mean = math.fsum(xs) / len(xs)
    dev = [x - mean for x in xs]
    return dev, math.fsum(map(operator.mul, dev, dev))


def _pearson(xs, ys, x_dev=None, y_dev=None):
    """Pearson's r, or None for a constant input.  Written out (as Python 3.11's
    statistics.correlation computes it) rather than called: Python 3.8 has no
    statistics.correlation, and 3.12 changed how it sums, so every engine gets
    the same digits this way.  x_dev, y_dev: _deviations of xs, ys, when the
    caller has them (a column without gaps is paired with every other)."""
    try:
        dx, sxx = x_dev if x_dev is not None else _deviations(xs)
        dy, syy = y_dev if y_dev is not None else _deviations(ys)
        r = math.fsum(map(operator.mul, dx, dy)) / math.sqrt(sxx * syy)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None  # constant, or values near the float's limits
    return r if math.isfinite(r) else None


def correlations(rows, columns, values=None):
    """Pearson correlation for every pair of numeric columns (rows with both
    values), the matrix of the first MATRIX_MAX_COLUMNS of them, and the
    points of the strongest pair (for a scatter plot).  values: what
    _all_numeric_values(rows, columns) returns, if the caller has it."""
    if values is None:
        values = _all_numeric_values(rows, columns)
    numeric = list(values)
    pairs = []
    pair_points = {}
    # Columns without gaps: their deviations are computed once, not per pair.
    complete = {}
    for c, v in values.items():
        if len(v) >= 2 and None not in v:
            try:
                complete[c] = _deviations(v)
            except (OverflowError, ValueError):
                pass  # sums beyond the float's range: the pair loop gives None
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            if a in complete and b in complete:
                xs, ys = values[a], values[b]
                r_value = _round(_pearson(xs, ys, complete[a], complete[b]))
            else:
                xs, ys = [], []
                for x, y in zip(values[a], values[b]):
                    if x is not None and y is not None:
                        xs.append(x)
                        ys.append(y)
                r_value = _round(_pearson(xs, ys)) if len(xs) >= 2 else None
            pairs.append({"a": a, "b": b, "n": len(xs), "r": r_value})
            pair_points[(a, b)] = (xs, ys)
    pairs.sort(key=lambda p: -abs(p["r"]) if p["r"] is not None else 1)
    out = {"columns": numeric, "pairs": pairs, "matrix": _correlation_matrix(numeric, values, pairs)}
    strongest = next((p for p in pairs if p["r"] is not None), None)
    if strongest is not None:
        xs, ys = pair_points[(strongest["a"], strongest["b"])]
        out["scatter"] = _scatter(strongest, xs, ys)
    return out


def _correlation_matrix(numeric, values, pairs):
    columns = numeric[:MATRIX_MAX_COLUMNS]
    index = {c: i for i, c in enumerate(columns)}
    matrix = [[None] * len(columns) for _ in columns]
    for c, i in index.items():
        present = [v for v in values[c] if v is not None]
        # r of a column with itself: 1, unless it is constant (no r at all).
        matrix[i][i] = 1.0 if len(present) >= 2 and min(present) != max(present) else None
    for p in pairs:
        if p["a"] in index and p["b"] in index:
            matrix[index[p["a"]]][index[p["b"]]] = p["r"]
            matrix[index[p["b"]]][index[p["a"]]] = p["r"]
    out = {"columns": columns, "r": matrix}
    if len(numeric) > len(columns):
        out["columnsOmitted"] = len(numeric) - len(columns)
    return out


def _scatter(pair, xs, ys):
    n = len(xs)
    if n > SCATTER_MAX_POINTS:
        picked = [i * n // SCATTER_MAX_POINTS for i in range(SCATTER_MAX_POINTS)]
    else:
        picked = range(n)
    return {"x": pair["a"], "y": pair["b"], "r": pair["r"], "n": n,
            "points": [[xs[i], ys[i]] for i in picked], "truncated": n > SCATTER_MAX_POINTS}


def _label(value):
    """A value as a short, JSON-safe label (strings cut at LABEL_MAX_CHARS)."""
    if isinstance(value, str):
        return value if len(value) <= LABEL_MAX_CHARS else value[: LABEL_MAX_CHARS - 1] + "\u2026"
    return value


def histogram(numbers):
    """Bins of a sorted, non-empty list of floats: {edges, counts, discrete}.

    Integers spanning at most HIST_MAX_BINS values get one bin per integer
    (edges at the half-integers); otherwise Sturges' rule, capped at
    HIST_MAX_BINS, of equal width from min to max (the max in the last bin).
    None when the range overflows a float."""
    n = len(numbers)
    lo, hi = numbers[0], numbers[-1]
    if not math.isfinite(hi - lo):
        return None
    if all(v.is_integer() for v in numbers) and hi - lo + 1 <= HIST_MAX_BINS:
        counts = [0] * (int(hi - lo) + 1)
        for v in numbers:
            counts[int(v - lo)] += 1
        edges = [lo - 0.5 + i for i in range(len(counts) + 1)]
        return {"edges": edges, "counts": counts, "discrete": True}
    if lo == hi:
        return {"edges": [lo, hi], "counts": [n], "discrete": False}
    bins = min(HIST_MAX_BINS, (n - 1).bit_length() + 1)  # 1 + ceil(log2(n)), exactly
    counts = [0] * bins
    span = hi - lo
    for v in numbers:
        counts[min(bins - 1, int((v - lo) / span * bins))] += 1
    edges = [lo + span * i / bins for i in range(bins)] + [hi]
    return {"edges": edges, "counts": counts, "discrete": False}


def histograms(values, column_stats):
    """A histogram per numeric column (the first HIST_MAX_COLUMNS of them).
    values: what _all_numeric_values returns."""
    out = []
    numeric = [st["column"] for st in column_stats if st.get("kind") == "numeric"]
    for column in numeric[:HIST_MAX_COLUMNS]:
        numbers = sorted(v for v in values.get(column, ()) if v is not None)
        h = histogram(numbers) if numbers else None
        if h is not None:
            out.append(dict({"column": column, "count": len(numbers)}, **h))
    return out, max(0, len(numeric) - HIST_MAX_COLUMNS)


def categories(rows, column_stats):
    """The CATEGORY_TOP most frequent values of each categorical column: text
    columns whose values repeat (at most half of them distinct, or at most
    CATEGORY_TOP distinct values) and boolean columns."""
    out = []
    candidates = [st for st in column_stats if st.get("kind") in ("text", "boolean")]
    kept = 0
    omitted = 0
    for st in candidates:
        if st["kind"] == "text" and st["unique"] > max(CATEGORY_TOP, st["count"] // 2):
            continue  # names, identifiers, free text: bars of ones say nothing
        if kept >= CATEGORY_MAX_COLUMNS:
            omitted += 1
            continue
        kept += 1
        counts = collections.Counter(
            r.get(st["column"]) for r in rows
            if isinstance(r, dict) and isinstance(r.get(st["column"]), (str, bool))
        )
        top = counts.most_common(CATEGORY_TOP)
        out.append({
            "column": st["column"],
            "count": st["count"],
            "unique": len(counts),
            "top": [[_label(v), n] for v, n in top],
            "other": st["count"] - sum(n for _, n in top),
        })
    return out, omitted


def _preview_cell(value):
    if value is None or isinstance(value, (bool, str)):
        return _label(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, int):
        # Beyond 2**53 a JavaScript number would round it: send its digits.
        return value if abs(value) <= 2 ** 53 else _label(str(value))
    try:
        text = json.dumps(value, allow_nan=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return _label(text)


def preview(data, rows, columns):
    """The first PREVIEW_ROWS rows (or documents) as a small table."""
    if rows:
        shown = columns[:PREVIEW_COLUMNS]
        table = [[_preview_cell(r.get(c)) for c in shown] for r in rows[:PREVIEW_ROWS]]
        out = {"columns": shown, "rows": table}
        if len(columns) > len(shown):
            out["columnsOmitted"] = len(columns) - len(shown)
        return out
    return {"columns": ["document"],
            "rows": [[_preview_cell(_document_text(d))] for d in data[:PREVIEW_ROWS]]}


def outliers(rows, column_stats, values=None):
    """Values outside 1.5 IQR of each numeric column.  values: what
    _all_numeric_values returns, if the caller has it (the same numbers as
    floats, one per row, so no row is looked at again)."""
    if values is None:
        values = _all_numeric_values(rows, [st["column"] for st in column_stats])
    found = {}
    for st in column_stats:
        if st.get("kind") != "numeric" or st["count"] < 4:
            continue
        spread = st["q3"] - st["q1"]
        low, high = st["q1"] - 1.5 * spread, st["q3"] + 1.5 * spread
        hits = [
            i
            for i, v in enumerate(values.get(st["column"], ()))
            if v is not None and not low <= v <= high
        ]
        if hits:
            found[st["column"]] = {"low": _round(low), "high": _round(high), "rows": hits[:50], "count": len(hits)}
    return found


def _document_text(doc):
    if isinstance(doc, str):
        return doc
    if isinstance(doc, dict):
        for key in ("text", "content", "body", "document"):
            if isinstance(doc.get(key), str):
                return doc[key]
        return " ".join(v for v in doc.values() if isinstance(v, str))
    return ""


def text_statistics(documents):
    texts = [_document_text(d) for d in documents]
    words_per_doc = [_WORD.findall(t.lower()) for t in texts]
    counts = collections.Counter(w for words in words_per_doc for w in words if w not in _STOPWORDS)
    lengths = [len(w) for w in words_per_doc]
    return {
        "documents": len(texts),
        "words": sum(lengths),
        "meanWords": _round(statistics.fmean(lengths)) if lengths else 0,
        "characters": sum(len(t) for t in texts),
        "vocabulary": len(counts),
        "topWords": [[w, n] for w, n in counts.most_common(15)],
    }


def _print_table(headers, rows):
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _print_descriptive(stats):
    numeric = [s for s in stats if s.get("kind") == "numeric"]
    other = [s for s in stats if s.get("kind") != "numeric"]
    if numeric:
        print("Numeric columns")
        _print_table(
            ["column", "count", "missing", "mean", "stdev", "min", "median", "max"],
            [[s["column"], s["count"], s["missing"], s["mean"], s["stdev"], s["min"], s["median"], s["max"]] for s in numeric],
        )
        print()
    if other:
        print("Other columns")
        _print_table(
            ["column", "kind", "count", "missing", "detail"],
            [
                [
                    s["column"],
                    s["kind"],
                    s["count"],
                    s["missing"],
                    ", ".join(f"{v!r}: {n}" for v, n in s.get("top", [])[:3])
                    or ", ".join(f"{k}: {v}" for k, v in s.get("types", {}).items())
                    or (f"true: {s['true']}, false: {s['false']}" if s["kind"] == "boolean" else ""),
                ]
                for s in other
            ],
        )
        print()


def run_analysis(data, kind):
    if not isinstance(data, list):
        raise TypeError("data must be a list of rows")
    rows = [r for r in data if isinstance(r, dict)]
    documents_only = bool(data) and not rows
    columns = _columns(rows)
    report = {"analysisType": kind, "rows": len(data), "columns": columns}
    values = _all_numeric_values(rows, columns) if kind != "text" else {}
    print(f"{kind} analysis of {len(data)} {'documents' if documents_only else 'rows'}"
          + (f", {len(columns)} columns" if columns else ""))
    print()

    if kind in ("descriptive", "comprehensive") and rows:
        stats = [describe_column(rows, c) for c in columns]
        report["descriptive"] = stats
        report["histograms"], omitted = histograms(values, stats)
        if omitted:
            report["histogramsOmitted"] = omitted
        report["categories"], omitted = categories(rows, stats)
        if omitted:
            report["categoriesOmitted"] = omitted
        _print_descriptive(stats)
        if kind == "comprehensive":
            report["outliers"] = outliers(rows, stats, values)
            if report["outliers"]:
                print("Outliers (outside 1.5 IQR)")
                for col, o in report["outliers"].items():
                    print(f"  {col}: {o['count']} values outside [{o['low']}, {o['high']}]")
                print()
            missing = {s["column"]: s["missing"] for s in stats if s["missing"]}
            report["missing"] = missing
            duplicates = len(rows) - len({repr(sorted(r.items(), key=lambda kv: kv[0])) for r in rows})
            report["duplicateRows"] = duplicates
            print(f"Missing values: {sum(missing.values())}; duplicate rows: {duplicates}")
            print()

    if kind in ("correlation", "comprehensive") and rows:
        corr = correlations(rows, columns, values)
        report["correlation"] = corr
        if corr["pairs"]:
            print("Correlations (Pearson r)")
            _print_table(["a", "b", "n", "r"], [[p["a"], p["b"], p["n"], p["r"]] for p in corr["pairs"]])
        else:
            print("Correlations: fewer than two numeric columns")
        print()

    has_text = documents_only or any(isinstance(_document_text(r), str) and _document_text(r) for r in rows)
    if kind == "text" or (kind == "comprehensive" and has_text) or documents_only:
        text = text_statistics(data)
        report["text"] = text
        print(f"Text: {text['documents']} documents, {text['words']} words, vocabulary {text['vocabulary']}")
        if text["topWords"]:
            print("Top words: " + ", ".join(f"{w} ({n})" for w, n in text["topWords"]))
        print()
    if data:
        report["preview"] = preview(data, rows, columns)
    return report
