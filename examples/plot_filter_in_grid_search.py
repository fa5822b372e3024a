"""
Filter label errors inside a grid search
========================================

scikit-learn's ``Pipeline`` cannot drop rows. sknoisy's
``NoiseFilteredClassifier`` cleans the training data of each fold with a
noise-robust detector, then fits any classifier on what remains; the
validation and test folds are never touched. The way of cleaning (remove,
relabel or down-weight the suspects) is then a parameter like any other, tuned
together with the classifier's. With imbalanced-learn installed,
``LabelNoiseFilter`` does the same as a pipeline step.
"""

# %%
# Noisy training labels, clean test labels
# ----------------------------------------
# Digits, with 30% of the training labels flipped; the test labels stay clean,
# so that the test accuracy measures what we care about.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier
from sknoisy.audit import NoiseFilteredClassifier
from sknoisy.noise import flip_labels

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
y_noisy, flipped = flip_labels(y_train, rate=0.3, random_state=0)
print(f"{len(y_train)} training rows, {flipped.sum()} of their labels flipped")

# %%
# Tune the cleaning and the classifier together
# ---------------------------------------------
# The detector is cloned and fitted on each training fold; a small network and
# 20 epochs keep the 18 fits of this search short. The validation folds keep
# their noisy labels, since those are all we have. That still ranks the
# candidates fairly: under symmetric noise at rate ``r`` over ``C`` classes,
# the expected accuracy on noisy labels is ``(1 - r) a + r (1 - a) / (C - 1)``
# for a true accuracy ``a``, which grows with ``a``.
#
# Each candidate fits its own detector, even where only the classifier's
# parameters differ, so the detector's cost is paid once per candidate and
# fold: keep the grid small.
detector = ALRClassifier(
    hidden_layer_sizes=(64,), max_epochs=20, batch_size=64, random_state=0
)
search = GridSearchCV(
    NoiseFilteredClassifier(LogisticRegression(max_iter=1000), detector=detector),
    {"action": ["remove", "relabel", "weight"], "classifier__C": [0.1, 1.0]},
    cv=3,
)
search.fit(X_train, y_noisy)
print("best:", search.best_params_)

# %%
# Against the same classifier on the noisy labels
# -----------------------------------------------
# Left: the search's cross-validated accuracy, against the noisy validation
# labels, for each way of cleaning; a classifier that is always right would
# score only 0.7 against them. Right: accuracy on the clean test labels
# for logistic regression fitted on the noisy labels, on the labels cleaned by
# the best candidate, and, as a ceiling, on the true labels.
results = search.cv_results_
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
actions = ["remove", "relabel", "weight"]
for shift, C in ((-0.2, 0.1), (0.2, 1.0)):
    rows = [
        np.flatnonzero(
            (results["param_action"] == action) & (results["param_classifier__C"] == C)
        )[0]
        for action in actions
    ]
    left.bar(
        np.arange(3) + shift,
        results["mean_test_score"][rows],
        0.4,
        yerr=results["std_test_score"][rows],
        label=f"C = {C}",
    )
left.axhline(1 - flipped.mean(), color="k", linestyle=":", label="a perfect classifier")
left.set_xticks(np.arange(3), actions)
left.set_ylim(0.5, 0.78)
left.set_ylabel("accuracy on noisy validation labels")
left.set_title("Cross-validated, per way of cleaning")
left.legend(loc="upper left", ncol=3, fontsize="small")

plain = LogisticRegression(max_iter=1000).fit(X_train, y_noisy)
oracle = LogisticRegression(max_iter=1000).fit(X_train, y_train)
scores = {
    "noisy labels": plain.score(X_test, y_test),
    f"cleaned ({search.best_params_['action']})": search.score(X_test, y_test),
    "true labels": oracle.score(X_test, y_test),
}
for name, score in scores.items():
    print(f"test accuracy, {name:20s} {score:.3f}")
bars = right.bar(list(scores), list(scores.values()), color=["grey", "tab:blue", "k"])
right.bar_label(bars, fmt="%.3f")
right.set_ylim(0.8, 1.0)
right.set_ylabel("accuracy on clean test labels")
right.set_title("Logistic regression, trained on")
fig.tight_layout()
fig.savefig("filter_in_grid_search.png")

# %%
# What the detector found
# -----------------------
# The refitted search holds the detector fitted on the whole training set,
# ``best_estimator_.detector_``. Its flags are the rows that ``"remove"`` drops
# and ``"relabel"`` relabels; ``"weight"`` keeps every row, weighted by
# ``1 - noise_scores_``, so the flipped rows count for little.
found = search.best_estimator_.detector_
flags = found.label_issues_
weights = 1 - found.noise_scores_
print(f"{flags.sum()} rows flagged, {np.sum(flags & flipped)} of them flipped")
print(f"mean weight: clean rows {weights[~flipped].mean():.2f}, ", end="")
print(f"flipped rows {weights[flipped].mean():.2f}")

# %%
# The same with imbalanced-learn
# ------------------------------
# ``LabelNoiseFilter`` is an imbalanced-learn sampler: in an
# ``imblearn.pipeline.Pipeline`` it removes (or relabels) the suspects while
# fitting, and passes test data through untouched.
try:
    from imblearn.pipeline import make_pipeline

    from sknoisy.audit import LabelNoiseFilter

    pipe = make_pipeline(
        LabelNoiseFilter(detector), LogisticRegression(max_iter=1000)
    ).fit(X_train, y_noisy)
    print(f"imbalanced-learn pipeline, test accuracy {pipe.score(X_test, y_test):.3f}")
except ImportError:
    print("imbalanced-learn is not installed")
