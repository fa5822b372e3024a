"""
Filter label errors inside a grid search
=========================================

scikit-learn's ``Pipeline`` cannot drop rows. sknoisy's ``NoiseFilteredClassifier``
cleans the training data of each fold with a noise-robust detector, then fits any
classifier on what remains; the test folds are never touched. With
imbalanced-learn installed, ``LabelNoiseFilter`` does the same as a pipeline step.
"""

# %%
# Noisy training labels, clean test labels
# ----------------------------------------
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
y_noisy, _ = flip_labels(y_train, rate=0.3, random_state=0)

# %%
# Tune the cleaning and the classifier together
# ---------------------------------------------
search = GridSearchCV(
    NoiseFilteredClassifier(
        LogisticRegression(max_iter=1000),
        detector=ALRClassifier(max_epochs=30, random_state=0),
    ),
    {"action": ["remove", "relabel", "weight"], "classifier__C": [0.1, 1.0]},
    cv=3,
)
search.fit(X_train, y_noisy)
print("best:", search.best_params_)

# %%
# Against the same classifier on the noisy labels
# -----------------------------------------------
plain = LogisticRegression(max_iter=1000).fit(X_train, y_noisy)
print(f"test accuracy, noisy labels:   {plain.score(X_test, y_test):.3f}")
print(f"test accuracy, cleaned labels: {search.score(X_test, y_test):.3f}")

# %%
# The same with imbalanced-learn
# ------------------------------
try:
    from imblearn.pipeline import make_pipeline

    from sknoisy.audit import LabelNoiseFilter

    pipe = make_pipeline(
        LabelNoiseFilter(ALRClassifier(max_epochs=30, random_state=0)),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_noisy)
    print(f"imblearn pipeline:             {pipe.score(X_test, y_test):.3f}")
except ImportError:
    print("imbalanced-learn is not installed")
