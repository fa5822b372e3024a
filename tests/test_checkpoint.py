"""Checkpoint and resume (``checkpoint_dir``, issue #18.5).

A fit interrupted after any epoch and fitted again resumes from its last saved
epoch, with its per-sample state, phase, optimizer and random state, and ends
bit-identical to a fit that was never interrupted.
"""

import os
import pickle
import sys

import numpy as np
import pytest
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from skorch.dataset import ValidSplit

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy._net import IndexedNet
from sknoisy.noise import symmetric_noise

from .conftest import FAST

SETTINGS = {
    CrossEntropyClassifier: {},
    # Epoch 2 is in stage 1, epoch 4 its last, epoch 5 in stage 2.
    WrongEventClassifier: {"stage1_epochs": 4},
    # The "auto" warm-up lasts at most 2 epochs at this budget: epoch 5 refines.
    ALRClassifier: {},
}
"""Each estimator's settings, with dropout so that torch's global RNG matters."""


def settings(Estimator, **params):
    return {
        **FAST,
        "max_epochs": 9,
        "dropout": 0.2,
        "random_state": 0,
        **SETTINGS[Estimator],
        **params,
    }


@pytest.fixture(scope="module")
def noisy_data(small_data):
    X, y = small_data
    y_noisy, _ = symmetric_noise(y, 0.3, random_state=0)
    return X, y_noisy


class EpochRecorder:
    """Counts the training epochs run; raises ``error`` when one would start
    after ``stop_after`` epochs of the history."""

    def __init__(self, monkeypatch, stop_after=None, error=KeyboardInterrupt):
        self.epochs = 0
        self.stop_after = stop_after
        self.error = error
        run = IndexedNet.run_single_epoch

        def recorded(net, iterator, training, *args, **kwargs):
            if training:  # the history has a row for the epoch starting
                if self.stop_after is not None and len(net.history) > self.stop_after:
                    raise self.error()
                self.epochs += 1
            return run(net, iterator, training, *args, **kwargs)

        monkeypatch.setattr(IndexedNet, "run_single_epoch", recorded)


def interrupt(clf, X, y, monkeypatch, stop_after, error=KeyboardInterrupt):
    """Fit ``clf`` until ``error`` stops it after ``stop_after`` epochs."""
    with monkeypatch.context() as patch:
        EpochRecorder(patch, stop_after=stop_after, error=error)
        with pytest.raises(error):
            clf.fit(X, y)


def interrupt_and_resume(clf, X, y, monkeypatch, stop_after, error=KeyboardInterrupt):
    """Interrupt a fit of ``clf`` (:func:`interrupt`), then fit it again; return
    the training epochs the second fit ran."""
    interrupt(clf, X, y, monkeypatch, stop_after, error)
    recorder = EpochRecorder(monkeypatch)
    clf.fit(X, y)
    return recorder.epochs


def fitted_outputs(clf, X):
    return {
        "noise_scores_": clf.noise_scores_,
        "refined_labels_": clf.refined_labels_,
        "label_issues_": clf.label_issues_,
        "proba": clf.predict_proba(X),
        "history": [
            {k: v for k, v in row.items() if k not in ("dur", "batches")}
            for row in clf.net_.history
        ],
    }


def assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for name in a:
        if name == "history":
            assert repr(a[name]) == repr(b[name])  # NaN-safe, exact
        else:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("Estimator", list(SETTINGS))
