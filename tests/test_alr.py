"""ALRClassifier against its definitions (methods.md §2)."""

import math

import numpy as np
import pytest
import torch
from scipy.special import softmax
from skorch.callbacks import Callback, LRScheduler

from sknoisy import ALRClassifier
from sknoisy._label_wave import first_local_minimum
from sknoisy._predictions import (
    RowPredictions,
    odds_refined_codes,
    uniform_noise_rate,
)
from sknoisy.exceptions import ShortTrainingWarning
from sknoisy.noise import symmetric_noise

from .conftest import FAST, InputLogits, known_prediction_data


def fit_known(**params):
    X, y = known_prediction_data()
    clf = ALRClassifier(module=InputLogits, batch_size=16, random_state=0, **params)
    return X, y, clf.fit(X, y)


def test_no_update_during_warmup():
    # Training that ends in the warm-up refines nothing: the soft labels stay
    # one-hot, and the final model scores the rows instead (with a warning).
    with pytest.warns(ShortTrainingWarning, match="ended in its warm-up"):
        X, y, clf = fit_known(max_epochs=3, warmup_epochs=3)
    np.testing.assert_array_equal(clf.soft_labels_, np.eye(3)[y])
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(clf.noise_scores_, 1 - proba[np.arange(len(y)), y])
    np.testing.assert_array_equal(clf.refined_labels_, proba.argmax(1))
    assert clf.warmup_epochs_ == 3


@pytest.mark.parametrize(
    ("max_epochs", "warmup", "momentum"), [(1, 0, 0.9), (4, 1, 0.7)]
)
def test_temporal_ensembling_equals_the_formula(max_epochs, warmup, momentum):
    X, y, clf = fit_known(
        max_epochs=max_epochs, warmup_epochs=warmup, momentum=momentum
    )
    proba = softmax(X.astype(np.float64), axis=1)
    updates = max_epochs - warmup
    expected = momentum**updates * np.eye(3)[y] + (1 - momentum**updates) * proba
    np.testing.assert_allclose(clf.soft_labels_, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.soft_labels_.sum(axis=1), 1, rtol=1e-6)
    given = expected[np.arange(len(y)), y]
    np.testing.assert_allclose(clf.noise_scores_, 1 - given, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(clf.refined_labels_, expected.argmax(axis=1))


def test_refines_flipped_labels_on_digits(digits):
    X, y = digits
    y_noisy, flipped = symmetric_noise(y, 0.3, random_state=0)
    clf = ALRClassifier(max_epochs=20, random_state=0).fit(X, y_noisy)
    assert np.mean(clf.refined_labels_ == y) > np.mean(y_noisy == y) + 0.15
    assert clf.noise_scores_[flipped].mean() > clf.noise_scores_[~flipped].mean() + 0.3
    history = clf.net_.history
    assert 0 < history[-1, "relabelled_fraction"] < 1
    assert history[-1, "soft_label_entropy"] >= 0
    assert not hasattr(clf.net_, "soft_labels_"), "per-sample state released"


def test_auto_warmup_ends_at_the_label_wave_minimum(digits):
    X, y = digits
    y_noisy, _ = symmetric_noise(y, 0.4, random_state=0)
    clf = ALRClassifier(max_epochs=20, warmup_epochs="auto", random_state=0)
    clf.fit(X, y_noisy)
    history = clf.net_.history
    changes = history[:, "prediction_changes"][1:]
    # Detected at the end of the first epoch whose PC rises above the minimum
    # by more than count noise; refinement starts then.
    detected = next(
        epoch
        for epoch in range(2, len(changes) + 2)
        if first_local_minimum(changes[: epoch - 1]) is not None
    )
    assert clf.warmup_epochs_ == detected
    refining = history[:, "refining"]
    assert not any(refining[: clf.warmup_epochs_]) and all(
        refining[clf.warmup_epochs_ :]
    )


@pytest.mark.parametrize(
    "max_epochs, momentum, expected",
    [(6, 0.9, 1), (9, 0.9, 2), (6, 0.5, 3), (4, 0.0, 2)],
)
def test_auto_warmup_leaves_the_refinement_its_epochs(max_epochs, momentum, expected):
    # A constant-prediction module never changes its predictions: no minimum, so
    # the warm-up runs to its cap: half the epochs, and at most max_epochs minus
    # the floor(log 0.5 / log m) + 1 epochs a soft label needs to change class.
    *_, clf = fit_known(max_epochs=max_epochs, warmup_epochs="auto", momentum=momentum)
    assert clf.warmup_epochs_ == expected


def refining_losses(clf):
    history = clf.net_.history
    return [row["train_loss"] for row in history if row["refining"]]


@pytest.mark.parametrize(
    "params", [{"entropy_gating": "uniform"}, {"entropy_weight": 0.0}]
)
def test_loss_options_change_only_the_refinement(params, small_data):
    X, y = small_data
    run = {**FAST, "max_epochs": 6, "warmup_epochs": 2, "random_state": 0}
    default = ALRClassifier(**run).fit(X, y)
    option = ALRClassifier(**run, **params).fit(X, y)
    history, reference = option.net_.history, default.net_.history
    assert history[:2, "train_loss"] == reference[:2, "train_loss"], "warm-up alike"
    assert refining_losses(option) != refining_losses(default)
    assert not np.array_equal(option.soft_labels_, default.soft_labels_)


def test_without_hardening_the_loss_is_the_soft_label_cross_entropy(small_data):
    X, y = small_data

    class RecordLoss(Callback):
        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            if training and net.refining:
                _, rows, _ = net.unpack_training_batch(batch)
                logits = kwargs["y_pred"].detach()
                soft = net.soft_labels_[rows]
                expected = -(soft * torch.log_softmax(logits, 1)).sum(1).mean()
                self.gaps.append(abs(float(kwargs["loss"].detach()) - float(expected)))

        def initialize(self):
            self.gaps = []
            return self

    clf = ALRClassifier(
        **FAST, warmup_epochs=1, entropy_weight=0.0, callbacks=[RecordLoss()]
    ).fit(X, y)
    gaps = dict(clf.net_.callbacks_)["RecordLoss"].gaps
    assert len(gaps) > 0 and max(gaps) < 1e-5


def test_state_is_reallocated_on_every_fit(small_data):
    X, y = small_data
    clf = ALRClassifier(**FAST, warmup_epochs=1, random_state=0).fit(X, y)
    first = clf.soft_labels_.copy()
    clf.fit(X[:40], y[:40])
    assert clf.soft_labels_.shape == (40, 3)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.soft_labels_, first)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"momentum": 1.0}, "momentum"),
        ({"warmup_epochs": "late"}, "warmup_epochs"),
        ({"entropy_weight": -1}, "entropy_weight"),
        ({"entropy_gating": "max"}, "entropy_gating"),
        ({"lr_schedule": "onecycle"}, "lr_schedule"),
    ],
)
def test_invalid_method_parameters(params, match, small_data):
    X, y = small_data
    with pytest.raises(ValueError, match=match):
        ALRClassifier(**params).fit(X, y)


