"""Ablate WrongEventClassifier (IDO) to find where its test accuracy goes.

Runs IDO variants on the suite's splits (``benchmarks/suite.sh``: the same
subsample, split, encoding and noise per seed) with a callback that scores the
model on the clean test labels after every epoch, and prints per variant: test
accuracy at the end of stage 1, at the base epoch (Label Wave), at its best
epoch and at the end; detection AUROC and the flags' F1. Plain training and
cleanlab are in the suite's results; this script trains IDO only.

Variants (``--variants``, default all):

``default``        today's defaults
``no-views``       both views the unaugmented rows
``weak-only``      both views weak (no SCARF corruption)
``corrupt-0.1``    SCARF corruption of 10% of the features (default 30%)
``stage1-0.5``     stage 1 half the budget (default 30%)
``no-entropy``     loss without the entropy term
``no-consistency`` loss without the consistency term
``ce-weak-only``   the clean term on the weak view only
``terms-check``    the loss rebuilt from its terms (must match ``default``)
``unlearnt-min``   a class is unlearnt only while its lowest count is most
                   passes (default: its 10% quantile)
``weak-count``     stage 2 counts the weak view's wrong events only (twice,
                   so that the passes counted stay two per epoch)
``marginal-donors`` SCARF's donors from every training row (before
                   class-conditional views; default: rows of the class the
                   weak view last predicted)
``given-donors``   donors from rows of the row's given class
``gated-donors``   donors from the given class where the mixture calls the
                   row clean, from every row elsewhere
``unweighted``     every row weighs as clean in the loss (``p = 1``,
                   ``q = 0``): the views and the consistency term without the
                   mixture's weights

On images (``--dataset cifar10n``, the benchmark's stratified training subset
and the official test set; the per-epoch accuracy on ``--oracle-test-size``
stratified test images, the final one on all of them):

``image-weak-only``  the strong view an independent weak draw (no
                     RandAugment, no cutout)
``no-views``         (as above) stage 1 and both views on the raw images

    python benchmarks/ido_ablation.py --dataset cifar10n \\
        --data-dir /tmp/cifar/cifar-10-batches-py \\
        --label-file ../shared/data/cifar10n/CIFAR-10_human.pt \\
        --noise human:aggre --epochs 20 --train-size 10000 \\
        --variants default unweighted image-weak-only no-views

The loss-term variants replace :func:`sknoisy.losses.ido_loss` in this process
only (an ablation, not an option).

    python benchmarks/ido_ablation.py \\
        --dataset ../shared/data/tabular/satellite.parquet:class \\
        --noise symmetric:0.4 --seeds 0
"""

from __future__ import annotations

import argparse
import contextlib
import functools

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

import sknoisy._ido.net as ido_net
from sknoisy import WrongEventClassifier
from sknoisy.benchmark import (
    NoiseSetting,
    _EpochOracle,
    _prepare_split,
    load_benchmark_data,
)
from sknoisy.losses import ido_loss
from sknoisy.metrics import detection_auroc
from sknoisy.views import ImageViews, TabularViews


def identity_views(x):
    return x, x


class WeakOnly(TabularViews):
    def __call__(self, x):
        weak, _ = super().__call__(x)
        other, _ = super().__call__(x)
        return weak, other


def loss_without(term):
    @functools.wraps(ido_loss)
    def loss(lw, ls, y, p, q, f0, f1, **kwargs):
        if term == "entropy":
            # The entropy term has weight (1 - p): p = 1 removes it; the clean
            # and consistency terms keep their own weights through p's copy.
            return _terms(lw, ls, y, p, q, f0, f1, entropy=False)
        if term == "consistency":
            return _terms(lw, ls, y, p, q, f0, f1, consistency=False)
        if term == "strong-ce":
            return _terms(lw, ls, y, p, q, f0, f1, strong_ce=False)
        if term == "none":  # the check that the terms are IDO's loss
            return _terms(lw, ls, y, p, q, f0, f1)
        if term == "unweighted":
            return _terms(lw, ls, y, torch.ones_like(p), torch.zeros_like(q), f0, f1)
        raise ValueError(term)

    return loss


