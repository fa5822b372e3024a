"""sknoisy's warning classes (sknoisy.exceptions)."""

import warnings

import pytest

from sknoisy import ALRClassifier
from sknoisy.exceptions import ShortTrainingWarning, UnidentifiableNoiseWarning


@pytest.mark.parametrize("cls", [ShortTrainingWarning, UnidentifiableNoiseWarning])
def test_warnings_are_user_warnings(cls):
    assert issubclass(cls, UserWarning)


def test_a_short_budget_warning_can_be_silenced_by_class(small_data):
    X, y = small_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortTrainingWarning)
        with pytest.raises(ShortTrainingWarning, match="momentum"):
            ALRClassifier(max_epochs=3, hidden_layer_sizes=(8,)).fit(X, y)
        warnings.simplefilter("ignore", ShortTrainingWarning)
        ALRClassifier(max_epochs=3, hidden_layer_sizes=(8,)).fit(X, y)
