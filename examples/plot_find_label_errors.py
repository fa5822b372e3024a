"""
Find label errors in handwritten digits
========================================

Flip 30% of the digits' labels, fit both sknoisy methods once, and see how many of
the flipped labels each one finds and corrects, next to plain training.
"""

# %%
# Data with known label errors
# ----------------------------
# ``flip_labels`` flips exactly 30% of the labels and returns which ones.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy.metrics import detection_report
from sknoisy.noise import flip_labels

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
y_noisy, flipped = flip_labels(y, rate=0.3, random_state=0)
print(f"{flipped.sum()} of {len(y)} labels flipped")

# %%
# One fit per method
# ------------------
# Each estimator scores every training label after its single training run.
for clf in (
    CrossEntropyClassifier(random_state=0),
    WrongEventClassifier(random_state=0),
    ALRClassifier(random_state=0),
):
    clf.fit(X, y_noisy)
    report = detection_report(flipped, clf.noise_scores_)
    found = np.sum(clf.label_issues_ & flipped)  # its flags that are real errors
    precision = found / max(clf.label_issues_.sum(), 1)
    recall = found / flipped.sum()
    corrected = np.mean(clf.refined_labels_ == y)
    print(
        f"{type(clf).__name__:24s} AUROC {report['auroc']:.3f}  "
        f"flagged {clf.label_issues_.sum():4d}  precision {precision:.2f}  "
        f"recall {recall:.2f}  refined labels right {corrected:.1%}"
    )

# %%
# The most suspicious labels
# --------------------------
# Rank the training rows by noise score; the refined label is the correction.
clf = WrongEventClassifier(random_state=0).fit(X, y_noisy)
worst = np.argsort(-clf.noise_scores_)[:10]
for row in worst:
    print(
        f"row {row:4d}: given {y_noisy[row]}, refined {clf.refined_labels_[row]}, "
        f"true {y[row]}, score {clf.noise_scores_[row]:.3f}"
    )