@pytest.mark.parametrize(("warmup", "expected"), [(0, 0), (2, 2), (50, 4)])
def test_warmup_epochs_are_reported_as_run(warmup, expected, small_data):
    X, y = small_data
    clf = ALRClassifier(**FAST, warmup_epochs=warmup, random_state=0).fit(X, y)
    assert clf.warmup_epochs_ == expected
    refining = clf.net_.history[:, "refining"]
    assert refining == [epoch > expected for epoch in range(1, 5)]


def cosine_from(lr, start, max_epochs):
    """The rate of each epoch after ``start`` on a cosine from ``lr`` to 0."""
    total = max_epochs - start
    return [0.5 * lr * (1 + math.cos(math.pi * t / total)) for t in range(total)]


@pytest.mark.parametrize("warmup", [0, 2, "auto"])
def test_the_refinement_anneals_the_learning_rate(warmup, small_data):
    X, y = small_data
    run = {**FAST, "max_epochs": 8, "lr": 2e-3, "random_state": 0}
    clf = ALRClassifier(**run, warmup_epochs=warmup).fit(X, y)
    lrs, start = clf.net_.history[:, "lr"], clf.warmup_epochs_
    assert 0 <= start < 8, "the refinement ran"
    assert lrs[:start] == [2e-3] * start, "the warm-up trains at lr"
    np.testing.assert_allclose(lrs[start:], cosine_from(2e-3, start, 8))


def test_a_constant_schedule_trains_at_lr_throughout(small_data):
    X, y = small_data
    clf = ALRClassifier(**FAST, warmup_epochs=1, lr_schedule="constant").fit(X, y)
    assert clf.net_.history[:, "lr"] == [1e-3] * 4


