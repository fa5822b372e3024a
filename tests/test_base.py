"""The scikit-learn shell shared by every estimator."""

import pickle
import random

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sknoisy import CrossEntropyClassifier
from sknoisy._predictions import RowPredictions
from sknoisy._runtime import resolve_seed

from .conftest import ESTIMATORS, FAST, ROBUST_ESTIMATORS


@pytest.fixture(params=ESTIMATORS, ids=lambda e: e.__name__)
def Estimator(request):
    return request.param


def test_default_constructible_and_init_stores_only(Estimator):
    clf = Estimator()
    assert not [k for k in vars(clf) if k.endswith("_")]
    assert clf.get_params()["module"] is None


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "owl"]),
        np.array([-5, 10, 42]),
        np.array([True, False, True]),
    ],
    ids=["strings", "non-contiguous ints", "bools"],
)
def test_labels_round_trip(Estimator, small_data, labels):
    X, y = small_data
    y_user = labels[y % len(labels)] if labels.dtype != bool else (y % 2 == 0)
    clf = Estimator(**FAST, random_state=0).fit(X, y_user)
    np.testing.assert_array_equal(clf.classes_, np.unique(y_user))
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.predict(X).dtype == clf.classes_.dtype
    assert set(clf.refined_labels_) <= set(clf.classes_)
    assert clf.predict_proba(X).shape == (len(X), len(clf.classes_))


def test_pandas_input_and_categorical_labels(Estimator, small_data):
    X, y = small_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = pd.Series(pd.Categorical(np.array(["a", "b", "c"])[y]))
    clf = Estimator(**FAST, random_state=0).fit(frame, labels)
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.n_features_in_ == X.shape[1]
    assert list(clf.classes_) == ["a", "b", "c"]
    assert clf.predict(frame).shape == (len(X),)


def test_fitted_contract(Estimator, small_data):
    X, y = small_data
    clf = Estimator(**FAST, random_state=0).fit(X, y)
    assert clf.noise_scores_.shape == (len(X),)
    assert np.all((clf.noise_scores_ >= 0) & (clf.noise_scores_ <= 1))
    assert clf.refined_labels_.shape == (len(X),)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert clf.net_.history[-1, "epoch"] == FAST["max_epochs"]


def test_clone_get_set_params_with_skorch_prefixes(Estimator):
    clf = Estimator(max_epochs=3, module__dropout=0.1, optimizer__weight_decay=1e-4)
    params = clf.get_params()
    assert (
        params["module__dropout"] == 0.1 and params["optimizer__weight_decay"] == 1e-4
    )
    twin = clone(clf)
    assert twin.get_params() == params
    twin.set_params(module__dropout=0.2, lr=0.01)
    assert twin.get_params()["module__dropout"] == 0.2 and twin.lr == 0.01
    assert clf.get_params()["module__dropout"] == 0.1, "the original is untouched"
    assert "module__dropout=0.1" in repr(clf)


def test_unknown_keyword_is_a_type_error_at_fit(Estimator, small_data):
    with pytest.raises(TypeError, match="hiden_units"):
        Estimator(hiden_units=3).fit(*small_data)


def test_prefixed_params_reach_the_net(small_data):
    X, y = small_data
    clf = CrossEntropyClassifier(**FAST, optimizer__weight_decay=0.5).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == 0.5


def test_pickle_round_trip(Estimator, small_data):
    X, y = small_data
    clf = Estimator(**FAST, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.noise_scores_, clf.noise_scores_)


def test_pipeline_gridsearch_cross_val(Estimator, small_data):
    X, y = small_data
    pipe = make_pipeline(StandardScaler(), Estimator(**FAST, random_state=0))
    step = pipe.steps[-1][0]
    grid = {f"{step}__lr": [1e-3, 1e-2], f"{step}__module__dropout": [0.0, 0.2]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_[-1].module__dropout in (0.0, 0.2)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 1 / 3)


class TinyNet(nn.Module):
    def __init__(self, n_features, n_classes, width=8):
        super().__init__()
        self.layer = nn.Sequential(
            nn.Linear(n_features, width), nn.ReLU(), nn.Linear(width, n_classes)
        )

    def forward(self, x):
        return self.layer(x)


def test_user_module_class_gets_sizes_filled_in(small_data):
    X, y = small_data
    clf = CrossEntropyClassifier(module=TinyNet, module__width=5, max_epochs=2).fit(
        X, y
    )
    assert clf.net_.module_.layer[0].out_features == 5
    assert clf.net_.module_.layer[0].in_features == X.shape[1]


def test_user_module_instance_is_not_trained_in_place(small_data):
    X, y = small_data
    module = TinyNet(X.shape[1], 3)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    clf = CrossEntropyClassifier(module=module, max_epochs=2).fit(X, y)
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key])
    assert clf.net_.module_ is not module


def test_user_callbacks_are_copied(small_data):
    from skorch.callbacks import EpochScoring

    X, y = small_data
    scoring = EpochScoring("accuracy", on_train=True, name="train_acc")
    clf = CrossEntropyClassifier(**FAST, callbacks=[scoring]).fit(X, y)
    assert "train_acc" in clf.net_.history[-1]
    assert not hasattr(scoring, "best_score_"), "the user's callback is not mutated"


def test_same_seed_same_results_and_global_rng_untouched(Estimator, small_data):
    X, y = small_data
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    states = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    first = Estimator(**FAST, random_state=7).fit(X, y)
    second = Estimator(**FAST, random_state=7).fit(X, y)
    np.testing.assert_array_equal(first.noise_scores_, second.noise_scores_)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert torch.equal(torch.get_rng_state(), states[0])
    np.testing.assert_array_equal(np.random.get_state()[1], states[1])
    assert random.getstate() == states[2]


