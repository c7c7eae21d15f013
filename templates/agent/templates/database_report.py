"""Database report: every table of the service's database with its columns and row count."""

report = []
for table in await db_tables():
    columns = await db_schema(table)
    count = (await db_query(f'SELECT COUNT(*) AS n FROM "{table}"'))[0]["n"]
    report.append({"table": table, "rows": count, "columns": [c["name"] for c in columns]})
    print(f"{table}: {count} rows, {len(columns)} columns")
__result__ = report
