"""Label Wave: prediction changes and their first local minimum."""

import numpy as np
import pytest
import torch

from sknoisy._label_wave import (
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
