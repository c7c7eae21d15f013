"""DataFrame summary: the data as a pandas DataFrame, described, with its missing values."""
import pandas as pd

df = pd.DataFrame(data if isinstance(data, list) else [data])
print(f"{len(df)} rows, {len(df.columns)} columns")
print(df.describe(include="all").to_string())
__result__ = {
    "shape": list(df.shape),
    "dtypes": {name: str(t) for name, t in df.dtypes.items()},
    "missing": {name: int(n) for name, n in df.isna().sum().items()},
}
