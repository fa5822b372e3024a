"""Label Wave: prediction changes and their first local minimum."""

import numpy as np
import pytest
import torch
from skorch.history import History

from sknoisy._label_wave import (
    LabelWavePhase,
    PredictionChangeTracker,
    first_local_minimum,
    fitted_bar,
    smooth_changes,
)

ANY = {"min_accuracy": 0.0}
"""Count every epoch's minimum, however poorly the network fits."""


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
    tracker = PredictionChangeTracker(torch.zeros(4, dtype=torch.long), **ANY)
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
    phase = LabelWavePhase(
        torch.zeros(40, dtype=torch.long),
        snapshot=lambda: next(snapshots),
        **{**ANY, **params},
    )
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
    targets = torch.zeros(10, dtype=torch.long)
    assert not LabelWavePhase(targets, length=0).running, "no phase at all"


def test_without_a_minimum_the_base_is_the_epoch_of_fewest_changes():
    # PC never falls to half its peak (the gates never open), and rises after
    # epoch 3: memorisation. The base is epoch 3, not the memorised last one.
    phase, _ = phase_run([30, 25, 40, 50, 45], length=6)
    assert phase.minimum_epoch is None
    # Snapshots after epochs 1, 2, 3, ... are 0, 1, 2, ...: epoch 3's is 2.
    assert phase.base() == (3, 2)
    phase, _ = phase_run([30, 25, 25, 50], length=5)
    assert phase.base() == (4, 3), "a tie keeps the later, more trained epoch"
    phase, _ = phase_run([30, 20, 10, 5], length=5)
    assert phase.base() == (5, None), "PC kept falling: the model as it is"
    phase, _ = phase_run([8, 19, 52, 61, 34, 40, 45], length=8)
    assert phase.base() == (6, 5), "not the barely trained epochs before PC's peak"
    phase, _ = phase_run([30, 10, 5, 8, 2], length=6)
    assert phase.base() == (4, 3), "a minimum found wins"
    assert phase.fewest_state is None
    phase.release()
    assert phase.minimum_state is None


def test_fitted_bar_closes_a_third_of_the_gap_above_the_majority_class():
    assert fitted_bar(np.repeat([0, 1, 2], 10)) == pytest.approx(1 / 3 + 2 / 9)
    assert fitted_bar(np.repeat(np.arange(10), 5)) == pytest.approx(0.4)
    assert fitted_bar(np.r_[np.zeros(8), np.ones(2)].astype(int)) == pytest.approx(
        0.8 + 0.2 / 3
    )


def test_a_minimum_counts_only_once_the_network_beats_a_constant_predictor():
    # PC 16, 4, 12: a minimum at epoch 3 by IDO's rule; but if the network still
    # predicts one class there (online accuracy at the majority share), the dip
    # means nothing and is skipped.
    assert first_local_minimum([16, 4, 12]) == 3
    assert first_local_minimum([16, 4, 12], fitted=[False, False, False]) is None
    assert first_local_minimum([16, 4, 12, 3, 5], fitted=[0, 0, 1, 1, 1]) == 5


def test_tracker_measures_the_online_accuracy_against_the_bar():
    targets = torch.tensor([0, 0, 1, 2, 1, 2])  # bar: 1/3 + 2/9 = 0.556
    tracker = PredictionChangeTracker(targets)
    rows = torch.arange(6)
    tracker.update(rows, torch.zeros(6, dtype=torch.long))  # a constant predictor
    tracker.end_epoch()
    tracker.update(rows, torch.zeros(6, dtype=torch.long))
    tracker.end_epoch()
    tracker.update(rows, torch.tensor([0, 0, 1, 2, 0, 0]))  # 4 of 6 right
    tracker.end_epoch()
    assert tracker.fitted == [False, True]


def test_a_minimum_counts_only_once_no_class_lags_far_behind():
    # Clean blobs, seen: online accuracy 0.67 with one class of three never
    # predicted; its rows change no prediction, so PC dips and the minimum came
    # before the class was learnt (ALR then flagged 80% of its clean rows).
    targets = torch.repeat_interleave(torch.arange(3), 10)
    tracker = PredictionChangeTracker(targets, min_accuracy=0.5)
    rows = torch.arange(30)
    blind = targets.clone()
    blind[:10] = 1  # class 0 never predicted: accuracy 2/3, recall of 0 is 0
    lagging = blind.clone()
    lagging[:2] = 0  # recall 0.2 < 1/3 of the accuracy 0.73
    caught_up = blind.clone()
    caught_up[:3] = 0  # recall 0.3 >= 1/3 of the accuracy 0.77
    for predictions in (blind, blind, lagging, caught_up):
        tracker.update(rows, predictions)
        tracker.end_epoch()
    assert tracker.fitted == [False, False, True]
