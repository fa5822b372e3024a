"""Shared fixtures: small data and fast estimator settings."""

import os

import numpy as np
import pytest
import torch
from hypothesis import settings
from sklearn.datasets import load_digits, make_classification
from sklearn.preprocessing import StandardScaler
from torch import nn

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier

# The property tests run a fixed sequence of examples everywhere, so that the
# README's test command gives the same verdict on every machine and run. To
# explore fresh examples, set SKNOISY_HYPOTHESIS=explore (and, e.g.,
# SKNOISY_HYPOTHESIS_EXAMPLES=200).
settings.register_profile("fixed", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(
    "explore" if os.environ.get("SKNOISY_HYPOTHESIS") == "explore" else "fixed"
)

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


def known_prediction_data(n=60, seed=0):
    """Logits as features (for :class:`InputLogits`) and labels over 3 classes."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3)) * 3
    y = rng.integers(0, 3, n)
    y[:3] = [0, 1, 2]  # every class present
    return logits.astype(np.float32), y


def write_image_folder(root, per_class=12):
    """An ImageFolder layout of 16x16 digit images, classes digit_0..digit_2."""
    from PIL import Image

    X, y = load_digits(return_X_y=True)
    for label in (0, 1, 2):
        folder = root / f"digit_{label}"
        folder.mkdir(parents=True)
        for k, row in enumerate(np.flatnonzero(y == label)[:per_class]):
            pixels = (X[row].reshape(8, 8) * 15).astype(np.uint8)
            Image.fromarray(pixels, mode="L").resize((16, 16)).save(folder / f"{k}.png")
    return root


class InputLogits(nn.Module):
    """Logits are the input's first ``n_classes`` columns: predictions are known.

    A dummy weight (multiplied by 0) gives the optimizer something to hold, so
    training never changes the outputs.
    """

    def __init__(self, n_classes=3):
        super().__init__()
        self.n_classes = n_classes
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x[:, : self.n_classes] + 0 * self.dummy


def identity_views(x):
    """Two identical views: stage 2 then sees exactly the stage-1 predictions."""
    return x, x


class Diverging(nn.Module):
    """Logits that overflow: the loss of the first batch is not finite."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, x):
        return self.linear(x) * float("inf")
