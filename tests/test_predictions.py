"""The fitted model's reduced view of its training rows (``sknoisy._predictions``)."""

import numpy as np

from sknoisy import ALRClassifier
from sknoisy._predictions import RowPredictions, odds_refined_codes, row_predictions


def test_the_reduced_row_predictions_are_those_of_predict_proba(small_data):
    X, y = small_data
    clf = ALRClassifier(max_epochs=3, batch_size=16, random_state=0).fit(X, y)
    data = clf._prediction_data(X)
    reduced = row_predictions(clf.net_, data, clf.given_codes_)
    expected = RowPredictions.from_proba(clf.predict_proba(X), clf.given_codes_)
    for name in ("given_proba", "predicted", "other", "other_proba"):
        np.testing.assert_array_equal(getattr(reduced, name), getattr(expected, name))


def test_from_proba_reduces_by_hand():
    proba = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6]])
    given = np.array([1, 0, 0])
    reduced = RowPredictions.from_proba(proba, given)
    np.testing.assert_array_equal(reduced.given_proba, [0.6, 0.5, 0.2])
    np.testing.assert_array_equal(reduced.predicted, [1, 0, 2])
    np.testing.assert_array_equal(reduced.other, [2, 2, 2])
    np.testing.assert_array_equal(reduced.other_proba, [0.3, 0.3, 0.6])
    # at r = 1/2 and C = 3 the prior odds are 1/2: only row 2 (0.6 / 2 > 0.2)
    refined = odds_refined_codes(reduced, given, np.ones(3, bool), 0.5)
    np.testing.assert_array_equal(refined, [1, 0, 2])
