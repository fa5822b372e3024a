"""Label Wave: prediction changes and their first local minimum."""

import numpy as np
import pytest
import torch
from skorch.history import History

from sknoisy._label_wave import (
    LabelWavePhase,
    PredictionChangeTracker,
    first_local_minimum,
    smooth_changes,
)


@pytest.mark.parametrize(
    ("changes", "epoch"),
    [
        ([5, 2, 4], 3),  # PC(2)=5, PC(3)=2, PC(4)=4: minimum at epoch 3
        ([0, 0], 2),  # nothing changes: the first epoch will do
        ([9, 7, 5, 2], None),  # still falling
        ([9], None),
        ([], None),
        ([9, 4, 6, 1, 8], 3),  # the *first* local minimum
        ([622, 182, 184], 3),  # digits with 40% noise: IDO's rule
        ([9, 8, 19, 52, 61, 31, 12, 7, 9], 9),  # not the early dip at epoch 3
        ([12, 18, 23, 13, 14], None),  # not yet below half of the peak
        ([5, 4, 4], None),  # a shallow dip is not the Label Wave minimum
    ],
)
def test_first_local_minimum(changes, epoch):
    assert first_local_minimum(changes) == epoch


def test_smoothing_window():
    np.testing.assert_allclose(smooth_changes([4, 2, 6], 1), [4, 2, 6])
    np.testing.assert_allclose(smooth_changes([4, 2, 6], 2), [4, 3, 4])
    # Raw [10, 4, 5, 1, 0]: minimum at epoch 3; smoothed over 2: [10, 7, 4.5, 3, .5].
    assert first_local_minimum([10, 4, 5, 1, 0]) == 3
    assert first_local_minimum([10, 4, 5, 1, 0], window=2) is None


def test_tracker_counts_changed_predictions():
    tracker = PredictionChangeTracker(4, "cpu")
    rows = torch.tensor([0, 1, 2, 3])
    tracker.update(rows, torch.tensor([0, 1, 1, 2]))
    assert tracker.end_epoch() is None, "no change is defined after epoch 1"
    # Batches in another order: rows 3 and 0 change.
    tracker.update(torch.tensor([3, 1]), torch.tensor([0, 1]))
    tracker.update(torch.tensor([0, 2]), torch.tensor([2, 1]))
    assert tracker.end_epoch() == 2
    tracker.update(rows, torch.tensor([2, 1, 1, 0]))
    assert tracker.end_epoch() == 0
    assert tracker.changes == [2, 0]
    assert tracker.label_wave_epoch() is None, "still falling"
    tracker.update(rows, torch.tensor([2, 1, 0, 0]))
    assert tracker.end_epoch() == 1
    assert tracker.label_wave_epoch() == 3


def feed_epoch(phase, history, predictions):
    """One epoch of online predictions for rows 0..n-1, then close it."""
    history.new_epoch()
    phase.observe(torch.arange(len(predictions)), torch.as_tensor(predictions))
    phase.close_epoch(history)


def phase_run(changes, **params):
    """Run a phase over epochs whose prediction changes are ``changes``."""
    snapshots = iter(range(100))
    phase = LabelWavePhase(40, "cpu", snapshot=lambda: next(snapshots), **params)
    history = History()
    predictions = np.zeros(40, dtype=np.int64)
    feed_epoch(phase, history, predictions)
    for n_changes in changes:
        if not phase.running:
            break
        predictions = predictions.copy()
        predictions[:n_changes] = 1 - predictions[:n_changes]
        feed_epoch(phase, history, predictions)
    return phase, history


def test_phase_records_changes_finds_the_minimum_and_keeps_its_model():
    # PC(2..6) = 30, 10, 5, 8, 2: the first minimum is epoch 4, seen at epoch 5.
    phase, history = phase_run([30, 10, 5, 8, 2], length=6)
    assert history[:, "prediction_changes"] == [None, 30, 10, 5, 8, 2]
    assert phase.minimum_epoch == 4
    # Snapshots are taken after epochs 1, 2, 3, 4 (0, 1, 2, 3): epoch 4's is 3.
    assert phase.minimum_state == 3
    assert phase.end_epoch == 6, "the phase runs its length"


def test_phase_can_end_at_the_minimum_or_not_at_all():
    phase, history = phase_run([30, 10, 5, 8, 2], length=9, end_at_minimum=True)
    assert phase.end_epoch == 5 and len(history) == 5
    phase, _ = phase_run([30, 20, 10, 5], length=5)
    assert phase.minimum_epoch is None and phase.end_epoch == 5
    assert not LabelWavePhase(10, "cpu", length=0).running, "no phase at all"
