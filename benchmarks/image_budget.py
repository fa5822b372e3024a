"""Test accuracy per CPU-minute on CIFAR-10N: backbones and schedules for images.

Issue #15 asks what makes image training cheaper at equal accuracy on a CPU.
This script trains plain ``CrossEntropyClassifier`` fits (the backbone and the
schedule are the same question for every method) on a stratified subset of
CIFAR-10N's training images with one human label set, scores the clean test
labels after every epoch, and reports each variant's test accuracy against the
training time spent so far, and the best accuracy reached within fixed budgets
of CPU-minutes (a fit pins one thread: ``n_threads="auto"`` with a seed, so a
wall-clock second is a CPU-second).

Variants (``--variants``, default all):

``smallcnn``           today's default: ``SmallCNN(width=32)``, Adam at a
                       constant ``lr=1e-3``
``smallcnn-onecycle``  the same network, Adam under a one-cycle schedule
                       (``OneCycleLR``, peak ``3e-3``) over ``--short-epochs``
``smallcnn-w16``       ``SmallCNN(width=16)``: about a quarter of the
                       multiply-adds, constant ``lr=1e-3``
``smallcnn-w16-onecycle``  the narrow network under the one-cycle schedule

    python benchmarks/image_budget.py DATA_DIR LABEL_FILE --labels aggre \\
        --train-size 4000 --test-size 2000 --epochs 30 --short-epochs 12

Timings exclude the per-epoch test scoring (skorch's epoch duration is recorded
before this script's callback runs). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import torch
from cifar10n_rows import stratified_rows  # this folder's probe script
from skorch.callbacks import Callback, LRScheduler

from sknoisy import CrossEntropyClassifier
from sknoisy.datasets import load_cifar10n
from sknoisy.exceptions import UnidentifiableNoiseWarning
from sknoisy.modules import SmallCNN

PEAK_LR = 3e-3
"""The one-cycle schedule's peak learning rate (3x Adam's default)."""

BUDGETS_MINUTES = (1, 2, 4, 8)
"""The CPU-minute budgets at which the best test accuracy so far is reported."""


class TestAccuracy(Callback):
    """Record the clean test accuracy after every epoch."""

    def __init__(self, X_test, y_test):
        self.X_test = X_test
        self.y_test = y_test

    def on_epoch_end(self, net, **kwargs):
        accuracy = float(np.mean(net.predict(self.X_test) == self.y_test))
        net.history.record("test_accuracy", accuracy)


def variant_params(name: str, n_rows: int, args) -> tuple[dict, list, int]:
    """The estimator parameters, extra callbacks and epochs of a variant."""
    width = 16 if "w16" in name else 32
    # Every variant sets its own rate: constant, or the one-cycle schedule.
    params = {"module": SmallCNN, "module__width": width, "lr_schedule": "constant"}
    if not name.endswith("onecycle"):
        return params, [], args.epochs
    batches = -(-n_rows // args.batch_size)
    schedule = LRScheduler(
        policy=torch.optim.lr_scheduler.OneCycleLR,
        max_lr=PEAK_LR,
        total_steps=args.short_epochs * batches,
        step_every="batch",
    )
    return params, [schedule], args.short_epochs


VARIANTS = ("smallcnn", "smallcnn-onecycle", "smallcnn-w16", "smallcnn-w16-onecycle")


def run(args) -> list[dict]:
    data = load_cifar10n(args.data_dir, args.label_file)
    given = data.human_labels[args.labels]
    rows = stratified_rows(given, args.train_size, args.seed)
    test_rows = stratified_rows(data.test_target, args.test_size, args.seed)
    X, y = data.data[rows], given[rows]
    X_test, y_test = data.test_data[test_rows], data.test_target[test_rows]
    results = []
    for name in args.variants:
        params, callbacks, epochs = variant_params(name, len(X), args)
        clf = CrossEntropyClassifier(
            **params,
            max_epochs=epochs,
            batch_size=args.batch_size,
            random_state=args.seed,
            callbacks=[*callbacks, TestAccuracy(X_test, y_test)],
        ).fit(X, y)
        history = clf.net_.history
        seconds = np.cumsum(history[:, "dur"])
        accuracy = np.asarray(history[:, "test_accuracy"])
        result = {
            "variant": name,
            "epochs": epochs,
            "seconds": seconds.tolist(),
            "test_accuracy": accuracy.tolist(),
            "threads": fit_threads(clf.n_threads),
        }
        results.append(result)
        print(format_variant(result), flush=True)
    return results


def fit_threads(n_threads) -> int:
    """The torch threads a fit used (``"auto"`` pins one for a seeded fit)."""
    if n_threads == "auto":
        return 1
    return torch.get_num_threads() if n_threads is None else int(n_threads)


def best_within(result: dict, minutes: float) -> float | None:
    """The best test accuracy of the epochs ended within ``minutes``."""
    seconds = np.asarray(result["seconds"])
    within = seconds <= 60 * minutes
    if not within.any():
        return None
    return float(np.max(np.asarray(result["test_accuracy"])[within]))


def format_variant(result: dict) -> str:
    budgets = []
    for minutes in BUDGETS_MINUTES:
        best = best_within(result, minutes)
        budgets.append(f"{minutes} min: {'-' if best is None else f'{best:.3f}'}")
    last = result["test_accuracy"][-1]
    return (
        f"{result['variant']:24s} {result['epochs']:3d} epochs in "
        f"{result['seconds'][-1]:6.0f} s, final test {last:.3f}, best "
        f"{max(result['test_accuracy']):.3f} | " + " | ".join(budgets)
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("label_file")
    parser.add_argument("--labels", default="aggre")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--short-epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--json", help="write the per-epoch figures here")
    args = parser.parse_args(argv)
    # Short fits on human labels agree little with them; that is not news here.
    warnings.filterwarnings("ignore", category=UnidentifiableNoiseWarning)
    results = run(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