def _terms(lw, ls, y, p, q, f0, f1, entropy=True, consistency=True, strong_ce=True):
    import torch.nn.functional as F

    from sknoisy.losses import PROBA_CLIP
    from sknoisy.losses import entropy as entropy_of

    ce = F.cross_entropy(lw, y, reduction="none")
    if strong_ce:
        ce = ce + F.cross_entropy(ls, y, reduction="none")
    total = p * ce
    if consistency:
        total = total + (p * f0 + (1 - q) * (1 - f1)) * (lw - ls).pow(2).mean(1)
    if entropy:
        mean = ((lw.softmax(1) + ls.softmax(1)) / 2).clamp(PROBA_CLIP, 1 - PROBA_CLIP)
        total = total + mean.amax(1) * (1 - p) * entropy_of(mean)
    return total.mean()


VARIANTS = {
    "default": ({}, None),
    "no-views": ({"views": identity_views}, None),
    "weak-only": ({"views": WeakOnly()}, None),
    "corrupt-0.1": ({"views": TabularViews(corruption_rate=0.1)}, None),
    "stage1-0.5": ({"stage1_epochs": 0.5}, None),
    "no-entropy": ({}, "entropy"),
    "no-consistency": ({}, "consistency"),
    "ce-weak-only": ({}, "strong-ce"),
    "terms-check": ({}, "none"),
    "weak-count": ({}, "weak-count"),
    "unlearnt-min": ({}, "unlearnt-min"),
    "unlearnt-min+weak-count": ({}, "unlearnt-min+weak-count"),
    "corrupt-0.15": ({"views": TabularViews(corruption_rate=0.15)}, None),
    "marginal-donors": ({"views": TabularViews(class_conditional=False)}, None),
    "given-donors": ({}, "given-donors"),
    "gated-donors": ({}, "gated-donors"),
    "unweighted": ({}, "unweighted"),
    "image-weak-only": ({"views": ImageViews(randaugment_ops=0, cutout=0.0)}, None),
}


def count_weak_twice(wrong_events, rows, predictions, targets):
    return original_count(
        wrong_events, rows, predictions[:1].expand(len(predictions), -1), targets
    )


original_count = ido_net.count_wrong_events


