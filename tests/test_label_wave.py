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
    lowest_eligible_epoch,
    rise_tolerance,
    smooth_changes,
)

ANY = {"min_accuracy": 0.0}
"""Count every epoch's minimum, however poorly the network fits."""

N_ROWS = 1000
"""Rows of a phase run: prediction changes far above count noise."""


@pytest.mark.parametrize(
    ("changes", "epoch"),
    [
        ([50, 20, 40], 3),  # PC(2)=50, PC(3)=20, PC(4)=40: minimum at epoch 3
        ([0, 0], 2),  # nothing changes: the first epoch will do
        ([9, 7, 5, 2], None),  # still falling
        ([9], None),
        ([], None),
        ([90, 40, 70, 10, 80], 3),  # the *first* local minimum
        ([622, 182, 184], None),  # digits with 40% noise: +2 is count noise...
        ([622, 182, 184, 200, 230], 3),  # ...+48 is not; the minimum stays put
        ([1000, 400, 420, 440], None),  # a slow climb: not yet...
        ([1000, 400, 420, 440, 460], 3),  # ...but 60 above the low point is
        ([90, 80, 190, 520, 610, 310, 120, 70, 100], 9),  # not the early dip
        ([12, 18, 23, 13, 14], None),  # not yet below half of the peak
        ([5, 4, 4], None),  # a shallow dip is not the Label Wave minimum
        # Clean blobs (300 rows), seen: 6 then 8 changes is noise, not a rise;
        # the middle blob was still being learnt.
        ([20, 68, 51, 17, 6, 8, 5, 4, 4, 3, 3, 1, 1, 2], None),
    ],
)
def test_first_local_minimum(changes, epoch):
    assert first_local_minimum(changes) == epoch


def test_smoothing_window():
    np.testing.assert_allclose(smooth_changes([4, 2, 6], 1), [4, 2, 6])
    np.testing.assert_allclose(smooth_changes([4, 2, 6], 2), [4, 3, 4])
    # Raw: minimum at epoch 3; smoothed over 2: [100, 70, 55, 40, 5], falling.
    assert first_local_minimum([100, 40, 70, 10, 0]) == 3
    assert first_local_minimum([100, 40, 70, 10, 0], window=2) is None


def test_a_rise_must_exceed_count_noise():
    # Two standard deviations of a difference of Poisson counts.
    assert rise_tolerance(20, 40) == pytest.approx(2 * np.sqrt(60))
    assert rise_tolerance(20, 40, window=3) == pytest.approx(2 * np.sqrt(20))
    assert rise_tolerance(0, 0) == 0
    assert first_local_minimum([100, 40, 55]) is None  # 15 < 2 sqrt(95)
    assert first_local_minimum([100, 40, 65]) == 3  # 25 >= 2 sqrt(105)


def test_lowest_eligible_epoch_is_where_the_minimum_will_be():
    assert lowest_eligible_epoch([]) is None
    assert lowest_eligible_epoch([9, 12]) is None, "PC not yet below half its peak"
    assert lowest_eligible_epoch([622, 182, 184, 200]) == 3
    assert lowest_eligible_epoch([622, 182, 184, 200, 230]) == 3, "found: stays"
    assert lowest_eligible_epoch([100, 40, 40, 30]) == 5
    assert lowest_eligible_epoch([100, 40, 40]) == 3, "the earlier one of a tie"
    assert lowest_eligible_epoch([100, 40, 30], fitted=[1, 1, 0]) == 3


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
    assert tracker.label_wave_epoch() is None, "0 to 1 change is count noise"
    tracker.update(rows, torch.tensor([0, 0, 1, 1]))
    assert tracker.end_epoch() == 4
    assert tracker.label_wave_epoch() == 3, "0 to 4 is a rise (2 sqrt(4) = 4)"


def feed_epoch(phase, history, predictions):
    """One epoch of online predictions for rows 0..n-1, then close it."""
    history.new_epoch()
    phase.observe(torch.arange(len(predictions)), torch.as_tensor(predictions))
    phase.close_epoch(history)