@pytest.mark.parametrize("stop_after", [2, 5])
def test_a_resumed_fit_ends_bit_identical_to_an_uninterrupted_one(
    Estimator, stop_after, noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    expected = fitted_outputs(Estimator(**settings(Estimator)).fit(X, y), X)

    clf = Estimator(**settings(Estimator), checkpoint_dir=tmp_path, verbose=1)
    with monkeypatch.context() as patch:
        EpochRecorder(patch, stop_after=stop_after)
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert not hasattr(clf, "noise_scores_")  # the interrupted fit left nothing
    (saved,) = tmp_path.iterdir()

    recorder = EpochRecorder(monkeypatch)
    clf.set_params(verbose=0)  # not part of the key: it still resumes
    clf.fit(X, y)
    assert recorder.epochs == 9 - stop_after  # resumed, not restarted
    assert_same_outputs(fitted_outputs(clf, X), expected)
    assert not saved.exists()  # removed once the fit succeeded
    assert list(tmp_path.iterdir()) == []


def test_a_learning_rate_schedule_resumes_on_the_optimizer_that_trains(
    noisy_data, tmp_path, monkeypatch
):
    # skorch pickles the optimizer apart from the callbacks: a scheduler
    # restored that way would step a copy, and the rates would stop falling.
    X, y = noisy_data
    schedule = LRScheduler(policy="StepLR", step_size=2, gamma=0.5)
    params = settings(ALRClassifier, callbacks=[schedule], lr_schedule="constant")
    expected = fitted_outputs(ALRClassifier(**params).fit(X, y), X)
    clf = ALRClassifier(**params, checkpoint_dir=tmp_path)
    assert interrupt_and_resume(clf, X, y, monkeypatch, stop_after=5) == 4
    assert_same_outputs(fitted_outputs(clf, X), expected)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 1e-3 * 0.5**4


def test_a_fit_resumes_after_a_crash_in_an_epoch(noisy_data, tmp_path, monkeypatch):
    X, y = noisy_data
    params = settings(WrongEventClassifier)
    expected = fitted_outputs(WrongEventClassifier(**params).fit(X, y), X)
    clf = WrongEventClassifier(**params, checkpoint_dir=tmp_path)
    epochs = interrupt_and_resume(clf, X, y, monkeypatch, 6, error=MemoryError)
    assert epochs == 3
    assert_same_outputs(fitted_outputs(clf, X), expected)


def test_an_image_fit_with_idos_views_resumes_bit_identical(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(96, 3, 8, 8), dtype=np.uint8)
    y = np.arange(96) % 3
    X[y == 1, 0] //= 2  # something to learn
    params = {
        "max_epochs": 5,
        "stage1_epochs": 2,
        "batch_size": 32,
        "module__width": 4,
        "random_state": 0,
    }
    expected = fitted_outputs(WrongEventClassifier(**params).fit(X, y), X)
    clf = WrongEventClassifier(**params, checkpoint_dir=tmp_path)
    assert interrupt_and_resume(clf, X, y, monkeypatch, stop_after=3) == 2
    assert_same_outputs(fitted_outputs(clf, X), expected)


def test_a_random_state_of_none_resumes_the_interrupted_run(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    params = settings(ALRClassifier, random_state=None, n_threads=1)
    clf = ALRClassifier(**params, checkpoint_dir=tmp_path)
    with monkeypatch.context() as patch:
        EpochRecorder(patch, stop_after=4)
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    (saved,) = tmp_path.iterdir()
    with open(saved, "rb") as file:
        seed = pickle.load(file)["net"].seed
    recorder = EpochRecorder(monkeypatch)
    clf.fit(X, y)
    assert recorder.epochs == 5
    assert clf.net_.seed == seed  # the interrupted run's seed, not a new draw


def test_a_checkpoint_resumes_only_the_same_parameters_and_data(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    params = settings(ALRClassifier)
    interrupt(ALRClassifier(**params, checkpoint_dir=tmp_path), X, y, monkeypatch, 3)
    (saved,) = tmp_path.iterdir()

    recorder = EpochRecorder(monkeypatch)
    ALRClassifier(**{**params, "lr": 2e-3}, checkpoint_dir=tmp_path).fit(X, y)
    assert recorder.epochs == 9  # other parameters: trained from the start
    ALRClassifier(**params, checkpoint_dir=tmp_path).fit(X[:-1], y[:-1])
    assert recorder.epochs == 18  # other data: from the start
    # verbose and the directory itself do not change the run: it resumes.
    other_dir = tmp_path / "elsewhere"
    other_dir.mkdir()
    os.replace(saved, other_dir / saved.name)
    ALRClassifier(**params, verbose=0, checkpoint_dir=other_dir).fit(X, y)
    assert recorder.epochs == 24
    assert list(tmp_path.iterdir()) == [other_dir]
    assert list(other_dir.iterdir()) == []


def test_a_checkpointed_fit_keeps_nothing_of_the_checkpoint(noisy_data, tmp_path):
    X, y = noisy_data
    clf = WrongEventClassifier(
        **settings(WrongEventClassifier), checkpoint_dir=tmp_path
    )
    clf.fit(X, y)
    assert clf.net_.checkpoint is None
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert copy.get_params()["checkpoint_dir"] == tmp_path


def test_an_empty_checkpoint_dir_is_refused(noisy_data):
    X, y = noisy_data
    with pytest.raises(ValueError, match="names no directory"):
        ALRClassifier(**FAST, checkpoint_dir="").fit(X, y)


def test_a_checkpoint_dir_that_is_a_file_is_refused_before_training(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    path = tmp_path / "file"
    path.write_text("")
    recorder = EpochRecorder(monkeypatch)
    with pytest.raises(ValueError, match="is a file; it must be a directory"):
        ALRClassifier(**FAST, checkpoint_dir=path).fit(X, y)
    assert recorder.epochs == 0


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere"
)
def test_an_unwritable_checkpoint_dir_is_refused_before_training(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    recorder = EpochRecorder(monkeypatch)
    try:
        with pytest.raises(ValueError, match="cannot be written to"):
            ALRClassifier(**FAST, checkpoint_dir=locked).fit(X, y)
    finally:
        locked.chmod(0o700)
    assert recorder.epochs == 0


def test_a_corrupt_checkpoint_is_named(noisy_data, tmp_path, monkeypatch):
    X, y = noisy_data
    params = settings(ALRClassifier)
    interrupt(ALRClassifier(**params, checkpoint_dir=tmp_path), X, y, monkeypatch, 2)
    (saved,) = tmp_path.iterdir()
    saved.write_bytes(b"not a pickle")
    clf = ALRClassifier(**params, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=rf"{saved.name}.*could not be read.*delete"):
        clf.fit(X, y)
    assert not hasattr(clf, "noise_scores_")


def test_a_checkpoint_that_cannot_be_saved_fails_the_fit_atomically(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    clf = ALRClassifier(**FAST, random_state=0).fit(X, y)
    before = clf.noise_scores_.copy()
    clf.set_params(checkpoint_dir=tmp_path / "ckpt")

    def unwritable(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pickle, "dump", unwritable)
    with pytest.raises(OSError, match=r"after epoch 1 could not be saved.*No space"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.noise_scores_, before)  # the previous fit
    assert list((tmp_path / "ckpt").iterdir()) == []  # no partial file left


class HoldsAFile(Callback):
    def __init__(self, file):
        self.file = file


def test_an_unpicklable_parameter_is_refused_before_training(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    recorder = EpochRecorder(monkeypatch)
    with open(tmp_path / "log.txt", "w") as file:
        clf = ALRClassifier(
            **FAST, callbacks=[HoldsAFile(file)], checkpoint_dir=tmp_path
        )
        with pytest.raises(ValueError, match=r"picklable.*callbacks is not"):
            clf.fit(X, y)
    assert recorder.epochs == 0


def test_early_stopping_and_a_validation_split_resume_as_they_were(
    noisy_data, tmp_path, monkeypatch
):
    X, y = noisy_data
    params = settings(
        WrongEventClassifier,
        max_epochs=12,
        train_split=ValidSplit(4),
        callbacks=[EarlyStopping(patience=2, threshold=0.05)],
    )
    reference = WrongEventClassifier(**params).fit(X, y)
    stopped_at = len(reference.net_.history)
    assert reference.net_.stopped_early_ and stopped_at < 12
    clf = WrongEventClassifier(**params, checkpoint_dir=tmp_path)
    with monkeypatch.context() as patch:
        EpochRecorder(patch, stop_after=stopped_at - 2)
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    recorder = EpochRecorder(monkeypatch)
    clf.fit(X, y)
    assert recorder.epochs == 2 and clf.net_.stopped_early_
    assert_same_outputs(fitted_outputs(clf, X), fitted_outputs(reference, X))
