"""Fits that fail, are interrupted, stop early or hold rows out (issue #14).

Every case asserts the one outcome that applies: an interrupted or failed fit
leaves the estimator as it was (unfitted, or its previous fit intact); training
that ends early ends in a documented state, with a warning; rows never trained
on are scored by the final model.
"""

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_validate
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import ValidSplit

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy.exceptions import ShortTrainingWarning
from sknoisy.noise import symmetric_noise

from .conftest import ESTIMATORS, FAST, ROBUST_ESTIMATORS, Diverging


class RaiseAt(Callback):
    """Raise ``error`` at the end of epoch ``epoch``."""

    def __init__(self, epoch, error):
        self.epoch = epoch
        self.error = error

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise self.error


def never_improves():
    """Early stopping on the training loss that fires at the end of epoch 2."""
    return EarlyStopping(monitor="train_loss", patience=1, threshold=1.0)


@pytest.fixture(scope="module")
def noisy_digits(digits):
    X, y = digits
    y_noisy, flipped = symmetric_noise(y, 0.3, random_state=0)
    return X.astype(np.float32), y_noisy, flipped


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "error", [KeyboardInterrupt(), RuntimeError("callback failed")], ids=repr
)
def test_a_failed_first_fit_leaves_the_estimator_unfitted(Estimator, error, small_data):
    X, y = small_data
    clf = Estimator(**{**FAST, "max_epochs": 6}, callbacks=[RaiseAt(2, error)])
    with pytest.raises(type(error)):
        clf.fit(X, y)
    assert not any(name.endswith("_") for name in vars(clf))
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "error", [KeyboardInterrupt(), RuntimeError("callback failed")], ids=repr
)
def test_a_failed_refit_keeps_the_previous_fit(Estimator, error, small_data):
    X, y = small_data
    clf = Estimator(**FAST, random_state=0).fit(X, y)
    before = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    proba = clf.predict_proba(X)
    # The refit sees other classes and would replace everything it touches.
    clf.set_params(callbacks=[RaiseAt(2, error)], max_epochs=6)
    with pytest.raises(type(error)):
        clf.fit(X[:150], np.where(y[:150] == 2, 7, y[:150]))
    after = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before), "the same fitted objects"
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_an_interrupt_is_a_keyboard_interrupt_naming_the_outcome(small_data):
    X, y = small_data
    clf = ALRClassifier(**FAST, callbacks=[RaiseAt(1, KeyboardInterrupt())])
    with pytest.raises(KeyboardInterrupt, match="as it was before fit"):
        clf.fit(X, y)


