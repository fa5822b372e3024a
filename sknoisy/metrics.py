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
    """Area under the ROC curve of ``scores`` for ``flipped`` (nan if one class)."""
    flipped, scores = _check(flipped, scores)
    return (
        float("nan") if _one_class(flipped) else float(roc_auc_score(flipped, scores))
    )


def detection_auprc(flipped, scores) -> float:
    """Average precision of ``scores`` for ``flipped`` (nan if nothing flipped)."""
    flipped, scores = _check(flipped, scores)
    if not flipped.any():
        return float("nan")
    return float(average_precision_score(flipped, scores))


def precision_recall_at_threshold(
    flipped, scores, threshold=0.5
) -> tuple[float, float]:
    """Precision and recall of flagging the rows with ``score > threshold``.

    Precision is nan when nothing is flagged; recall is nan when nothing is
    flipped.
    """
    flipped, scores = _check(flipped, scores)
    flagged = scores > threshold
    hits = np.sum(flagged & flipped)
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / flipped.sum() if flipped.any() else float("nan")
    return float(precision), float(recall)


def precision_recall_at_k(flipped, scores, k=None) -> tuple[float, float]:
    """Precision and recall of flagging the ``k`` highest-scored rows.

    ``k`` defaults to the true number of errors, where precision equals recall.
    Ties at the cut are broken by row order.
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
    """Fraction of rows whose refined label equals the true label."""
    y_true = column_or_1d(y_true)
    refined_labels = column_or_1d(refined_labels)
    check_consistent_length(y_true, refined_labels)
    return float(np.mean(y_true == refined_labels))


def detection_report(flipped, scores, threshold=0.5) -> dict[str, float]:
    """All detection figures at once.

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