def phase_run(changes, fitted=None, classes_learnt=None, **params):
    """Run a phase over epochs whose prediction changes are ``changes``.

    A snapshot of the model is the epoch it was taken after. ``fitted``, per
    epoch of ``changes``, overrides whether the network fits the labels;
    ``classes_learnt`` whether every class has begun to be learnt (default:
    as ``fitted``).
    """
    history = History()
    phase = LabelWavePhase(
        torch.zeros(N_ROWS, dtype=torch.long),
        snapshot=lambda: len(history),
        **{**ANY, **params},
    )
    if fitted is not None:
        flags = iter(fitted)
        phase.tracker._fits = lambda *args: bool(next(flags))
        learnt = iter(fitted if classes_learnt is None else classes_learnt)
        phase.tracker._classes_learnt = lambda *args: bool(next(learnt))
    predictions = np.zeros(N_ROWS, dtype=np.int64)
    feed_epoch(phase, history, predictions)
    for n_changes in changes:
        if not phase.running:
            break
        predictions = predictions.copy()
        predictions[:n_changes] = 1 - predictions[:n_changes]
        feed_epoch(phase, history, predictions)
    return phase, history


def test_phase_records_changes_finds_the_minimum_and_keeps_its_model():
    # PC(2..6) = 300, 100, 50, 80, 20: the first minimum is epoch 4, seen at 5.
    phase, history = phase_run([300, 100, 50, 80, 20], length=6)
    assert history[:, "prediction_changes"] == [None, 300, 100, 50, 80, 20]
    assert phase.minimum_epoch == 4
    assert phase.minimum_state == 4, "the model of epoch 4"
    assert phase.end_epoch == 6, "the phase runs its length"


def test_phase_keeps_the_low_point_when_the_rise_shows_later():
    # 182, 184, 200 are within count noise of each other; 230 is a rise.
    phase, _ = phase_run([622, 182, 184, 200, 230], length=9, end_at_minimum=True)
    assert phase.minimum_epoch == 3 and phase.minimum_state == 3
    assert phase.end_epoch == 6, "ended where the rise showed"


def test_phase_can_end_at_the_minimum_or_not_at_all():
    phase, history = phase_run([300, 100, 50, 80, 20], length=9, end_at_minimum=True)
    assert phase.end_epoch == 5 and len(history) == 5
    phase, _ = phase_run([300, 200, 100, 50], length=5)
    assert phase.minimum_epoch is None and phase.end_epoch == 5
    targets = torch.zeros(10, dtype=torch.long)
    assert not LabelWavePhase(targets, length=0).running, "no phase at all"


def test_without_a_minimum_the_base_is_the_epoch_of_fewest_changes():
    # PC never falls to half its peak (the gates never open), and rises after
    # epoch 3: memorisation. The base is epoch 3, not the memorised last one.
    phase, _ = phase_run([300, 250, 400, 500, 450], length=6)
    assert phase.minimum_epoch is None
    assert phase.base() == (3, 3)
    phase, _ = phase_run([300, 250, 250, 500], length=5)
    assert phase.base() == (4, 4), "a tie keeps the later, more trained epoch"
    phase, _ = phase_run([300, 200, 100, 50], length=5)
    assert phase.base() == (5, None), "PC kept falling: the model as it is"
    phase, _ = phase_run([80, 190, 520, 610, 340, 400, 450], length=8)
    assert phase.base() == (6, 6), "not the barely trained epochs before PC's peak"
    phase, _ = phase_run([300, 100, 20, 25, 24], length=6)
    assert phase.base() == (4, 4), "the lowest eligible epoch; PC has not risen past it"
    phase, _ = phase_run([300, 100, 50, 80, 20], length=6)
    assert phase.base() == (4, 4), "a minimum found wins"
    phase.release()
    assert phase.minimum_state is None and phase.fewest_state is None


