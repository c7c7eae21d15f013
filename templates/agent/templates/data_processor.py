"""Data processor: process(data) turns the rows sent as data into a result."""


def process(rows):
    """Counts the rows and sums every numeric column (change it to your needs)."""
    rows = rows if isinstance(rows, list) else [rows]
    totals = {}
    for row in rows:
        for key, value in (row.items() if isinstance(row, dict) else []):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return {"rows": len(rows), "totals": totals}


__result__ = process(data)
print(f"processed {__result__['rows']} rows")
