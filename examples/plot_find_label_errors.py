"""
Find label errors in a table
============================

A table with a label column, some of whose labels are wrong: fit one
noise-robust estimator, rank the rows by how suspicious their label is, look at
the worst ones next to their features, and decide what to do with them. Plain
training and the other method are put side by side at the end.

The table here is scikit-learn's breast-cancer data (569 tumours, 30 measured
features, labels ``"malignant"`` and ``"benign"``) with 15% of its labels
flipped on purpose, so that we can check what the estimator finds. With your
own data, start from ``pandas.read_csv``; from the command line,
``sknoisy audit data.csv --target label`` does the same and writes the ranked
rows to a CSV file.
"""

# %%
# A table with known label errors
# -------------------------------
# ``flip_labels`` flips exactly 15% of the labels and returns which ones; a
# real data set does not tell you, which is why you are auditing it.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy.audit import find_label_issues
from sknoisy.metrics import detection_report
from sknoisy.noise import flip_labels

data = load_breast_cancer(as_frame=True)
table = data.data
true_labels = data.target_names[data.target]
table["diagnosis"], flipped = flip_labels(true_labels, rate=0.15, random_state=0)
print(f"{len(table)} rows, {table.shape[1] - 1} feature columns")
print(f"{flipped.sum()} labels flipped")

# %%
# One fit scores every label
# --------------------------
# The estimator is an ordinary scikit-learn classifier, so it goes in a
# pipeline behind the scaler. ``ALRClassifier`` refines each label into a soft
# label that follows the model's own predictions; a row's noise score is the
# share of its soft label that has moved away from the given label. A small
# network and 30 epochs suffice for a table of this size, and after the single
# training run every row has a score in [0, 1] and a flag.
features = table.drop(columns="diagnosis")
settings = dict(hidden_layer_sizes=(64,), max_epochs=30, batch_size=32, random_state=0)
model = make_pipeline(StandardScaler(), ALRClassifier(**settings))
model.fit(features, table["diagnosis"])

report = find_label_issues(model, table["diagnosis"])
print(report)

# %%
# The most suspicious rows
# ------------------------
# ``report.issues()`` lists the flagged rows, most suspicious first: the row's
# position in the table, the label it was given, the label the method believes
# (``refined_label``) and its noise score. Join it to the table to look at the
# features the way a reviewer would.
issues = report.issues()
shown = ["mean radius", "mean concave points", "worst area"]
suspects = issues.join(table[shown], on="row")
print(suspects.head(10).round(3).to_string(index=False))

found = flipped[issues["row"].to_numpy()].sum()
print(
    f"\n{found} of the {len(issues)} flagged rows were flipped "
    f"(precision {found / len(issues):.2f}); "
    f"{found} of the {flipped.sum()} flipped rows were flagged "
    f"(recall {found / flipped.sum():.2f})"
)

# %%
# Where the flagged rows lie
# --------------------------
# Left: every row's noise score, ranked. The flagged rows are those above 0.5,
# where the soft label has given more than half of its mass to the other
# class; the flipped rows below the line are the ones it missed. Right: the table
# in two dimensions (PCA of the scaled features), each row in the colour of its
# given label; the flagged rows, ringed, sit inside the other class's cloud,
# which is why their labels look wrong.
scores = report.table["noise_score"].to_numpy()
ranked_flipped = flipped[report.table["row"]]
flags = model[-1].label_issues_
given = table["diagnosis"].to_numpy()
xy = PCA(n_components=2, random_state=0).fit_transform(model[0].transform(features))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
ranks = np.arange(1, len(scores) + 1)
left.scatter(ranks[~ranked_flipped], scores[~ranked_flipped], s=8, label="clean")
left.scatter(ranks[ranked_flipped], scores[ranked_flipped], s=8, label="flipped")
left.axhline(0.5, color="k", linestyle=":", linewidth=1)
left.set_xlabel("rank (most suspicious first)")
left.set_ylabel("noise score")
left.set_title("Noise scores, ranked")
left.legend()
for label, colour in zip(data.target_names, ("tab:red", "tab:blue")):
    rows = (given == label) & ~flags
    right.scatter(*xy[rows].T, s=8, color=colour, alpha=0.4, label=f"given {label}")
for label, colour in zip(data.target_names, ("tab:red", "tab:blue")):
    rows = (given == label) & flags
    right.scatter(
        *xy[rows].T, s=36, color=colour, edgecolors="k", label=f"{label}, flagged"
    )
right.set_xlabel("first principal component")
right.set_ylabel("second principal component")
right.set_title("Flagged rows in feature space")
right.legend(fontsize="small")
fig.tight_layout()
fig.savefig("find_label_errors_scores.png")

# %%
# Drop or fix
# -----------
# Two ways to act on the audit: drop the flagged rows, or replace their labels
# by the refined ones. Only flagged rows are relabelled, and a flagged row keeps
# its given label unless the final model's evidence for the other class is
# strong enough (``relabel="odds"``, see the user guide).
cleaned = table.drop(index=table.index[issues["row"]])
fixed = table.assign(diagnosis=model[-1].refined_labels_)
changed = (fixed["diagnosis"] != table["diagnosis"]).sum()
print(f"dropped: {len(cleaned)} rows left, of which ", end="")
print(f"{np.mean(cleaned['diagnosis'] == true_labels[cleaned.index]):.1%} right")
print(f"fixed:   {changed} labels changed, ", end="")
print(f"{np.mean(fixed['diagnosis'] == true_labels):.1%} of all labels right")
print(f"as given: {np.mean(table['diagnosis'] == true_labels):.1%} right")

# %%
# Plain training and the other method
# -----------------------------------
# Every sknoisy estimator sets the same attributes, so the comparison is a loop.
# The curve counts how many truly flipped rows are among the ``k`` most
# suspicious ones: a perfect ranking follows the diagonal up to the number of
# errors, a random one the dotted line. Plain training scores a row by how
# little its final model believes the given label; the longer it trains, the
# more of the wrong labels it learns, and the worse that ranking gets.
# ``WrongEventClassifier``'s scores are its mixture's posteriors, which reach
# exactly 1 for the rows predicted wrong in (nearly) every pass: its top ranks
# are ties, taken here in table order.
fig, ax = plt.subplots(figsize=(6, 4))
k = np.arange(1, 2 * flipped.sum() + 1)
ax.plot(k, np.minimum(k, flipped.sum()), color="k", linewidth=1, label="perfect")
ax.plot(k, k * flipped.mean(), color="k", linestyle=":", label="random")
fitted = {"ALRClassifier": model[-1]}
for estimator in (CrossEntropyClassifier(**settings), WrongEventClassifier(**settings)):
    pipe = make_pipeline(StandardScaler(), estimator).fit(features, table["diagnosis"])
    fitted[type(estimator).__name__] = pipe[-1]
for name, clf in fitted.items():
    order = np.argsort(-clf.noise_scores_, kind="stable")
    ax.plot(k, np.cumsum(flipped[order])[: len(k)], label=name)
    auroc = detection_report(flipped, clf.noise_scores_)["auroc"]
    print(f"{name:24s} AUROC {auroc:.3f}  flagged {clf.label_issues_.sum():3d}")
ax.set_xlabel("rows reviewed, most suspicious first")
ax.set_ylabel("flipped labels found")
ax.set_title("Label errors found per row reviewed")
ax.legend()
fig.tight_layout()
fig.savefig("find_label_errors_methods.png")
