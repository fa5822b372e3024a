"""Label Wave: pick a training epoch from per-epoch prediction changes.

Yuan et al., "Early Stopping Against Label Noise Without Validation Data",
ICLR 2024. ``PC(e)`` is the number of training samples whose online prediction
(the argmax of the train-mode forward pass that produced the gradient) changed
between epochs ``e - 1`` and ``e``. While the network learns the clean patterns
PC falls; once it starts memorising wrong labels it rises again. The first local
minimum of PC is the epoch to keep.

Used by both methods: IDO's base model (``WrongEventClassifier``) and ALR's
``warmup_epochs="auto"`` (``ALRClassifier``).

Epochs are numbered from 1, as in the net's history. PC is defined from epoch 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._data import ROW_CHUNK

SETTLED_FRACTION = 0.5
"""A local minimum counts once PC is at most this fraction of its running peak."""

FITTED_FRACTION = 1 / 3
"""A local minimum counts once the epoch's online accuracy on the given labels
has closed this fraction of the gap between always predicting the most frequent
class and 1."""

LAGGING_CLASS_FRACTION = 1 / 3
"""A local minimum counts only once every class's online recall of its given
labels is at least this fraction of the overall online accuracy: a class the
network has not started to learn changes few predictions too."""


def fitted_bar(targets: np.ndarray) -> float:
    """The online accuracy an epoch must reach for its minimum to count.

    A network that has learnt nothing yet predicts (nearly) one class for every
    row and so changes few predictions: a low PC that means nothing. The bar is
    the most frequent class's share ``m`` plus ``FITTED_FRACTION`` of ``1 - m``
    (0.56 for three balanced classes, 0.4 for ten).
    """
    majority = majority_share(targets)
    return float(majority + FITTED_FRACTION * (1 - majority))


def majority_share(targets) -> float:
    """The accuracy of always predicting the most frequent class of ``targets``."""
    counts = np.bincount(np.asarray(targets)) if len(targets) else np.ones(1)
    return float(counts.max() / counts.sum())


def smooth_changes(changes: Sequence[float], window: int = 1) -> np.ndarray:
    """Trailing moving average of a prediction-change sequence.

    Parameters
    ----------
    changes : sequence of float
        ``PC(2), PC(3), ...``.
    window : int, default=1
        Number of epochs averaged; 1 returns the sequence unchanged (IDO).

    Returns
    -------
    ndarray of shape (len(changes),)
    """
    values = np.asarray(changes, dtype=float)
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (cumsum[ends] - cumsum[starts]) / (ends - starts)


RISE_DEVIATIONS = 2.0
"""A rise of the prediction changes counts once it exceeds this many standard
deviations of count noise (:func:`rise_tolerance`)."""


def rise_tolerance(low: float, high: float, window: int = 1) -> float:
    """How far PC must climb above its lowest point to count as a rise.

    ``RISE_DEVIATIONS`` standard deviations of the difference of two Poisson
    counts with means ``low`` and ``high``, each averaged over ``window``
    epochs: ``2 * sqrt((low + high) / window)``. Prediction changes are counts
    of rows, so on small data sets a climb of a few rows (PC 3, then 8) is
    noise, not the onset of memorisation; on large ones the tolerance is a small
    share of PC (182 changes: 27 more).
    """
    return float(RISE_DEVIATIONS * np.sqrt((low + high) / window))


def _search(changes, window, fitted) -> tuple[bool, int | None]:
    """``(risen, lowest)``: whether PC has risen above its lowest eligible value
    (that epoch is then the Label Wave minimum), and that value's index into
    ``changes``."""
    smoothed = smooth_changes(changes, window)
    # A barely trained network may change few predictions, then many as it starts
    # to fit (seen: 9, 8, 19, 52, 61, 31, 12, 7, ...); the minimum Label Wave means
    # comes after PC has fallen well below its peak, not in that early noise.
    eligible = smoothed <= SETTLED_FRACTION * np.maximum.accumulate(smoothed)
    if fitted is not None:
        eligible &= np.asarray(fitted, dtype=bool)
    lowest = None
    for index, value in enumerate(smoothed):
        if lowest is not None:
            low = smoothed[lowest]
            if value - low >= rise_tolerance(low, value, window):
                return True, lowest
        if eligible[index] and (lowest is None or value < smoothed[lowest]):
            lowest = index
    return False, lowest


def first_local_minimum(
    changes: Sequence[float], window: int = 1, fitted: Sequence[bool] | None = None
) -> int | None:
    """Epoch of the first local minimum of the prediction changes.

    The minimum is the lowest PC among the eligible epochs before the first
    epoch whose PC exceeds it by more than count noise
    (:func:`rise_tolerance`). An epoch is eligible once PC has fallen to at
    most ``SETTLED_FRACTION`` of its peak so far and the network fits the given
    labels better than a constant predictor with no class far behind
    (``fitted``; a network only starting to fit, or yet to learn a class, can
    change few predictions, then many; IDO's plain rule would pick one of those
    first epochs). IDO's rule is the first epoch ``e`` with
    ``PC(e + 1) >= PC(e)``: the same epoch wherever PC is large, but on a small
    data set a rise of a few rows would end the search too early.

    Parameters
    ----------
    changes : sequence of float
        ``PC(2), PC(3), ...``: the prediction changes observed so far.
    window : int, default=1
        Moving-average window applied before the search.
    fitted : sequence of bool, default=None
        Per epoch of ``changes``, whether its online accuracy reached
        :func:`fitted_bar` and every class's online recall
        ``LAGGING_CLASS_FRACTION`` of that accuracy; None counts every epoch.

    Returns
    -------
    int or None
        The epoch (counted from 1, so ``changes[0]`` is epoch 2), or None while
        PC has not risen above its lowest eligible value.
    """
    risen, lowest = _search(changes, window, fitted)
    return lowest + 2 if risen else None


def lowest_eligible_epoch(
    changes: Sequence[float], window: int = 1, fitted: Sequence[bool] | None = None
) -> int | None:
    """The eligible epoch of lowest PC so far (the earlier one of a tie).

    Until :func:`first_local_minimum` finds the minimum, this is where it will
    be found: the model of this epoch is the one to keep.

    Parameters
    ----------
    changes, window, fitted
        As for :func:`first_local_minimum`.

    Returns
    -------
    int or None
        The epoch (counted from 1), or None while no epoch is eligible.
    """
    _, lowest = _search(changes, window, fitted)
    return None if lowest is None else lowest + 2


class PredictionChangeTracker:
    """Count per-epoch changes of each sample's online prediction, on the device.

    Parameters
    ----------
    targets : Tensor of shape (n_samples,)
        The given labels, on the device where the per-sample predictions are
        kept.
    min_accuracy : float or None, default=None
        The online accuracy from which an epoch's minimum counts; None uses
        :func:`fitted_bar` of ``targets``.
    """

    def __init__(self, targets: torch.Tensor, min_accuracy: float | None = None):
        self.targets = targets
        given = targets.cpu().numpy()
        self.bar = fitted_bar(given) if min_accuracy is None else min_accuracy
        # A constant predictor's accuracy (capped by an explicit bar).
        self.constant = min(majority_share(given), self.bar)
        self.n_classes = int(targets.max()) + 1 if len(targets) else 0
        # In the labels' (compact) integer type; -1 until a row is seen.
        self.previous = torch.full_like(targets, -1)
        self.current = self.previous.clone()
        self.epochs = 0
        self.changes: list[int] = []
        self.fitted: list[bool] = []
        self.classes_learnt: list[bool] = []
        self.beats_constant: list[bool] = []

    def update(self, rows: torch.Tensor, predictions: torch.Tensor) -> None:
        """Record one batch's online predictions (no host synchronisation)."""
        self.current[rows] = predictions.to(self.current.dtype)

    def end_epoch(self) -> int | None:
        """Close the epoch; return its PC (None after the first epoch).

        One transfer per epoch: the changes and the online accuracy together.
        """
        self.epochs += 1
        # Summed over chunks of rows: temporaries of a fixed size.
        figures = torch.zeros(1 + 2 * self.n_classes, device=self.targets.device)
        for start in range(0, len(self.targets), ROW_CHUNK):
            rows = slice(start, start + ROW_CHUNK)
            current, targets = self.current[rows], self.targets[rows]
            seen = current >= 0
            hits = (current == targets) & seen
            figures[0] += (current != self.previous[rows]).sum()
            for offset, counted in ((1, hits), (1 + self.n_classes, seen)):
                figures[offset : offset + self.n_classes] += torch.bincount(
                    targets, weights=counted.float(), minlength=self.n_classes
                )
        figures = figures.tolist()
        change = None
        if self.epochs > 1:
            change = int(figures[0])
            self.changes.append(change)
            class_hits = np.asarray(figures[1 : 1 + self.n_classes])
            class_seen = np.asarray(figures[1 + self.n_classes :])
            accuracy = class_hits.sum() / max(class_seen.sum(), 1)
            learnt = self._classes_learnt(accuracy, class_hits, class_seen)
            self.classes_learnt.append(learnt)
            self.fitted.append(self._fits(accuracy, learnt))
            self.beats_constant.append(bool(accuracy > self.constant))
        self.previous.copy_(self.current)
        return change

    def _fits(self, accuracy, classes_learnt: bool) -> bool:
        """Whether an epoch's online predictions fit the given labels: overall
        accuracy at the bar, and no class far behind (``classes_learnt``)."""
        return bool(accuracy >= self.bar and classes_learnt)

    def _classes_learnt(self, accuracy, class_hits, class_seen) -> bool:
        """Whether no class's online recall lags far behind the accuracy
        (``LAGGING_CLASS_FRACTION``): every class has begun to be learnt."""
        present = class_seen > 0
        recall = class_hits[present] / class_seen[present]
        return bool(np.all(recall >= LAGGING_CLASS_FRACTION * accuracy))

    def label_wave_epoch(self, window: int = 1) -> int | None:
        """The first local minimum of the changes so far (see above)."""
        return first_local_minimum(self.changes, window, self.fitted)

    def lowest_epoch(self, window: int = 1) -> int | None:
        """The eligible epoch of fewest changes so far (see above)."""
        return lowest_eligible_epoch(self.changes, window, self.fitted)


