"""Chart: a line of every numeric column of the data, against its row number."""
import matplotlib.pyplot as plt
import pandas as pd

df = pd.DataFrame(data if isinstance(data, list) else [data])
numeric = df.select_dtypes("number")
fig, ax = plt.subplots(figsize=(8, 4))
for name in numeric.columns:
    ax.plot(range(len(numeric)), numeric[name], label=str(name))
ax.set_xlabel("row")
ax.set_title("numeric columns")
if len(numeric.columns):
    ax.legend()
plt.show()
__result__ = {"columns": list(map(str, numeric.columns))}
