"""Per-row outputs of IDO and ALR on a CIFAR-10N subset, and what they show.

The probe behind ``docs/methods.md``'s "Human noise" section: it trains
``WrongEventClassifier`` and ``ALRClassifier`` (default network, one seed) on a
stratified subset of CIFAR-10N's training images with one human label set,
saves every row's outputs, and reports the flags and the refined labels::

    python benchmarks/cifar10n_rows.py train DATA_DIR LABEL_FILE aggre out.npz \\
        --train-size 4000 --epochs 20
    python benchmarks/cifar10n_rows.py report out.npz

``train --methods alr`` fits one method; ``--per-epoch`` also saves every
epoch's predictions on the training rows (un-augmented, in eval mode; an
epoch that restores a base model records the restored one), to compare
relabelling rules offline. The labels are CIFAR-10's class indices 0-9.

``report`` prints, per method, AUROC, the flags' precision, recall and F1, the
share of rows whose refined labels are right (against the given labels'), how
often the final model is right where it contradicts the given label (by its
confidence), three estimates of the noise rate with the refined labels the odds
rule would give at each, and the histogram of wrong events for clean and
mislabelled rows.
"""

from __future__ import annotations

import argparse
import time
from itertools import pairwise

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy._predictions import (
    RowPredictions,
    odds_refined_codes,
    row_predictions,
    uniform_noise_rate,
)
from sknoisy.datasets import load_cifar10n

METHODS = {"ido": WrongEventClassifier, "alr": ALRClassifier}

EPOCH_PREDICTIONS: dict[str, list] = {}
"""Per method, each epoch's :class:`RowPredictions` (``train --per-epoch``)."""

EPOCH_FIELDS = {
    "predicted": np.int8,
    "given_proba": np.float32,
    "other": np.int8,
    "other_proba": np.float32,
}
"""The :class:`RowPredictions` fields saved per epoch, with their stored type."""


class RecordPredictions(Callback):
    """After every epoch, the model's predictions on the training rows
    (un-augmented, in eval mode), into ``EPOCH_PREDICTIONS[name]``.

    A module-level store: the estimators fit a copy of their callbacks.
    """

    def __init__(self, name, given):
        self.name = name
        self.given = given

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        EPOCH_PREDICTIONS.setdefault(self.name, []).append(
            row_predictions(net, dataset_train, self.given)
        )


def stratified_rows(labels, size: int, seed: int) -> np.ndarray:
    """``size`` row indices of ``labels``, stratified and seeded (the probes'
    subset; ``image_budget.py`` takes its training and test rows this way)."""
    rows, _ = train_test_split(
        np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed
    )
    return rows


def train(args) -> None:
    data = load_cifar10n(args.data_dir, args.label_file)
    given = data.human_labels[args.labels]
    rows = stratified_rows(given, args.train_size, args.seed)
    X, y = data.data[rows], given[rows]
    out = {"given": y, "true": data.target[rows]}
    for name in args.methods:
        Estimator = METHODS[name]
        start = time.perf_counter()
        callbacks = [RecordPredictions(name, y)] if args.per_epoch else None
        clf = Estimator(
            max_epochs=args.epochs, random_state=args.seed, callbacks=callbacks
        ).fit(X, y)
        out[f"{name}_seconds"] = time.perf_counter() - start
        out[f"{name}_proba"] = clf.predict_proba(X)
        out[f"{name}_scores"] = clf.noise_scores_
        out[f"{name}_issues"] = clf.label_issues_
        out[f"{name}_refined"] = clf.refined_labels_
        out[f"{name}_test_accuracy"] = clf.score(data.test_data, data.test_target)
        if name == "ido":
            out["ido_wrong_events"] = clf.wrong_events_
            out["ido_base_epoch"] = clf.base_epoch_
        else:
            out["alr_soft_labels"] = clf.soft_labels_
            out["alr_warmup_epochs"] = clf.warmup_epochs_
        if args.per_epoch:
            epochs = EPOCH_PREDICTIONS.pop(name)
            for field, dtype in EPOCH_FIELDS.items():
                out[f"{name}_epoch_{field}"] = np.stack(
                    [getattr(e, field) for e in epochs]
                ).astype(dtype)
        print(f"{name}: {out[f'{name}_seconds']:.0f} s", flush=True)
        np.savez(args.out, **out)


