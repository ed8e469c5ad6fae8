"""A tabular model from a pandas DataFrame: numeric and categorical columns,
standardised and one-hot encoded with pandas, a small MLP with class weights
for an unbalanced target, then predictions for new rows.

    python examples/python/tabular.py
"""
import numpy as np
import pandas as pd

import bdl
from bdl.layers import Dense, Dropout

# A synthetic table of loan applications (the project ships no tabular data):
# whether an applicant defaults depends on income, debt, age and the region.
rng = np.random.default_rng(0)
n = 20000
table = pd.DataFrame({
    "income": rng.lognormal(10.5, 0.5, n),
    "debt": rng.lognormal(9.0, 1.0, n),
    "age": rng.integers(18, 80, n),
    "region": rng.choice(["north", "south", "east", "west"], n),
})
risk = (np.log(table["debt"]) - np.log(table["income"]) + 0.02 * (40 - table["age"])
        + table["region"].map({"north": 0.0, "south": 0.3, "east": -0.2, "west": 0.1}))
table["default"] = (risk + rng.normal(0, 0.3, n) > -1.2).astype(np.int64)

numeric = ["income", "debt", "age"]
features = pd.concat([
    (np.log1p(table[numeric]) - np.log1p(table[numeric]).mean()) / np.log1p(table[numeric]).std(),
    pd.get_dummies(table["region"], dtype=np.float32),
], axis=1)
train, test = features.iloc[:16000], features.iloc[16000:]
y_train, y_test = table["default"].iloc[:16000], table["default"].iloc[16000:]
print(f"{len(features.columns)} features; defaults: {y_train.mean():.1%} of the training rows")

model = bdl.Sequential([
    bdl.Input((len(features.columns),)),
    Dense(64, activation="relu"),
    Dropout(0.1),
    Dense(32, activation="relu"),
    Dense(2),
])
model.compile(optimizer=bdl.optimizers.Adam(0.003), loss="cross_entropy",
              metrics=["accuracy", "auc"])
share = float(y_train.mean())
history = model.fit(train, y_train, batch_size=256, epochs=8, validation_split=0.1,
                    class_weight={0: 0.5 / (1 - share), 1: 0.5 / share}, verbose=2)
result = model.evaluate(test, y_test, return_dict=True)
print(f"test: accuracy {result['accuracy']:.3f}, auc {result['auc']:.3f}")

new_rows = test.iloc[:5]
logits = model.predict(new_rows)
p_default = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
print(pd.DataFrame({"p_default": p_default.round(3), "actual": y_test.iloc[:5].values}))