def test_without_a_minimum_open_gates_keep_the_lowest_eligible_epoch():
    # Clean blobs, seen (ALR's warm-up capped at epoch 15): 0 changes at epoch 7
    # while the middle blob was not yet predicted, then a second fall once the
    # network fits every class (from epoch 10), still under way at the cap.
    changes = [2, 2, 29, 53, 15, 0, 3, 10, 31, 32, 16, 7, 3, 2]
    fitted = [False] * 8 + [True] * 6
    phase, _ = phase_run(changes, fitted=fitted, length=15)
    assert phase.minimum_epoch is None and phase.fewest_epoch == 7
    assert phase.base() == (15, None), "the lowest eligible epoch is the last"
    # Another seed: 2 changes at epoch 5 before a class is learnt; after it,
    # PC settles at 3-4 without a rise past count noise.
    changes = [21, 13, 8, 2, 4, 18, 20, 14, 12, 9, 5, 5, 3, 4]
    fitted = [False] * 6 + [True] * 8
    phase, _ = phase_run(changes, fitted=fitted, length=15)
    assert phase.minimum_epoch is None and phase.fewest_epoch == 5
    assert phase.base() == (14, 14)
    # Gates never open: the epoch of fewest changes.
    phase, _ = phase_run(changes, fitted=[False] * 14, length=15)
    assert phase.base() == (5, 5)
    # An eligible epoch before the fewest changes, with more changes: the
    # network changed fewer predictions later, so not that epoch.
    phase, _ = phase_run([300, 100, 50, 20, 10], fitted=[0, 0, 1, 0, 0], length=6)
    assert phase.tracker.lowest_epoch() == 4 and phase.fewest_epoch == 6
    assert phase.base() == (6, None)


def test_gates_opening_after_a_rise_from_the_fewest_changes_keep_those():
    # Adult with instance noise, seen: 145 changes at epoch 3, then a rise while
    # the network memorises, the gates opening only at 205 (epoch 9 here); that
    # epoch has memorised the noise.
    changes = [500, 150, 180, 240, 300, 260, 230, 205, 222]
    fitted = [False] * 7 + [True] * 2
    phase, _ = phase_run(changes, fitted=fitted, length=10)
    assert phase.minimum_epoch is None
    assert phase.tracker.lowest_epoch() == 9
    assert phase.base() == (3, 3)
    # 165 is within count noise of 150 (15 < 2 sqrt(315)). If a class was
    # not learnt at epoch 3, the rise in between is its learning: the
    # eligible epoch.
    changes = [500, 150, 180, 240, 300, 260, 230, 165, 170]
    phase, _ = phase_run(changes, fitted=fitted, length=10)
    assert phase.base() == (9, 9)
    # If every class was learnt there (only the accuracy bar was missed), the
    # rise to 300 in between was memorisation: the fewest changes.
    phase, _ = phase_run(changes, fitted=fitted, classes_learnt=[True] * 9, length=10)
    assert phase.base() == (3, 3)


def test_a_minimum_found_after_memorising_gives_way_to_the_fewest_changes():
    # Adult with instance noise, seen: 208 changes at epoch 4 with every class
    # learnt but the accuracy bar missed, a rise to 367 while the network
    # memorises, the gates open, and a Label Wave minimum (210 at epoch 9
    # here, found by the rise to 316); that model's test accuracy was 0.64,
    # epoch 4's 0.83.
    fitted = [False] * 6 + [True] * 4

    def run(changes, learnt=True, end_at_minimum=True):
        phase, _ = phase_run(
            changes,
            fitted=fitted,
            classes_learnt=[learnt] * 10,
            length=12,
            end_at_minimum=end_at_minimum,
        )
        return phase

    changes = [483, 320, 208, 242, 300, 367, 330, 210, 252, 316]
    phase = run(changes)
    assert phase.minimum_epoch == 9
    assert phase.base() == (4, 4)
    # A class not learnt at epoch 4: the rise was its learning; the minimum.
    phase = run(changes, learnt=False)
    assert phase.minimum_epoch == 9 and phase.base() == (9, 9)
    # A phase that runs on past its minimum (IDO's stage 1) keeps no second
    # model once the minimum is found.
    phase = run(changes, end_at_minimum=False)
    assert phase.minimum_epoch == 9 and phase.fewest_state is None
    assert phase.base() == (9, 9)
    # No rise past count noise between them: the minimum.
    phase = run([483, 320, 208, 230, 220, 225, 215, 206, 252, 316])
    assert phase.base() == (phase.minimum_epoch, phase.minimum_epoch)


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
    assert first_local_minimum([160, 40, 120]) == 3
    assert first_local_minimum([160, 40, 120], fitted=[False, False, False]) is None
    assert first_local_minimum([160, 40, 120, 30, 50], fitted=[0, 0, 1, 1, 1]) == 5


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
