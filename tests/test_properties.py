"""Property tests: for random small data, the fitted contract always holds."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import make_blobs

from sknoisy.exceptions import UnidentifiableNoiseWarning
from sknoisy.noise import symmetric_noise

from .conftest import ESTIMATORS, ROBUST_ESTIMATORS

TINY = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 16}


def examples(n: int) -> int:
    """``n`` examples, or ``SKNOISY_HYPOTHESIS_EXAMPLES`` (see conftest.py)."""
    return int(os.environ.get("SKNOISY_HYPOTHESIS_EXAMPLES", n))


@st.composite
def small_datasets(draw):
    n_samples = draw(st.integers(4, 40))
    n_features = draw(st.integers(1, 5))
    X = draw(
        arrays(
            np.float64,
            (n_samples, n_features),
            elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
        )
    )
    n_classes = draw(st.integers(2, 4))
    y = draw(arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1)))
    y[:2] = [0, 1]  # at least two classes
    return X, y


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=small_datasets(), seed=st.integers(0, 2**16))
def test_fit_contract_on_random_data(Estimator, data, seed):
    X, y = data
    clf = Estimator(**TINY, random_state=seed).fit(X, y)
    scores = clf.noise_scores_
    assert scores.shape == (len(X),)
    assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()
    assert set(clf.refined_labels_) <= set(clf.classes_)
    assert clf.label_issues_.dtype == bool and clf.label_issues_.shape == (len(X),)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)


@pytest.fixture(scope="module")
def blobs():
    """Three well-separated blobs: clean labels are unambiguous."""
    centers = [[0, 0], [4, 0], [0, 4]]
    X, y = make_blobs(n_samples=300, centers=centers, cluster_std=0.7, random_state=0)
    return (X - X.mean(0)) / X.std(0), y


TRAINED = {"hidden_layer_sizes": (32,), "max_epochs": 30, "batch_size": 32}


@pytest.mark.parametrize("Estimator", ROBUST_ESTIMATORS)
@settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**16))
def test_clean_labels_flag_few_rows(Estimator, blobs, seed):
    assert_clean_labels_flag_few_rows(Estimator, blobs, seed)


def assert_clean_labels_flag_few_rows(Estimator, blobs, seed):
    X, y = blobs
    clf = Estimator(**TRAINED, random_state=seed).fit(X, y)
    assert clf.label_issues_.mean() < 0.15


@pytest.mark.parametrize("Estimator", ROBUST_ESTIMATORS)
@settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**16))
def test_more_noise_flags_more_rows(Estimator, blobs, seed):
    assert_more_noise_flags_more_rows(Estimator, blobs, seed)


def assert_more_noise_flags_more_rows(Estimator, blobs, seed):
    X, y = blobs
    flagged = []
    for rate in (0.1, 0.4):
        y_noisy, _ = symmetric_noise(y, rate, random_state=seed)
        clf = Estimator(**TRAINED, random_state=seed)
        flagged.append(clf.fit(X, y_noisy).label_issues_.mean())
    assert flagged[1] > flagged[0] + 0.1


# Seeds a run of 200 fresh examples per property found (SKNOISY_HYPOTHESIS=explore,
# SKNOISY_HYPOTHESIS_EXAMPLES=200): a class learnt late (the middle blob) is
# lost in IDO's stage 2, or only part-learnt when ALR's warm-up ends. In a
# class the mixture calls mostly noisy, IDO's loss weighs rows predicted right
# in most passes, and the half of the class with the fewest wrong events,
# clean (``WrongEventMixture.loss_table``): 7938 passes. IDO's
# 1667 and 211 lost the middle blob to the strong view: a feature-wise draw
# replaced both features of an outer blob's row about half the time, landing
# it in the middle blob with its outer label; ``TabularViews`` now replaces
# ``int(0.3 * 2) = 0`` features per row, as SCARF counts them, and both pass.
# ALR's 211: the middle blob was 70% learnt when the warm-up ended at Label
# Wave's minimum (6 then 8 prediction changes) and the entropy term hardened the
# rest into the outer classes (60% of it flagged). ALR's 97 (a later run of 200,
# 16% flagged): no Label Wave minimum, so the capped warm-up restored its epoch
# of fewest changes (0 at epoch 7), before the middle blob was learnt. They pass
# since a rise must exceed two standard deviations of count noise (6 to 8 of
# 300 rows is not one, nor 3 to 8 for 23131, 52% of the blob flagged at one
# deviation: the warm-up runs on while the blob is learnt) and a capped warm-up
# without a minimum keeps its lowest epoch that passes the gates (97, and 4096:
# 2 changes at epoch 5 before the blob was learnt, 3-4 after; 58% flagged when
# the fewest changes won; ``LabelWavePhase.base``).
# ALR's 1940 (a run of 200 fresh examples on the fix above, 18% flagged): PC
# 87, 61, 5, 1, then 5 and 10 as the network starts learning the middle blob
# (recall 0.51, then 0.66); the rise is learning, not memorisation, but Label
# Wave cannot tell the two apart, and the warm-up ends at epoch 5 with the blob
# half learnt. Strict: a fix makes it pass, and the mark must then go. A lead:
# LAGGING_CLASS_FRACTION = 2/3 gates that epoch out (0.3% flagged; the seeds
# below unchanged; CIFAR-10N's base epochs unchanged at 20 epochs); the tables
# suite is still to be measured with it.
KNOWN_FAILURES = [
    pytest.param("alr", "clean", 1940, id="alr-clean-1940"),
]

FIXED_FAILURES = [
    pytest.param("alr", "clean", 211, id="alr-clean-211"),
    pytest.param("alr", "clean", 97, id="alr-clean-97"),
    pytest.param("alr", "clean", 23131, id="alr-clean-23131"),
    pytest.param("alr", "clean", 4096, id="alr-clean-4096"),
    pytest.param("ido", "more-noise", 7938, id="ido-more-noise-7938"),
    pytest.param("ido", "clean", 1667, id="ido-clean-1667"),
    pytest.param("ido", "clean", 211, id="ido-clean-211"),
]


def check_seed(blobs, method, prop, seed):
    from sknoisy import ALRClassifier, WrongEventClassifier

    Estimator = {"ido": WrongEventClassifier, "alr": ALRClassifier}[method]
    check = {
        "clean": assert_clean_labels_flag_few_rows,
        "more-noise": assert_more_noise_flags_more_rows,
    }[prop]
    check(Estimator, blobs, seed)


@pytest.mark.xfail(strict=True, reason="issue #14: a class learnt late (see above)")
@pytest.mark.parametrize(("method", "prop", "seed"), KNOWN_FAILURES)
def test_known_property_failures(blobs, method, prop, seed):
    check_seed(blobs, method, prop, seed)


@pytest.mark.parametrize(("method", "prop", "seed"), FIXED_FAILURES)
def test_late_learnt_class_seeds(blobs, method, prop, seed):
    check_seed(blobs, method, prop, seed)


def test_clean_blobs_learnt_early_do_not_warn(blobs):
    # Seed 0 learns every blob within a few epochs; a class's mixture over
    # counts of 0-3 of 51 passes may still be degenerate, which once counted
    # as a class whose labels could not be told apart.
    import warnings

    from sknoisy import WrongEventClassifier

    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnidentifiableNoiseWarning)
        clf = WrongEventClassifier(**TRAINED, random_state=0).fit(X, y)
    assert clf.net_.mixture_.degenerate_classes, "the case this test is about"
    assert not clf.label_issues_.any()
