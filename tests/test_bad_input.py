"""A battery of bad and unusual inputs: success or a scikit-learn-style error.

Every case either fits (and predicts) or raises ValueError/TypeError/NotFittedError
with a message naming the problem, before any training; no torch-internal error
escapes, and nothing hangs (per-test timeout).
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.model_selection import KFold, cross_val_predict

from sknoisy import CrossEntropyClassifier

from .conftest import ESTIMATORS, FAST, ROBUST_ESTIMATORS, Diverging

pytestmark = pytest.mark.timeout(120)

RNG = np.random.default_rng(0)
X_OK = RNG.normal(size=(40, 4))
Y_OK = np.arange(40) % 2


@pytest.fixture(params=ESTIMATORS, ids=lambda e: e.__name__)
def clf(request):
    return request.param(**FAST, random_state=0)


FIT_ERRORS = {
    "nan-X": (np.where(np.eye(40, 4) > 0, np.nan, X_OK), Y_OK, ValueError, "NaN"),
    "inf-X": (np.where(np.eye(40, 4) > 0, np.inf, X_OK), Y_OK, ValueError, "infinity"),
    "float32-overflow": (X_OK * 1e39, Y_OK, ValueError, "float32"),
    "object-X": (
        np.array([["a", "b"]] * 40, dtype=object),
        Y_OK,
        ValueError,
        "convert",
    ),
    "complex-X": (X_OK + 1j, Y_OK, ValueError, "Complex"),
    "sparse-X": (sp.csr_matrix(X_OK), Y_OK, TypeError, "dense data is required"),
    "no-samples": (np.empty((0, 4)), np.empty(0), ValueError, "0 sample"),
    "no-features": (np.empty((40, 0)), Y_OK, ValueError, "0 feature"),
    "1d-X": (X_OK[:, 0], Y_OK, ValueError, "Expected 2D array"),
    "length-mismatch": (X_OK, Y_OK[:-1], ValueError, "inconsistent numbers"),
    "nan-y": (X_OK, np.where(np.arange(40) == 3, np.nan, Y_OK), ValueError, "NaN"),
    "continuous-y": (X_OK, RNG.normal(size=40), ValueError, "continuous"),
    "mixed-labels": (X_OK, np.array([1, "a"] * 20, dtype=object), ValueError, "mixes"),
    "float-classes": (X_OK, np.array([0.5, 2.5])[Y_OK], ValueError, "continuous"),
    "one-class": (X_OK, np.zeros(40), ValueError, "at least 2 classes.*\\[0.0\\]"),
    "one-sample": (X_OK[:1], Y_OK[:1], ValueError, "minimum of 2"),
}


BAD_DEVICES = {
    "gpu": "not a torch device",
    "cuda:x": "not a torch device",
    "cuda": None if torch.cuda.is_available() else "CUDA is not available",
    "cuda:99": "CUDA",
    "mps": None if torch.backends.mps.is_available() else "MPS is not available",
}


@pytest.mark.parametrize(
    "device", [device for device, match in BAD_DEVICES.items() if match]
)
def test_unusable_device(clf, device):
    with pytest.raises(ValueError, match=BAD_DEVICES[device]):
        clf.set_params(device=device).fit(X_OK, Y_OK)
    assert not hasattr(clf, "net_"), "raised before any training"


BAD_PARAMS = {
    "negative-layer": ({"hidden_layer_sizes": (-3,)}, ValueError, "positive int"),
    "empty-layer": ({"hidden_layer_sizes": (16, 0)}, ValueError, "positive int"),
    "float-layer": ({"hidden_layer_sizes": (2.5,)}, ValueError, "positive int"),
    "not-a-callback": ({"callbacks": [1]}, TypeError, "Callback"),
    "unknown-keyword": ({"hiden_layer_sizes": (8,)}, TypeError, "hiden_layer"),
    "bad-batch-size": ({"batch_size": 0}, ValueError, "batch_size"),
    "misspelled-optimizer-param": (
        {"optimizer__weight_decy": 1e-4},
        ValueError,
        r"optimizer__weight_decy: Adam takes no parameter 'weight_decy'; did you "
        r"mean optimizer__weight_decay\?",
    ),
    "misspelled-module-param": ({"module__dropuot": 0.1}, ValueError, "dropout"),
    "misspelled-callback-name": (
        {"callbacks__print_lg__sink": print},
        ValueError,
        r"no callback 'print_lg'.*did you mean callbacks__print_log\?",
    ),
    "misspelled-iterator-param": (
        {"iterator_train__shufle": False},
        ValueError,
        "iterator_train__shuffle",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PARAMS))
def test_bad_parameters(clf, case):
    params, error, match = BAD_PARAMS[case]
    clf = clone(clf)
    vars(clf).update(params)  # as a constructor would store them
    with pytest.raises(error, match=match):
        clf.fit(X_OK, Y_OK)
    assert not hasattr(clf, "net_"), "raised before any training"
    with pytest.raises(NotFittedError):
        clf.predict(X_OK)


def test_a_callback_named_rightly_takes_its_parameters():
    lines = []
    CrossEntropyClassifier(
        max_epochs=2, verbose=1, callbacks__print_log__sink=lines.append
    ).fit(X_OK, Y_OK)
    assert len(lines) >= 3, "the table's header and one line per epoch"


class BrokenModule(torch.nn.Module):
    def __init__(self):
        raise RuntimeError("this module cannot be built")


def test_fit_that_fails_part_way_leaves_the_estimator_unfitted(clf):
    # The module is built after the data are validated; its error must not leave
    # a half-fitted estimator behind.
    with pytest.raises(RuntimeError, match="cannot be built"):
        clf.set_params(module=BrokenModule).fit(X_OK, Y_OK)
    with pytest.raises(NotFittedError):
        clf.predict(X_OK)


@pytest.mark.parametrize("case", list(FIT_ERRORS))
def test_bad_training_input(clf, case):
    X, y, error, match = FIT_ERRORS[case]
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "net_"), "raised before any training"


def test_predict_before_fit(clf):
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(NotFittedError):
            method(X_OK)


@pytest.fixture
def fitted(clf):
    return clf.fit(X_OK, Y_OK)


PREDICT_ERRORS = {
    "wrong-feature-count": (X_OK[:, :3], ValueError, "features"),
    "nan": (np.full((2, 4), np.nan), ValueError, "NaN"),
    "inf": (np.full((2, 4), np.inf), ValueError, "infinity"),
    "float32-overflow": (np.full((2, 4), 1e39), ValueError, "float32"),
    "no-samples": (np.empty((0, 4)), ValueError, "0 sample"),
    "1d": (X_OK[0], ValueError, "Expected 2D array"),
    "sparse": (sp.csr_matrix(X_OK), TypeError, "dense data is required"),
}


@pytest.mark.parametrize("case", list(PREDICT_ERRORS))
def test_bad_prediction_input(fitted, case):
    X, error, match = PREDICT_ERRORS[case]
    with pytest.raises(error, match=match):
        fitted.predict_proba(X)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["no", "yes"]),
        np.array([True, False]),
        np.array([-7, -1]),
        np.array([3, 1000]),
        np.array([0.0, 2.0]),
    ],
    ids=["strings", "bools", "negative", "non-contiguous", "integral-floats"],
)
def test_label_types_succeed(clf, labels):
    y = labels[Y_OK]
    clf.fit(X_OK, y)
    np.testing.assert_array_equal(np.sort(clf.classes_), np.sort(labels))
    assert set(clf.predict(X_OK)) <= set(labels)
    assert set(clf.refined_labels_) <= set(labels)


def test_column_vector_y_warns_and_fits(clf):
    with pytest.warns(DataConversionWarning):
        clf.fit(X_OK, Y_OK[:, None])
    assert clf.noise_scores_.shape == (40,)


def test_class_with_a_single_sample(clf):
    y = Y_OK.copy()
    y[0] = 2
    clf.fit(X_OK, y)
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.predict_proba(X_OK).shape == (40, 3)


def test_class_absent_from_a_training_fold(clf):
    y = np.r_[np.zeros(20, int), np.ones(15, int), np.full(5, 2)]
    X = RNG.normal(size=(40, 4)) + y[:, None]
    # Without shuffling, the last fold holds every sample of class 2.
    with pytest.warns(RuntimeWarning, match="[Nn]umber of classes"):
        proba = cross_val_predict(clf, X, y, cv=KFold(4), method="predict_proba")
    assert proba.shape == (40, 3)
    np.testing.assert_array_equal(
        proba[-5:, 2], 0, err_msg="the absent class has no mass"
    )
    fold = clf.fit(X[:35], y[:35])
    assert fold.predict_proba(X).shape == (40, len(fold.classes_)) == (40, 2)


def test_dataframes_and_renamed_columns(clf):
    frame = pd.DataFrame(X_OK, columns=["a", "b", "c", "d"])
    clf.fit(frame, Y_OK)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert clf.predict(frame).shape == (40,)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))


def test_fewer_rows_than_a_batch(clf):
    clf.set_params(batch_size=128).fit(X_OK[:6], Y_OK[:6])
    assert clf.noise_scores_.shape == (6,)


@pytest.mark.parametrize("Estimator", ROBUST_ESTIMATORS)
def test_random_labels_warn_that_noise_is_unidentifiable(Estimator, digits):
    # Plain training memorises random labels; the robust methods see the noise.
    clf = Estimator(**FAST, random_state=0)
    X, _ = digits
    y_random = np.random.default_rng(1).integers(0, 10, len(X))
    clf.set_params(max_epochs=30, hidden_layer_sizes=(256, 256), batch_size=128)
    with pytest.warns(UserWarning, match="too little signal"):
        clf.fit(X, y_random)
    assert np.isfinite(clf.noise_scores_).all()


def test_clean_labels_do_not_warn(clf, digits):
    import warnings

    X, y = digits
    clf.set_params(max_epochs=30, hidden_layer_sizes=(256, 256), batch_size=128)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*too little signal")
        clf.fit(X, y)


def test_diverging_training_is_a_clear_error(clf):
    clf.set_params(module=Diverging)
    with pytest.raises(ValueError, match=r"non-finite.*epoch 1"):
        clf.fit(X_OK, Y_OK)
    # A failed first fit leaves the estimator unfitted: no net, no scores.
    assert not hasattr(clf, "net_") and not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(X_OK)
