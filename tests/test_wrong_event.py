"""WrongEventClassifier against IDO's definitions (methods.md §1)."""

import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sknoisy import WrongEventClassifier
from sknoisy._label_wave import first_local_minimum
from sknoisy._wrong_event import resolve_stage1_epochs
from sknoisy.noise import symmetric_noise

from ._modules import InputLogits, identity_views
from .conftest import FAST


def known_prediction_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3)) * 3
    y = rng.integers(0, 3, n)
    y[:3] = [0, 1, 2]  # every class present
    return logits.astype(np.float32), y


@pytest.mark.parametrize(("max_epochs", "stage1"), [(3, 1), (4, 2), (2, 2)])
def test_wrong_events_count_exactly_the_wrong_predictions(max_epochs, stage1):
    X, y = known_prediction_data()
    clf = WrongEventClassifier(
        module=InputLogits,
        views=identity_views,
        max_epochs=max_epochs,
        stage1_epochs=stage1,
        batch_size=16,
        random_state=0,
    ).fit(X, y)
    wrong = (X.argmax(axis=1) != y).astype(int)
    # One view per stage-1 epoch, two per stage-2 epoch.
    per_sample = stage1 + 2 * (max_epochs - stage1)
    np.testing.assert_array_equal(clf.wrong_events_, per_sample * wrong)
    assert clf.wrong_events_.dtype == np.int64


def test_stage_schedule_and_history(digits):
    X, y = digits
    y_noisy, _ = symmetric_noise(y, 0.4, random_state=0)
    clf = WrongEventClassifier(max_epochs=8, stage1_epochs=4, random_state=0).fit(
        X, y_noisy
    )
    history = clf.net_.history
    assert history[:, "stage"] == [1, 1, 1, 1, 2, 2, 2, 2]
    changes = history[:, "prediction_changes"]
    assert changes[0] is None and all(isinstance(c, int) for c in changes[1:])
    expected_base = first_local_minimum(changes[1:4]) or 4
    assert clf.base_epoch_ == expected_base == history[3, "base_epoch"]
    # The mixture is fitted at the end of stage 1 and refitted every stage-2 epoch.
    assert all("mixture" in row for row in history[3:])
    assert "mixture" not in history[2]
    lrs = history[4:, "lr"]
    expected = [0.5 * 1e-3 * (1 + math.cos(math.pi * t / 4)) for t in range(4)]
    np.testing.assert_allclose(lrs, expected)


class RecordStateAtEpochBegin(Callback):
    def initialize(self):
        self.states = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.states.append({k: v.clone() for k, v in net.module_.state_dict().items()})


def test_base_model_is_restored_by_deep_copy(digits):
    X, y = digits
    y_noisy, _ = symmetric_noise(y, 0.4, random_state=0)
    recorder = RecordStateAtEpochBegin()
    clf = WrongEventClassifier(
        max_epochs=8, stage1_epochs=8, callbacks=[recorder], random_state=0
    ).fit(X, y_noisy)
    assert clf.base_epoch_ < 8, "digits with 40% noise has an early minimum"
    states = dict(clf.net_.callbacks_)["RecordStateAtEpochBegin"].states
    base_state = states[clf.base_epoch_]  # begin of epoch e+1 = end of epoch e
    final = clf.net_.module_.state_dict()
    for key, value in final.items():
        assert torch.equal(value, base_state[key])
    later_state = states[clf.base_epoch_ + 1]
    assert not all(torch.equal(final[k], later_state[k]) for k in final)


def test_fitted_attributes_follow_the_definitions(digits):
    X, y = digits
    y_noisy, flipped = symmetric_noise(y, 0.3, random_state=1)
    clf = WrongEventClassifier(max_epochs=12, random_state=0).fit(X, y_noisy)
    np.testing.assert_allclose(clf.noise_scores_, 1 - clf.clean_proba_)
    predictions = clf.predict(X)
    expected = np.where(clf.clean_proba_ >= 0.5, y_noisy, predictions)
    np.testing.assert_array_equal(clf.refined_labels_, expected)
    # Wrong events separate the flipped rows.
    assert clf.wrong_events_[flipped].mean() > 3 * clf.wrong_events_[~flipped].mean()
    assert clf.noise_scores_[flipped].mean() > 0.5 > clf.noise_scores_[~flipped].mean()
    assert not hasattr(clf.net_, "wrong_events_"), "per-sample state released"


def test_state_is_reallocated_on_every_fit(small_data):
    X, y = small_data
    clf = WrongEventClassifier(**FAST, random_state=0)
    clf.fit(X, y)
    first = clf.wrong_events_.copy()
    clf.fit(X[:50], y[:50])
    assert clf.wrong_events_.shape == (50,)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.wrong_events_, first), "no carry-over"


@pytest.mark.parametrize(
    "params",
    [
        {"mixture": "global"},
        {"entropy_term": "official"},
        {"label_wave_window": 3},
        {"stage1_epochs": 1, "mixture_refit_iter": 2},
        {"views": identity_views},
    ],
)
def test_options(params, small_data):
    X, y = small_data
    clf = WrongEventClassifier(**FAST, random_state=0, **params).fit(X, y)
    assert np.isfinite(clf.noise_scores_).all()


def test_tiny_data_and_single_epoch():
    X, y = known_prediction_data(n=12)
    for max_epochs in (1, 2):
        clf = WrongEventClassifier(max_epochs=max_epochs, hidden_layer_sizes=(8,)).fit(
            X, y
        )
        assert clf.base_epoch_ >= 1
        assert np.isfinite(clf.noise_scores_).all()


@pytest.mark.parametrize(
    ("stage1", "max_epochs", "expected"),
    [(0.3, 60, 18), (0.3, 2, 1), (0.5, 1, 1), (5, 60, 5), (80, 60, 60)],
)
def test_resolve_stage1_epochs(stage1, max_epochs, expected):
    assert resolve_stage1_epochs(stage1, max_epochs) == expected


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"stage1_epochs": 0}, "stage1_epochs"),
        ({"stage1_epochs": 1.5}, "stage1_epochs"),
        ({"mixture": "per-sample"}, "mixture"),
        ({"entropy_term": "other"}, "entropy_term"),
    ],
)
def test_invalid_method_parameters(params, match, small_data):
    X, y = small_data
    with pytest.raises(ValueError, match=match):
        WrongEventClassifier(**params).fit(X, y)
