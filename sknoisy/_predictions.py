"""The fitted model's view of its own training rows, reduced to what the
methods read from it.

After training, every method scores and relabels the training rows from the
final model's probabilities. It needs four numbers per row, never the whole
``(n_samples, n_classes)`` matrix: the probability of the given label, the
predicted class, and the most likely class other than the given one with its
probability (the odds rule of ``relabel="odds"``). :func:`row_predictions`
computes them batch by batch, so a fit on a million rows never holds the
matrix (80 MB in float64 at 10 classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skorch.utils import to_numpy


@dataclass(frozen=True)
class RowPredictions:
    """The final model's probabilities, reduced per training row.

    Attributes
    ----------
    given_proba : ndarray of shape (n_samples,)
        ``p(given label)``.
    predicted : ndarray of shape (n_samples,)
        The most likely class (the first of a tie).
    other : ndarray of shape (n_samples,)
        The most likely class other than the given one.
    other_proba : ndarray of shape (n_samples,)
        Its probability.
    n_classes : int
        The number of classes.
    """

    given_proba: np.ndarray
    predicted: np.ndarray
    other: np.ndarray
    other_proba: np.ndarray
    n_classes: int

    @classmethod
    def from_proba(cls, proba: np.ndarray, given: np.ndarray) -> RowPredictions:
        """Reduce probabilities ``(n, n_classes)`` with the given labels
        (class indices)."""
        rows = np.arange(len(given))
        others = proba.copy()
        others[rows, given] = -np.inf
        other = others.argmax(axis=1)
        return cls(
            given_proba=proba[rows, given],
            predicted=proba.argmax(axis=1),
            other=other,
            other_proba=proba[rows, other],
            n_classes=proba.shape[1],
        )

    @classmethod
    def concatenate(cls, parts: list[RowPredictions]) -> RowPredictions:
        """The predictions of consecutive batches, as one."""
        fields = ("given_proba", "predicted", "other", "other_proba")
        return cls(
            **{
                name: np.concatenate([getattr(p, name) for p in parts])
                for name in fields
            },
            n_classes=parts[0].n_classes,
        )


def row_predictions(net, data, given: np.ndarray) -> RowPredictions:
    """The fitted net's :class:`RowPredictions` on indexed data, batch by batch.

    Each batch's probabilities are those of ``predict_proba``, in float64 and
    normalised to sum to 1 per row, as the estimators' ``predict_proba``
    returns them.
    """
    nonlinearity = net._get_predict_nonlinearity()
    parts, start = [], 0
    for logits in net.forward_iter(data, training=False):
        logits = logits[0] if isinstance(logits, tuple) else logits
        proba = to_numpy(nonlinearity(logits)).astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)
        stop = start + len(proba)
        parts.append(RowPredictions.from_proba(proba, given[start:stop]))
        start = stop
    return RowPredictions.concatenate(parts)


def odds_refined_codes(
    predictions: RowPredictions, given, candidates, rate: float
) -> np.ndarray:
    """``relabel="odds"``: a candidate row takes its most likely other class
    ``j`` where ``p_j r / (C - 1) > p_y (1 - r)`` at noise rate ``r``; every
    other row keeps its given class (class indices in and out)."""
    rate = float(np.clip(rate, 1e-6, 1 - 1e-6))
    prior_odds = rate / ((predictions.n_classes - 1) * (1 - rate))
    favoured = predictions.other_proba * prior_odds > predictions.given_proba
    return np.where(candidates & favoured, predictions.other, given)


def uniform_noise_rate(predictions: RowPredictions, n_steps: int = 60) -> float:
    """The maximum-likelihood rate ``r`` of uniform label noise, taking the
    model's probabilities as the likelihoods of the true class.

    Each given label ``y`` is right with probability ``1 - r`` (likelihood
    ``p_y``) or one of the ``C - 1`` others' uniform flips (likelihood
    ``(1 - p_y) / (C - 1)``). The log-likelihood is concave in ``r``, so its
    maximum on [0, 1] is found by bisection on the derivative. A model that
    has fitted the noisy labels gives them high ``p_y``, so the estimate is
    low for such a model, and a flat likelihood (a model that tells the
    classes apart no better than chance) gives 0: the estimate errs towards
    keeping the given labels.

    Parameters
    ----------
    predictions : RowPredictions
        The model's reduced probabilities; rows whose ``p_y`` is not finite
        are left out.
    n_steps : int, default=60
        Bisection steps (the rate to within ``2 ** -n_steps``).

    Returns
    -------
    float
        The rate, in [0, 1]; 0 without rows.
    """
    p_given = np.asarray(predictions.given_proba, dtype=np.float64)
    p_given = np.clip(p_given[np.isfinite(p_given)], 0.0, 1.0)
    if p_given.size == 0:
        return 0.0
    flip_likelihood = (1.0 - p_given) / max(predictions.n_classes - 1, 1)
    slope = flip_likelihood - p_given  # d/dr of each row's likelihood
    low, high = 0.0, 1.0
    for _ in range(n_steps):
        rate = 0.5 * (low + high)
        # Inside (0, 1) no row's likelihood p + r (a - p) is 0: a and p are
        # never both 0.
        if np.sum(slope / (p_given + rate * slope)) > 0:
            low = rate
        else:
            high = rate
    return low


def disagreement_rate(predictions: RowPredictions, given, rows) -> float:
    """The share of ``rows`` (a boolean mask) whose predicted class is not the
    given one (class indices); 1 without rows, so that no evidence of the
    model's agreement never counts as agreement."""
    rows = np.asarray(rows, dtype=bool)
    if not rows.any():
        return 1.0
    return float(np.mean(predictions.predicted[rows] != np.asarray(given)[rows]))
