"""The fitted model's reduced view of its training rows (``sknoisy._predictions``)."""

import numpy as np

from sknoisy import ALRClassifier
from sknoisy._predictions import (
    RowPredictions,
    disagreement_rate,
    odds_refined_codes,
    row_predictions,
    uniform_noise_rate,
)


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


def test_uniform_noise_rate_maximises_the_likelihood():
    # Labels drawn with 20% uniform noise from a model's true-class
    # probabilities: the estimate is the maximum of
    # sum log((1 - r) p_y + r (1 - p_y) / (C - 1)) over r, and near the truth.
    rng = np.random.default_rng(0)
    n, n_classes = 4000, 4
    proba = rng.dirichlet(np.full(n_classes, 0.3), size=n)
    true = np.array([rng.choice(n_classes, p=p) for p in proba])
    flip = rng.random(n) < 0.2
    given = np.where(flip, (true + rng.integers(1, n_classes, n)) % n_classes, true)
    rate = uniform_noise_rate(RowPredictions.from_proba(proba, given))
    p_given = proba[np.arange(n), given]
    grid = np.linspace(0.001, 0.999, 999)
    loglik = [np.log((1 - r) * p_given + r * (1 - p_given) / 3).sum() for r in grid]
    assert abs(rate - grid[np.argmax(loglik)]) < 2e-3
    assert abs(rate - 0.2) < 0.03


def test_uniform_noise_rate_at_its_bounds():
    def rate(proba, given):
        return uniform_noise_rate(RowPredictions.from_proba(np.array(proba), given))

    # a model that fits every label, or tells the classes apart no better than
    # chance (a flat likelihood): no noise
    assert rate(np.eye(3)[[0, 1, 2, 0]], np.array([0, 1, 2, 0])) < 1e-6
    assert rate(np.full((5, 4), 0.25), np.zeros(5, int)) < 1e-6
    # two classes, the model sure of the other label on every row: all noise
    assert rate([[0.0, 1.0], [0.0, 1.0]], np.zeros(2, int)) > 1 - 1e-6
    # no rows, and rows whose probabilities are not finite, count for nothing
    assert rate(np.zeros((0, 3)), np.zeros(0, int)) == 0.0
    with_nan = [[np.nan, np.nan], [0.0, 1.0]]
    assert rate(with_nan, np.zeros(2, int)) > 1 - 1e-6


def test_disagreement_rate_counts_the_masked_rows_only():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    given = np.array([0, 0, 0, 0])
    predictions = RowPredictions.from_proba(proba, given)
    assert disagreement_rate(predictions, given, np.ones(4, bool)) == 0.5
    assert disagreement_rate(predictions, given, [True, False, False, True]) == 0.0
    assert disagreement_rate(predictions, given, np.zeros(4, bool)) == 1.0
