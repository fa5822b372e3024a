"""Detection metrics agree with scikit-learn and with hand counts."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from sknoisy.metrics import (
    detection_auprc,
    detection_auroc,
    detection_report,
    precision_recall_at_k,
    precision_recall_at_threshold,
    refined_label_accuracy,
)

FLIPPED = np.array([1, 0, 1, 0, 0, 1, 0, 0], dtype=bool)
SCORES = np.array([0.9, 0.2, 0.6, 0.7, 0.1, 0.4, 0.3, 0.05])


def test_auroc_and_auprc_equal_sklearn():
    assert detection_auroc(FLIPPED, SCORES) == pytest.approx(
        roc_auc_score(FLIPPED, SCORES)
    )
    assert detection_auprc(FLIPPED, SCORES) == pytest.approx(
        average_precision_score(FLIPPED, SCORES)
    )


def test_precision_recall_at_threshold_by_hand():
    # Flagged (> 0.5): rows 0, 2, 3; of them 0 and 2 are flipped; 3 flipped in all.
    assert precision_recall_at_threshold(FLIPPED, SCORES, 0.5) == pytest.approx(
        (2 / 3, 2 / 3)
    )
    assert precision_recall_at_threshold(FLIPPED, SCORES, 0.95)[1] == 0
    assert np.isnan(precision_recall_at_threshold(FLIPPED, SCORES, 0.95)[0])


def test_precision_recall_at_k_by_hand():
    # Top 3 scores: rows 0, 3, 2 -> 2 hits.
    assert precision_recall_at_k(FLIPPED, SCORES) == pytest.approx((2 / 3, 2 / 3))
    assert precision_recall_at_k(FLIPPED, SCORES, k=1) == (1.0, pytest.approx(1 / 3))


def test_degenerate_masks_give_nan():
    assert np.isnan(detection_auroc(np.zeros(4, bool), np.arange(4)))
    assert np.isnan(detection_auprc(np.zeros(4, bool), np.arange(4)))


def test_refined_label_accuracy():
    assert refined_label_accuracy(["a", "b", "c"], ["a", "b", "b"]) == pytest.approx(
        2 / 3
    )


def test_report_has_every_figure():
    report = detection_report(FLIPPED, SCORES)
    assert report["above_threshold"] == 3 and report["flipped"] == 3
    assert set(report) >= {"auroc", "auprc", "precision", "recall", "precision_at_k"}


def test_length_mismatch():
    with pytest.raises(ValueError, match="inconsistent"):
        detection_auroc(FLIPPED, SCORES[:3])
