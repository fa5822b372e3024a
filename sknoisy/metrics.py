"""How well a per-sample score finds the labels that are wrong.

Conventions: ``flipped`` is the boolean mask of truly mislabelled rows (the
positives); ``scores`` are per-row noise scores, higher meaning more likely
mislabelled (e.g. ``clf.noise_scores_``). A row is *flagged* when its score is
strictly above the threshold.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.utils.validation import check_consistent_length, column_or_1d


def _check(flipped, scores):
    flipped = column_or_1d(flipped).astype(bool)
    scores = column_or_1d(scores).astype(float)
    check_consistent_length(flipped, scores)
    return flipped, scores


def _one_class(flipped) -> bool:
    return flipped.all() or not flipped.any()


def detection_auroc(flipped, scores) -> float:
    """Compute the area under the ROC curve of ``scores`` for ``flipped``.

    Parameters
    ----------
    flipped : array-like of bool, shape (n_samples,)
        The truly mislabelled rows (the positives).
    scores : array-like of shape (n_samples,)
        Noise scores; higher means more likely mislabelled.

    Returns
    -------
    float
        The AUROC; NaN when ``flipped`` holds one class only.
    """
    flipped, scores = _check(flipped, scores)
    return (
        float("nan") if _one_class(flipped) else float(roc_auc_score(flipped, scores))
    )


def detection_auprc(flipped, scores) -> float:
    """Compute the average precision (AUPRC) of ``scores`` for ``flipped``.

    Parameters
    ----------
    flipped : array-like of bool, shape (n_samples,)
        The truly mislabelled rows (the positives).
    scores : array-like of shape (n_samples,)
        Noise scores; higher means more likely mislabelled.

    Returns
    -------
    float
        The average precision; NaN when nothing is flipped.
    """
    flipped, scores = _check(flipped, scores)
    if not flipped.any():
        return float("nan")
    return float(average_precision_score(flipped, scores))


def precision_recall_at_threshold(
    flipped, scores, threshold=0.5
) -> tuple[float, float]:
    """Compute precision and recall of flagging the rows with ``score > threshold``.

    Parameters
    ----------
    flipped : array-like of bool, shape (n_samples,)
        The truly mislabelled rows (the positives).
    scores : array-like of shape (n_samples,)
        Noise scores; higher means more likely mislabelled.
    threshold : float, default=0.5
        Rows scored strictly above it are flagged.

    Returns
    -------
    precision : float
        Share of the flagged rows that are flipped; NaN when nothing is flagged.
    recall : float
        Share of the flipped rows that are flagged; NaN when nothing is flipped.
    """
    flipped, scores = _check(flipped, scores)
    flagged = scores > threshold
    hits = np.sum(flagged & flipped)
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / flipped.sum() if flipped.any() else float("nan")
    return float(precision), float(recall)


def precision_recall_at_k(flipped, scores, k=None) -> tuple[float, float]:
    """Compute precision and recall of flagging the ``k`` highest-scored rows.

    Ties at the cut are broken by row order.

    Parameters
    ----------
    flipped : array-like of bool, shape (n_samples,)
        The truly mislabelled rows (the positives).
    scores : array-like of shape (n_samples,)
        Noise scores; higher means more likely mislabelled.
    k : int, default=None
        How many rows to flag; None flags as many as are flipped, where
        precision equals recall.

    Returns
    -------
    precision : float
        Share of the ``k`` rows that are flipped; NaN when ``k`` is 0.
    recall : float
        Share of the flipped rows among the ``k``; NaN when nothing is flipped.
    """
    flipped, scores = _check(flipped, scores)
    k = int(flipped.sum()) if k is None else int(k)
    if k == 0:
        return float("nan"), float("nan")
    top = np.argsort(-scores, kind="stable")[:k]
    hits = flipped[top].sum()
    recall = hits / flipped.sum() if flipped.any() else float("nan")
    return float(hits / k), float(recall)


def refined_label_accuracy(y_true, refined_labels) -> float:
    """Compute the fraction of rows whose refined label equals the true label.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true labels.
    refined_labels : array-like of shape (n_samples,)
        A method's refined labels, e.g. ``clf.refined_labels_``.

    Returns
    -------
    float
        The accuracy of the refined labels.
    """
    y_true = column_or_1d(y_true)
    refined_labels = column_or_1d(refined_labels)
    check_consistent_length(y_true, refined_labels)
    return float(np.mean(y_true == refined_labels))


def detection_report(flipped, scores, threshold=0.5) -> dict[str, float]:
    """Compute all detection figures at once.

    Parameters
    ----------
    flipped : array-like of bool, shape (n_samples,)
        The truly mislabelled rows (the positives).
    scores : array-like of shape (n_samples,)
        Noise scores; higher means more likely mislabelled.
    threshold : float, default=0.5
        The threshold of ``precision`` and ``recall``.

    Returns
    -------
    dict
        ``auroc``, ``auprc``, ``precision``, ``recall`` (at ``threshold``),
        ``precision_at_k`` and ``recall_at_k`` (k = number of flipped rows),
        ``above_threshold`` (rows scored above the threshold) and ``flipped``
        (true errors). A method's own flags are its ``label_issues_``, which
        need not be the rows above a threshold.
    """
    precision, recall = precision_recall_at_threshold(flipped, scores, threshold)
    precision_k, recall_k = precision_recall_at_k(flipped, scores)
    flipped_mask, score_values = _check(flipped, scores)
    return {
        "auroc": detection_auroc(flipped, scores),
        "auprc": detection_auprc(flipped, scores),
        "precision": precision,
        "recall": recall,
        "precision_at_k": precision_k,
        "recall_at_k": recall_k,
        "above_threshold": int(np.sum(score_values > threshold)),
        "flipped": int(flipped_mask.sum()),
    }