def test_resolve_seed():
    assert resolve_seed(3) == resolve_seed(3)
    assert resolve_seed(3) != resolve_seed(4)
    state = np.random.get_state()[1].copy()
    resolve_seed(None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (
            np.array([[np.nan, 1.0], [1.0, 2.0], [2.0, 3.0]]),
            [0, 1, 0],
            ValueError,
            "NaN",
        ),
        (
            np.array([[np.inf, 1.0], [1.0, 2.0], [2.0, 3.0]]),
            [0, 1, 0],
            ValueError,
            "infinity",
        ),
        (
            np.array([[1e39, 1.0], [1.0, 2.0], [2.0, 3.0]]),
            [0, 1, 0],
            ValueError,
            "float32",
        ),
        (np.ones((4, 2)), [1, 1, 1, 1], ValueError, "at least 2 classes"),
        (np.ones((4, 2)), [0, 1, 0], ValueError, "inconsistent numbers of samples"),
        (np.ones((0, 2)), [], ValueError, "0 sample"),
        (np.ones((3, 0)), [0, 1, 0], ValueError, "0 feature"),
        (np.ones((3, 2)), [0.5, 1.2, 0.1], ValueError, "continuous"),
    ],
    ids=[
        "nan",
        "inf",
        "float32-overflow",
        "one-class",
        "length",
        "empty",
        "no-features",
        "continuous-y",
    ],
)
def test_bad_training_input_fails_before_training(Estimator, X, y, error, match):
    clf = Estimator(**FAST)
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "net_"), "nothing was built"


def test_bad_input_never_modifies_user_data(Estimator, small_data):
    X, y = small_data
    X_copy, y_copy = X.copy(), y.copy()
    Estimator(**FAST).fit(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_predict_checks(Estimator, small_data):
    X, y = small_data
    with pytest.raises(NotFittedError):
        Estimator(**FAST).predict(X)
    clf = Estimator(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict_proba(np.full_like(X, np.nan))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"lr": -1.0}, "lr"),
        ({"dropout": 1.5}, "dropout"),
    ],
)
def test_invalid_parameters_named_at_fit(Estimator, small_data, params, match):
    X, y = small_data
    with pytest.raises(ValueError, match=match):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize("Robust", ROBUST_ESTIMATORS)
def test_relabel_by_odds_keeps_the_given_label_where_the_model_is_unsure(Robust):
    clf = Robust()
    # The rule at the share of candidates, the base rate; each method's own
    # rate (ALR's lower one, IDO's where its model errs) is tested in
    # test_alr.py and test_wrong_event.py.
    clf._relabel_noise_rate = lambda candidates, *_: float(np.mean(candidates))
    y = np.array([0, 0, 1, 2])
    proba = np.array(
        [
            [0.05, 0.90, 0.05],
            [0.30, 0.50, 0.20],
            [0.10, 0.10, 0.80],
            [0.60, 0.10, 0.30],
        ]
    )
    candidates = np.array([True, True, False, True])

    # r = 3/4: prior odds r / ((C - 1)(1 - r)) = 1.5; every candidate's best
    # other class times 1.5 beats its given class (1.35 > 0.05, 0.75 > 0.30,
    # 0.90 > 0.30); row 2 is no candidate.
    def refined_codes(proba, candidates, proposals):
        predictions = RowPredictions.from_proba(proba, y)
        return clf._refined_codes(y, predictions, candidates, proposals)

    refined = refined_codes(proba, candidates, proba.argmax(1))
    np.testing.assert_array_equal(refined, [1, 1, 1, 0])
    # one candidate in four: prior odds 1/6; row 0: 0.90 / 6 = 0.15 > 0.05
    refined = refined_codes(proba, np.array([1, 0, 0, 0], bool), None)
    np.testing.assert_array_equal(refined, [1, 0, 1, 2])
    # a model that is unsure at that rate keeps the given label
    unsure = np.array([[0.2, 0.5, 0.3], *proba[1:].tolist()])
    refined = refined_codes(unsure, np.array([1, 0, 0, 0], bool), None)
    np.testing.assert_array_equal(refined, y)
    clf.set_params(relabel="always")
    proposals = np.array([1, 2, 0, 1])
    refined = refined_codes(proba, candidates, proposals)
    np.testing.assert_array_equal(refined, [1, 2, 1, 1])


def test_a_confident_network_calibrates_by_temperature(digits):
    """ALR's entropy hardening saturates predict_proba; temperature scaling on
    held-out rows grades it again (the calibrator works on log(predict_proba),
    which keeps the logits' information where probabilities saturate)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import log_loss

    from sknoisy import ALRClassifier

    X, y = digits
    clf = ALRClassifier(max_epochs=30, random_state=0).fit(X[:900], y[:900])
    raw = clf.predict_proba(X[1300:])
    calibrated = CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")
    try:
        calibrated.fit(X[900:1300], y[900:1300])
    except ValueError as error:  # scikit-learn before temperature scaling (1.8)
        pytest.skip(f"this scikit-learn has no temperature scaling: {error}")
    graded = calibrated.predict_proba(X[1300:])
    saturated = (raw.max(axis=1) > 0.999).mean()
    still = (graded.max(axis=1) > 0.999).mean()
    assert saturated > 0.5 and still < saturated - 0.15, (saturated, still)
    assert log_loss(y[1300:], graded) < log_loss(y[1300:], raw)
