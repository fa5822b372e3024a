"""Shared fixtures: small data and fast estimator settings."""

import os

import numpy as np
import pytest
from hypothesis import settings
from sklearn.datasets import load_digits, make_classification
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier

# CI runs the property tests on a fixed sequence of examples, so that a run is
# reproducible; locally they explore new examples every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

FAST = {"hidden_layer_sizes": (32,), "max_epochs": 4, "batch_size": 32}
"""Tiny network, few epochs: enough to exercise every code path."""

ESTIMATORS = [CrossEntropyClassifier, WrongEventClassifier, ALRClassifier]
ROBUST_ESTIMATORS = [WrongEventClassifier, ALRClassifier]


@pytest.fixture(scope="session")
def digits():
    """Standardised digits: 1797 rows, 64 features, 10 classes."""
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def small_data():
    """200 rows, 8 features, 3 classes."""
    X, y = make_classification(
        n_samples=200, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float64), y