def test_a_diverged_refit_keeps_the_previous_fit(small_data):
    X, y = small_data
    clf = WrongEventClassifier(**FAST, random_state=0).fit(X, y)
    scores = clf.noise_scores_.copy()
    with pytest.raises(ValueError, match="non-finite"):
        clf.set_params(module=Diverging).fit(X, y)
    np.testing.assert_array_equal(clf.noise_scores_, scores)
    assert np.isfinite(clf.predict_proba(X)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_validation_monitors_without_a_split_are_refused_before_training(
    Estimator, small_data
):
    X, y = small_data
    clf = Estimator(**FAST, callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match=r"monitors 'valid_loss'.*ValidSplit"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"iterator_train__batch_size": 0}, "iterator_train__batch_size"),
        ({"iterator_valid__batch_size": -3}, "iterator_valid__batch_size"),
        (
            {"iterator_train__drop_last": True, "batch_size": 500},
            "drops every batch",
        ),
    ],
)
def test_batch_settings_that_cannot_train_are_refused(params, match, small_data):
    X, y = small_data
    clf = ALRClassifier(**{**FAST, **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize("Estimator", ROBUST_ESTIMATORS)
def test_drop_last_counts_only_the_rows_train_split_leaves(Estimator, small_data):
    # 200 rows, ValidSplit(5) trains on 160: a batch of 180 is never full.
    X, y = small_data
    clf = Estimator(
        **{**FAST, "batch_size": 180},
        train_split=ValidSplit(5),
        iterator_train__drop_last=True,
    )
    with pytest.raises(ValueError, match=r"the 160 training rows of 200 .*180"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_early_stopping_in_stage_1_scores_from_the_stage_1_counts(noisy_digits):
    X, y_noisy, flipped = noisy_digits
    clf = WrongEventClassifier(hidden_layer_sizes=(64,), max_epochs=30, random_state=0)
    clf.set_params(callbacks=[never_improves()])
    with pytest.warns(ShortTrainingWarning, match="ended in stage 1.*early stopping"):
        clf.fit(X, y_noisy)
    assert len(clf.net_.history) == 2
    assert 0 <= clf.noise_scores_.min() and clf.noise_scores_.max() <= 1
    # Two epochs of counts already rank the flips above the clean rows.
    assert clf.noise_scores_[flipped].mean() > clf.noise_scores_[~flipped].mean() + 0.2


def test_early_stopping_in_the_warm_up_scores_from_the_final_model(noisy_digits):
    X, y_noisy, flipped = noisy_digits
    clf = ALRClassifier(hidden_layer_sizes=(64,), max_epochs=30, random_state=0)
    clf.set_params(callbacks=[never_improves()])
    with pytest.warns(ShortTrainingWarning, match="ended in its warm-up.*early"):
        clf.fit(X, y_noisy)
    proba = clf.predict_proba(X)
    given = proba[np.arange(len(y_noisy)), y_noisy]
    np.testing.assert_allclose(clf.noise_scores_, 1 - given)
    # flagged as plain training flags: where the model predicts another class
    np.testing.assert_array_equal(clf.label_issues_, proba.argmax(1) != y_noisy)
    assert clf.label_issues_[flipped].mean() > 0.5


@pytest.mark.parametrize("Estimator", [WrongEventClassifier, ALRClassifier])
def test_held_out_rows_are_scored_by_the_final_model(Estimator, noisy_digits):
    X, y_noisy, flipped = noisy_digits
    clf = Estimator(
        hidden_layer_sizes=(64,),
        max_epochs=20,
        train_split=ValidSplit(5),
        random_state=0,
    ).fit(X, y_noisy)
    held_out = ~clf.trained_rows_
    assert held_out.sum() == pytest.approx(len(X) / 5, abs=1)
    scores = clf.noise_scores_
    assert 0 <= scores.min() and scores.max() <= 1
    proba = clf.predict_proba(X[held_out])
    given = proba[np.arange(held_out.sum()), y_noisy[held_out]]
    np.testing.assert_allclose(scores[held_out], 1 - given, atol=1e-6)
    np.testing.assert_array_equal(
        clf.label_issues_[held_out], proba.argmax(1) != y_noisy[held_out]
    )
    # held-out flips look noisy, not "certainly clean"
    assert scores[held_out & flipped].mean() > 0.5
    assert scores[held_out & ~flipped].mean() < 0.5


def test_the_mixture_is_fitted_on_trained_rows_only(noisy_digits, monkeypatch):
    from sknoisy._ido.mixture import WrongEventMixture

    fitted_rows = []
    original = WrongEventMixture.fit

    def recording_fit(self, counts, labels, *args, **kwargs):
        fitted_rows.append(len(counts))
        return original(self, counts, labels, *args, **kwargs)

    monkeypatch.setattr(WrongEventMixture, "fit", recording_fit)
    X, y_noisy, _ = noisy_digits
    clf = WrongEventClassifier(
        hidden_layer_sizes=(32,),
        max_epochs=6,
        stage1_epochs=3,
        train_split=ValidSplit(3),
        random_state=0,
    ).fit(X, y_noisy)
    assert (clf.wrong_events_[~clf.trained_rows_] == 0).all()
    assert set(fitted_rows) == {clf.trained_rows_.sum()} and len(fitted_rows) == 4


@pytest.mark.parametrize(
    "Estimator, params, needs",
    [
        (ALRClassifier, {"max_epochs": 5}, "max_epochs >= 8"),
        (ALRClassifier, {"max_epochs": 12, "warmup_epochs": 8}, "max_epochs >= 15"),
        (WrongEventClassifier, {"max_epochs": 4}, "max_epochs >= 9"),
        (WrongEventClassifier, {"max_epochs": 4, "stage1_epochs": 4}, ">= 5"),
    ],
)
def test_a_budget_too_short_warns_naming_what_it_needs(
    Estimator, params, needs, small_data
):
    X, y = small_data
    clf = Estimator(hidden_layer_sizes=(16,), **params)
    with pytest.warns(ShortTrainingWarning, match=needs):
        clf.fit(X, y)


def test_alr_on_a_short_budget_still_refines(noisy_digits):
    # At max_epochs=10 the warm-up used to take half the budget, leaving too few
    # epochs for a soft label to change class: 0 of 539 flips were flagged.
    X, y_noisy, flipped = noisy_digits
    clf = ALRClassifier(max_epochs=10, random_state=0).fit(X, y_noisy)
    assert clf.warmup_epochs_ <= 3
    assert clf.label_issues_[flipped].mean() > 0.5


def test_threaded_fits_are_bit_identical_and_leave_torch_as_it_was(small_data):
    X, y = small_data
    clf = WrongEventClassifier(**FAST, random_state=0, n_threads=1)
    serial = cross_validate(clf, X, y, cv=4, n_jobs=1)["test_score"]
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    with parallel_backend("threading", n_jobs=2):
        threaded = cross_validate(clf, X, y, cv=4, n_jobs=2)["test_score"]
    np.testing.assert_array_equal(threaded, serial)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_a_refit_on_other_input_keeps_nothing_of_the_previous_fit():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    y = np.arange(40) % 2
    clf = ALRClassifier(max_epochs=2, module__width=4, random_state=0)
    clf.fit(images, y)
    assert hasattr(clf, "channel_mean_")
    table = rng.normal(size=(40, 5))
    clf = ALRClassifier(max_epochs=2, hidden_layer_sizes=(8,), random_state=0)
    clf.fit(images, y)
    clf.fit(table, y)
    assert not hasattr(clf, "channel_mean_") and clf.net_.channel_mean is None


def test_a_callback_holding_an_open_file_is_used_as_skorch_would(tmp_path, small_data):
    class WriteLoss(Callback):
        def __init__(self, stream):
            self.stream = stream

        def on_epoch_end(self, net, **kwargs):
            self.stream.write(f"{net.history[-1, 'train_loss']}\n")

    X, y = small_data
    with open(tmp_path / "losses.txt", "w") as stream:
        ALRClassifier(**FAST, callbacks=[WriteLoss(stream)]).fit(X, y)
    assert len((tmp_path / "losses.txt").read_text().splitlines()) == FAST["max_epochs"]