def report(args) -> None:
    d = np.load(args.npz)
    given, true = d["given"], d["true"]
    wrong = given != true
    print(
        f"{len(given)} rows, {wrong.mean():.1%} wrong; given labels right: "
        f"{1 - wrong.mean():.4f}"
    )
    for name in [m for m in METHODS if f"{m}_issues" in d]:
        flags = d[f"{name}_issues"]
        hits = (flags & wrong).sum()
        precision = hits / max(flags.sum(), 1)
        recall = hits / max(wrong.sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        train_right = np.mean(d[f"{name}_proba"].argmax(1) == true)
        print(
            f"{name}: test {float(d[f'{name}_test_accuracy']):.4f}, AUROC "
            f"{roc_auc_score(wrong, d[f'{name}_scores']):.3f}, flagged "
            f"{flags.mean():.3f} (P {precision:.3f} R {recall:.3f} F1 {f1:.3f}), "
            f"refined right {np.mean(d[f'{name}_refined'] == true):.4f}, model "
            f"right on its training rows {train_right:.3f}"
        )
        proba = d[f"{name}_proba"]
        print_disagreements(proba, given, true)
        print_rate_estimates(proba, given, true, flags)
    if "ido_wrong_events" not in d:
        return
    counts = d["ido_wrong_events"]
    bins = np.arange(0, counts.max() + 4, 3)
    clean, _ = np.histogram(counts[~wrong], bins)
    noisy, _ = np.histogram(counts[wrong], bins)
    print("wrong events   clean  mislabelled")
    for low, c, n in zip(bins, clean, noisy, strict=False):
        print(f"  {low:3d}-{low + 2:3d}  {c:6d}  {n:6d}")


def print_disagreements(proba, given, true) -> None:
    """Where the model predicts another class than the given one: how often
    each is right, by the model's probability of its class."""
    predicted = proba.argmax(1)
    confidence = proba.max(1)
    against = predicted != given
    print("  model against the given label: n, model right, given right")
    edges = [0, 0.5, 0.7, 0.9, 0.97, 0.99, 1.0001]
    for low, high in pairwise(edges):
        rows = against & (confidence >= low) & (confidence < high)
        if rows.any():
            print(
                f"    p {low:.2f}-{min(high, 1):.2f}: {rows.sum():5d}  "
                f"{np.mean(true[rows] == predicted[rows]):.2f}  "
                f"{np.mean(true[rows] == given[rows]):.2f}"
            )


def confident_joint_rate(proba, given) -> float:
    """The share of rows off the confident joint's diagonal (cleanlab's count:
    a row counts for class j where p_j reaches the mean p_j of class j's rows)."""
    thresholds = np.array([proba[given == j, j].mean() for j in range(proba.shape[1])])
    above = proba >= thresholds
    labels = np.where(above, proba, -1).argmax(1)
    return float(np.mean(above.any(1) & (labels != given)))


def print_rate_estimates(proba, given, true, flags) -> None:
    estimates = {
        "flagged share": float(flags.mean()),
        "confident joint": confident_joint_rate(proba, given),
        "uniform-noise ML": uniform_noise_rate(RowPredictions.from_proba(proba, given)),
        "truth": float(np.mean(given != true)),
    }
    print("  noise rate estimates, and the odds rule's refined labels at each:")
    for label, rate in estimates.items():
        refined = odds_refined_codes(
            RowPredictions.from_proba(proba, given), given, flags, rate
        )
        print(f"    {label:16s} {rate:.3f}: right {np.mean(refined == true):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train")
    run.add_argument("data_dir")
    run.add_argument("label_file")
    run.add_argument(
        "labels", choices=["aggre", "random1", "random2", "random3", "worse"]
    )
    run.add_argument("out")
    run.add_argument("--train-size", type=int, default=4000)
    run.add_argument("--epochs", type=int, default=20)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument(
        "--methods", nargs="+", choices=list(METHODS), default=["ido", "alr"]
    )
    run.add_argument(
        "--per-epoch",
        action="store_true",
        help="also save every epoch's predictions on the training rows",
    )
    run.set_defaults(run=train)
    show = commands.add_parser("report")
    show.add_argument("npz")
    show.set_defaults(run=report)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