def test_the_cosine_schedule_refuses_a_users_scheduler(small_data):
    X, y = small_data
    scheduler = LRScheduler(policy="StepLR", step_size=2)
    clf = ALRClassifier(**FAST, callbacks=[("decay", scheduler)])
    with pytest.raises(ValueError, match="every refinement epoch itself"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_"), "refused before training"
    clf.set_params(lr_schedule="constant").fit(X, y)
    assert clf.net_.history[:, "lr"] == [1e-3, 1e-3, 1e-4, 1e-4]


class _States(Callback):
    """The module's weights after each epoch (after the net's own epoch end)."""

    def on_train_begin(self, net, **kwargs):
        self.states = []
        self.optimizers = []

    def on_epoch_end(self, net, **kwargs):
        self.states.append({k: v.clone() for k, v in net.module_.state_dict().items()})
        self.optimizers.append(net.optimizer_)


def capped_warmup_fit(monkeypatch, **params):
    """A fit whose warm-up reaches its cap without a minimum (a bar no network
    reaches; on two classes with 40% noise, 2/3 is such a bar until the noise is
    memorised) and restores the epoch of its fewest prediction changes."""
    import sknoisy._label_wave as label_wave

    monkeypatch.setattr(label_wave, "FITTED_FRACTION", 1.0)
    rng = np.random.default_rng(0)
    y = np.arange(400) % 2
    X = rng.normal(size=(400, 6)) + 1.2 * y[:, None]
    y_noisy, _ = symmetric_noise(y, 0.4, random_state=0)
    params = {"max_epochs": 40, "random_state": 0, "callbacks": [_States()], **params}
    clf = ALRClassifier(hidden_layer_sizes=(256, 256), **params).fit(X, y_noisy)
    assert clf.warmup_epochs_ == 20, "the cap: half the budget"
    base = clf.net_.history[clf.warmup_epochs_ - 1, "warmup_base_epoch"]
    assert base < clf.warmup_epochs_, "a base model restored"
    return clf, base


def test_a_capped_warmup_without_a_minimum_restarts_from_its_fewest_changes(
    monkeypatch,
):
    # Refinement must start from the warm-up epoch of fewest prediction
    # changes, not the last one, with the optimizer restarted in place.
    clf, base = capped_warmup_fit(monkeypatch)
    history = clf.net_.history
    (states,) = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, _States)]
    changes = history[: clf.warmup_epochs_, "prediction_changes"][1:]
    assert changes[base - 2] == min(changes)
    restored = states.states[clf.warmup_epochs_ - 1]
    for name, value in states.states[base - 1].items():
        torch.testing.assert_close(restored[name], value)
    assert "warmup_base_epoch" not in history[-1]
    assert all(optimizer is clf.net_.optimizer_ for optimizer in states.optimizers)
    # The cosine runs from the end of the warm-up, not from the base epoch.
    np.testing.assert_allclose(history[20:, "lr"], cosine_from(1e-3, 20, 40))


def test_a_users_scheduler_goes_on_through_a_restored_warmup(monkeypatch):
    # The restored base model keeps the optimizer the scheduler is bound to
    # (it used to step a discarded one from there on).
    halving = LRScheduler(policy="StepLR", step_size=5, gamma=0.5)
    clf, _ = capped_warmup_fit(monkeypatch, callbacks=[halving], lr_schedule="constant")
    expected = [1e-3 * 0.5 ** (epoch // 5) for epoch in range(40)]
    np.testing.assert_allclose(clf.net_.history[:, "lr"], expected)


def test_the_relabel_rate_is_the_lower_of_the_share_and_the_likelihood():
    # Three rows the model is sure of and one it contradicts: the likelihood
    # puts the noise near 1/4, below the share of candidates (1/2); a model
    # sure of every given label puts it at 0.
    proba = np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.98, 0.01, 0.01]])
    proba = np.vstack([proba, [[0.01, 0.01, 0.98]]])
    given = np.array([0, 1, 0, 0])
    predictions = RowPredictions.from_proba(proba, given)
    clf = ALRClassifier()
    candidates = np.array([False, True, False, True])
    rate = clf._relabel_noise_rate(candidates, given, predictions)
    assert rate == pytest.approx(uniform_noise_rate(predictions))
    assert 0.2 < rate < 0.3
    assert clf._relabel_noise_rate(np.zeros(4, bool), given, predictions) == 0.0
    sure = RowPredictions.from_proba(np.eye(3)[[0, 1, 0, 0]], given)
    assert clf._relabel_noise_rate(candidates, given, sure) < 1e-6


def test_an_alr_fit_relabels_at_the_lower_rate(digits, monkeypatch):
    # The fit's refined labels are the odds rule's at min(share, likelihood).
    X, y = digits
    y_noisy, _ = symmetric_noise(y, 0.3, random_state=0)
    seen = []
    original = ALRClassifier._relabel_noise_rate

    def spy(self, candidates, y_encoded, predictions):
        seen.append((candidates, y_encoded, predictions))
        return original(self, candidates, y_encoded, predictions)

    monkeypatch.setattr(ALRClassifier, "_relabel_noise_rate", spy)
    params = {**FAST, "max_epochs": 20}
    clf = ALRClassifier(**params, random_state=0).fit(X, y_noisy)
    ((candidates, y_encoded, predictions),) = seen
    rate = min(float(np.mean(candidates)), uniform_noise_rate(predictions))
    assert 0 < rate < 0.5
    expected = odds_refined_codes(predictions, y_encoded, candidates, rate)
    np.testing.assert_array_equal(clf.refined_labels_, clf.classes_[expected])
    assert (clf.refined_labels_ != y_noisy).any()
