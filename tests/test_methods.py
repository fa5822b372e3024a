"""The table of methods."""

import pytest

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy.methods import METHODS, ROBUST_METHODS, make_estimator


def test_names_map_to_estimators():
    assert METHODS["plain"].estimator is CrossEntropyClassifier
    assert METHODS["wrong-event"].estimator is WrongEventClassifier
    assert METHODS["alr"].estimator is ALRClassifier
    assert METHODS["cleanlab"].estimator is None
    assert ROBUST_METHODS == ("wrong-event", "alr")


def test_make_estimator_passes_parameters():
    clf = make_estimator("wrong-event", max_epochs=7, stage1_epochs=2)
    assert isinstance(clf, WrongEventClassifier)
    assert clf.max_epochs == 7 and clf.stage1_epochs == 2


@pytest.mark.parametrize("name", ["cleanlab", "ido"])
def test_make_estimator_refuses_what_is_not_a_sknoisy_estimator(name):
    with pytest.raises(ValueError, match="choose from"):
        make_estimator(name)
