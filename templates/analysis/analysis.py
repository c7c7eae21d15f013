# pysandbox batch analysis (standard library only, so it runs offline in the
# browser engine).  The service appends one line:
#     __result__ = run_analysis(data, "<type>")
# `data` is the posted list of rows (dicts) or documents (strings or dicts).
import collections
import math
import re
import statistics

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its of on or that the "
    "this to was were will with you your we they he she not no".split()
)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


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


def correlations(rows, columns):
    """Pearson correlation for every pair of numeric columns (rows with both values)."""
    numeric = [
        c
        for c in columns
        if any(_is_number(r.get(c)) for r in rows if isinstance(r, dict))
    ]
    pairs = []
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            xs, ys = [], []
            for r in rows:
                if isinstance(r, dict) and _is_number(r.get(a)) and _is_number(r.get(b)):
                    xs.append(float(r[a]))
                    ys.append(float(r[b]))
            r_value = None
            if len(xs) >= 2:
                try:
                    r_value = _round(statistics.correlation(xs, ys))
                except statistics.StatisticsError:
                    r_value = None  # a constant column has no correlation
            pairs.append({"a": a, "b": b, "n": len(xs), "r": r_value})
    pairs.sort(key=lambda p: -abs(p["r"]) if p["r"] is not None else 1)
    return {"columns": numeric, "pairs": pairs}


def outliers(rows, column_stats):
    """Values outside 1.5 IQR of each numeric column."""
    found = {}
    for st in column_stats:
        if st.get("kind") != "numeric" or st["count"] < 4:
            continue
        spread = st["q3"] - st["q1"]
        low, high = st["q1"] - 1.5 * spread, st["q3"] + 1.5 * spread
        hits = [
            i
            for i, r in enumerate(rows)
            if isinstance(r, dict) and _is_number(r.get(st["column"]))
            and not low <= r[st["column"]] <= high
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
    print(f"{kind} analysis of {len(data)} {'documents' if documents_only else 'rows'}"
          + (f", {len(columns)} columns" if columns else ""))
    print()

    if kind in ("descriptive", "comprehensive") and rows:
        stats = [describe_column(rows, c) for c in columns]
        report["descriptive"] = stats
        _print_descriptive(stats)
        if kind == "comprehensive":
            report["outliers"] = outliers(rows, stats)
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
        corr = correlations(rows, columns)
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
    return report