@contextlib.contextmanager
def patched_loss(term):
    if term is None:
        yield
        return
    if "+" in term:
        first, second = term.split("+", 1)
        with patched_loss(first), patched_loss(second):
            yield
        return
    if term == "unlearnt-min":
        import sknoisy._ido.mixture as mixture

        saved, mixture.UNLEARNT_QUANTILE = mixture.UNLEARNT_QUANTILE, 0.0
        try:
            yield
        finally:
            mixture.UNLEARNT_QUANTILE = saved
        return
    if term in ("given-donors", "gated-donors"):
        original_draw = ido_net.WrongEventNet._draw_stage2_views

        def given_class_views(self, x, rows):
            classes = self.targets_[rows]
            if term == "gated-donors" and self.table_ is not None:
                top = self.table_.shape[1] - 1
                counts = self.wrong_events_[rows].clamp(max=top).long()
                clean = self.table_[classes.long(), counts, 0] >= 0.5
                classes = torch.where(clean, classes, -1)
            return self.draw_views(self.views_, x, classes=classes)

        ido_net.WrongEventNet._draw_stage2_views = given_class_views
        try:
            yield
        finally:
            ido_net.WrongEventNet._draw_stage2_views = original_draw
        return
    if term == "weak-count":
        ido_net.count_wrong_events = count_weak_twice
        try:
            yield
        finally:
            ido_net.count_wrong_events = original_count
        return
    original = ido_net.ido_loss
    ido_net.ido_loss = loss_without(term)
    try:
        yield
    finally:
        ido_net.ido_loss = original


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", nargs="+", default=["digits"])
    parser.add_argument("--noise", nargs="+", default=["symmetric:0.4"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--max-rows", type=int, default=4000)
    parser.add_argument(
        "--variants",
        nargs="+",
        help="default: every variant for the input kind (IMAGE_VARIANTS for "
        "cifar10n, the others for tables)",
    )
    parser.add_argument("--data-dir", help="CIFAR-10's python batches (cifar10n)")
    parser.add_argument("--label-file", help="CIFAR-10N's CIFAR-10_human.pt")
    parser.add_argument("--train-size", type=int, help="stratified training subset")
    parser.add_argument("--oracle-test-size", type=int, default=2000)
    args = parser.parse_args(argv)
    print(
        "data | noise | seed | variant | acc base (epoch) | acc best (epoch) "
        "| acc final | AUROC | F1 | flagged"
    )
    for name in args.dataset:
        data = load_benchmark_data(name, None, args.data_dir, args.label_file)
        for noise in args.noise:
            for seed in args.seeds:
                split = _prepare_split(
                    data,
                    NoiseSetting.parse(noise),
                    seed,
                    0.3,
                    args.train_size,
                    # --max-rows caps tables; CIFAR-10N's subset is --train-size.
                    None if name == "cifar10n" else args.max_rows,
                )
                for variant in args.variants or _variants_for(name):
                    params, term = VARIANTS[variant]
                    print(_row(name, noise, seed, variant, params, term, split, args))


class _TestAccuracy(Callback):
    """Test accuracy after every epoch, on a stratified subset of the test set
    (the benchmark's oracle also scores every training row: too slow for images)."""

    def __init__(self, X_test, y_test, size, seed):
        rows = np.arange(len(y_test))
        if size < len(rows):
            rows, _ = train_test_split(
                rows, train_size=size, stratify=y_test, random_state=seed
            )
        self.X_test, self.y_test = X_test[rows], y_test[rows]

    def on_epoch_end(self, net, **kwargs):
        accuracy = float(np.mean(net.predict(self.X_test) == self.y_test))
        net.history.record("oracle_test_accuracy", accuracy)


IMAGE_VARIANTS = ("default", "unweighted", "image-weak-only", "no-views")
"""The variants that apply to images (the others replace tabular views or
count rules measured on tables)."""


def _variants_for(name: str) -> list[str]:
    if name == "cifar10n":
        return list(IMAGE_VARIANTS)
    return [v for v in VARIANTS if v != "image-weak-only"]


def _row(name, noise, seed, variant, params, term, split, args):
    if np.ndim(split.X_train) == 4:
        oracle = _TestAccuracy(split.X_test, split.y_test, args.oracle_test_size, seed)
    else:
        oracle = _EpochOracle(
            split.X_train, split.y_noisy, split.flipped, split.X_test, split.y_test
        )
    clf = WrongEventClassifier(
        max_epochs=args.epochs,
        random_state=seed,
        n_threads=None,
        callbacks=[oracle],
        **params,
    )
    with patched_loss(term):
        clf.fit(split.X_train, split.y_noisy)
    history = clf.net_.history
    accuracy = np.asarray(history[:, "oracle_test_accuracy"])
    best = int(np.argmax(accuracy))
    final = np.mean(clf.predict(split.X_test) == split.y_test)
    flagged, flipped = clf.label_issues_, split.flipped
    hits = np.sum(flagged & flipped)
    f1 = 2 * hits / max(flagged.sum() + flipped.sum(), 1)
    auroc = detection_auroc(flipped, clf.noise_scores_)
    return (
        f"{name.rsplit('/', 1)[-1]} | {noise} | {seed} | {variant} | "
        f"{accuracy[clf.base_epoch_ - 1]:.3f} "
        f"(ep {clf.base_epoch_}) | {accuracy[best]:.3f} ({best + 1}) | "
        f"{final:.3f} | {auroc:.3f} | {f1:.3f} | {flagged.mean():.3f}"
    )


if __name__ == "__main__":
    main()