class LabelWavePhase:
    """A phase of plain training that follows the Label Wave; shared by both methods.

    It wires what both methods need from prediction changes: the on-device
    tracker, its per-batch update, the per-epoch ``prediction_changes`` in the
    history, the detection of the first local minimum, optionally a copy of the
    model at that minimum, and the end of the phase. IDO's stage 1 is such a
    phase (it keeps the model at the minimum as its base model); so is ALR's
    warm-up (``warmup_epochs="auto"`` ends at the minimum).

    Parameters
    ----------
    targets : Tensor of shape (n_samples,)
        The given labels, on the device where the per-sample predictions are
        kept.
    length : int
        The phase's last epoch at the latest; 0 for no phase at all.
    min_accuracy : float or None, default=None
        See :class:`PredictionChangeTracker`.
    end_at_minimum : bool, default=False
        End the phase once the minimum is detected (one epoch after it).
    window : int, default=1
        Moving-average window of the prediction changes.
    snapshot : callable or None, default=None
        ``snapshot() -> state``, a copy of the model; called, until the minimum
        is found, after each epoch that is the lowest eligible one so far
        (:func:`lowest_eligible_epoch`: detection is incremental, and the
        minimum is the lowest eligible epoch before the rise that reveals it),
        kept as ``minimum_state``, and after each epoch with the fewest
        changes so far, kept as ``fewest_state``.

    Attributes
    ----------
    minimum_epoch : int or None
        The epoch of the first local minimum, once detected.
    minimum_state : object or None
        ``snapshot()`` of the model at ``minimum_epoch``.
    fewest_epoch : int or None
        Up to the epoch the minimum is detected (then dropped, unless the
        phase ends at its minimum), the epoch with the fewest prediction
        changes so far (the later one of a tie) among those after PC's first
        peak (a barely trained network changes few predictions, then many)
        whose online accuracy beats always predicting the most frequent given
        class.
    fewest_state : object or None
        ``snapshot()`` of the model at ``fewest_epoch``.
    end_epoch : int or None
        The epoch the phase ended with; None while it runs.
    """

    def __init__(
        self,
        targets: torch.Tensor,
        length: int,
        end_at_minimum: bool = False,
        window: int = 1,
        snapshot=None,
        min_accuracy: float | None = None,
    ):
        self.tracker = PredictionChangeTracker(targets, min_accuracy)
        self.length = length
        self.end_at_minimum = end_at_minimum
        self.window = window
        self.snapshot = snapshot
        self.minimum_epoch = None
        self.minimum_state = None
        self.fewest_epoch = None
        self.fewest_state = None
        self._fewest_changes = None
        self._fewest_classes_learnt = False
        self._falling = False
        self.end_epoch = 0 if length == 0 else None
        self._lowest_state = None

    @property
    def running(self) -> bool:
        """Whether the phase is still on."""
        return self.end_epoch is None

    def observe(self, rows: torch.Tensor, predictions: torch.Tensor) -> None:
        """Record one batch's online predictions (no host synchronisation)."""
        self.tracker.update(rows, predictions)

    def close_epoch(self, history) -> None:
        """End an epoch of the phase: record PC, look for the minimum, maybe end."""
        epoch = len(history)
        changes = self.tracker.end_epoch()
        history.record("prediction_changes", changes)
        if self.minimum_epoch is None:
            self.minimum_epoch = self.tracker.label_wave_epoch(self.window)
            if self.snapshot is not None:
                if self.minimum_epoch is None:
                    self._keep_models(epoch, changes)
                else:
                    self.minimum_state, self._lowest_state = self._lowest_state, None
                    if not self.end_at_minimum:
                        # Running on past its minimum (IDO's stage 1), the
                        # phase ends there whatever follows: no second model.
                        self.fewest_epoch = self.fewest_state = None
        found = self.end_at_minimum and self.minimum_epoch is not None
        if epoch >= self.length or found:
            self.end_epoch = epoch

    def _keep_models(self, epoch: int, changes: int | None) -> None:
        """Snapshot the model if this epoch is the lowest eligible one so far
        (the minimum's candidate) or has the fewest changes past PC's first
        peak among those that beat a constant predictor (``fewest_epoch``)."""
        state = None
        if self.tracker.lowest_epoch(self.window) == epoch:
            state = self._lowest_state = self.snapshot()
        if changes is None:
            return
        previous = self.tracker.changes[-2:-1]
        if previous and changes < previous[0]:
            self._falling = True  # PC has passed its first peak
        fewer = self._fewest_changes is None or changes <= self._fewest_changes
        if self._falling and self.tracker.beats_constant[-1] and fewer:
            self._fewest_changes = changes
            self._fewest_classes_learnt = self.tracker.classes_learnt[-1]
            self.fewest_epoch = epoch
            self.fewest_state = self.snapshot() if state is None else state

    def base(self) -> tuple[int, object]:
        """The epoch to keep, and its model: ``(epoch, state)``.

        The first local minimum (:func:`first_local_minimum`) when one was
        found, unless the network memorised between the fewest changes and it
        (:meth:`_memorised_since_fewest`): then the fewest changes'
        epoch. Otherwise, PC has not risen above its lowest eligible value:
        that epoch, the minimum so far (:func:`lowest_eligible_epoch`;
        ``state`` None if it is the last epoch: the model as it is), unless
        its PC is above the fewest changes by more than count noise
        (:func:`rise_tolerance`) or the network memorised in between.
        Otherwise the epoch with the fewest prediction changes past PC's first
        peak among those that beat a constant predictor (``fewest_epoch``), or
        the last one if PC kept falling.

        Where the gates open late, after PC has risen from its fewest changes
        (memorisation under heavy noise: on two classes with 40% symmetric
        noise an unmemorised network's online accuracy stays under
        :func:`fitted_bar`; adult with instance noise, seen: 145 changes at
        epoch 3, the gates opening at 205 at epoch 29), the eligible epoch
        has memorised the noise and the fewest changes are kept. So where PC
        falls back after that rise to within count noise of the fewest and
        then rises again, a minimum by Label Wave's rule (adult with instance
        noise, seen: 208 changes at epoch 4, every class learnt but the bar
        not met, a rise to 367, then 210 at epoch 27 and 316; that model's
        test accuracy 0.64 against 0.83 from epoch 4). Where the gates open on
        a second fall after an epoch with a class not yet learnt (clean blobs,
        seen: 2 changes at epoch 5 with a class not yet predicted, then 3-4
        once it was learnt), the eligible epoch is kept: the rise in between
        was that class being learnt, and the epoch of fewest changes flagged
        58% of it, the eligible one 5%.
        """
        if self.minimum_epoch is not None:
            if self._memorised_since_fewest(self.minimum_epoch):
                return self.fewest_epoch, self.fewest_state
            return self.minimum_epoch, self.minimum_state
        last = self.end_epoch if self.end_epoch is not None else self.tracker.epochs
        lowest = self.tracker.lowest_epoch(self.window)
        memorised = self._rose_from_fewest(lowest) or self._memorised_since_fewest(
            lowest
        )
        if lowest is not None and not memorised:
            return (last, None) if lowest >= last else (lowest, self._lowest_state)
        if self.fewest_epoch is None or self.fewest_epoch >= last:
            return last, None
        return self.fewest_epoch, self.fewest_state

    def _rose_from_fewest(self, epoch: int | None) -> bool:
        """Whether PC at ``epoch`` is above the fewest changes by more than
        count noise."""
        if self.fewest_epoch is None or epoch is None:
            return False
        return self._rose_above_fewest(epoch, epoch)

    def _memorised_since_fewest(self, epoch: int | None) -> bool:
        """Whether the network memorised between the fewest changes and a later
        ``epoch``: every class was learnt at the fewest (it missed only the
        accuracy bar, which heavy noise keeps an unmemorised network under),
        and PC rose above the fewest by more than count noise in between.

        A rise after an epoch with a class not learnt yet is that class being
        learnt (clean blobs, above), not memorisation. One epoch's rise
        counts, as for Label Wave's own minimum (:func:`rise_tolerance`).
        """
        if not self._fewest_classes_learnt:
            return False
        if self.fewest_epoch is None or epoch is None or epoch <= self.fewest_epoch:
            return False
        return self._rose_above_fewest(self.fewest_epoch + 1, epoch)

    def _rose_above_fewest(self, first: int, last: int) -> bool:
        """Whether PC at some epoch from ``first`` to ``last`` is above the
        fewest changes by more than count noise (:func:`rise_tolerance`)."""
        smoothed = smooth_changes(self.tracker.changes, self.window)
        low = smoothed[self.fewest_epoch - 2]
        high = smoothed[first - 2 : last - 1].max()
        return bool(high - low >= rise_tolerance(low, high, self.window))

    def release(self) -> None:
        """Drop the kept models (once the base is restored) and the online
        predictions (once the phase has ended)."""
        self.minimum_state = self.fewest_state = self._lowest_state = None
        if not self.running:
            self.tracker.previous = self.tracker.current = None
