"""Save or compare every estimator's fitted outputs: a refactor must change none.

A refactor must leave ``noise_scores_``, ``refined_labels_``, ``predict_proba`` and
the method-specific fitted attributes bit-identical at the same seeds. Run this
script on the code before the change and after it, and compare::

    python benchmarks/fitted_outputs.py save before.npz   # on the old checkout
    python benchmarks/fitted_outputs.py save after.npz    # on the new one
    python benchmarks/fitted_outputs.py compare before.npz after.npz

``compare`` prints one line per array: identical, or the largest absolute
difference and how many entries differ; it exits 1 if anything differs.
Timings are not recorded. Every case is a seeded fit on CPU with one torch
thread, so the outputs do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy.noise import flip_labels

ATTRIBUTES = (
    "noise_scores_",
    "refined_labels_",
    "label_issues_",
    "wrong_events_",
    "clean_proba_",
    "base_epoch_",
    "soft_labels_",
    "warmup_epochs_",
)


def _digits():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    y_noisy, _ = flip_labels(y, 0.3, random_state=0)
    return X, y_noisy


def _cases():
    """(name, estimator, X, y): every method and the code paths a refactor touches."""
    X, y = _digits()
    images = X.reshape(-1, 1, 8, 8)
    common = {"max_epochs": 12, "random_state": 0, "n_threads": 1}
    small = {"hidden_layer_sizes": (64,), **common}
    dataset = torch.utils.data.TensorDataset(
        torch.as_tensor(images[:600]), torch.as_tensor(y[:600])
    )
    return [
        ("plain", CrossEntropyClassifier(**common), X, y),
        ("ido", WrongEventClassifier(**common), X, y),
        ("ido_global", WrongEventClassifier(mixture="global", **small), X, y),
        ("ido_official", WrongEventClassifier(entropy_term="official", **small), X, y),
        ("alr", ALRClassifier(**common), X, y),
        ("alr_warmup0", ALRClassifier(warmup_epochs=0, **small), X, y),
        ("alr_warmup3", ALRClassifier(warmup_epochs=3, **small), X, y),
        (
            "ido_images",
            WrongEventClassifier(max_epochs=4, random_state=0, n_threads=1),
            images[:600],
            y[:600],
        ),
        (
            "alr_dataset",
            ALRClassifier(max_epochs=4, random_state=0, n_threads=1),
            dataset,
            None,
        ),
    ]


def save(path: str) -> None:
    X_test = _digits()[0][:200]
    arrays = {}
    for name, estimator, X, y in _cases():
        print(f"fitting {name} ...", file=sys.stderr, flush=True)
        estimator.fit(X, y)
        for attribute in ATTRIBUTES:
            if hasattr(estimator, attribute):
                arrays[f"{name}.{attribute}"] = np.asarray(
                    getattr(estimator, attribute)
                )
        test = X_test.reshape(-1, *estimator.input_shape_)
        arrays[f"{name}.predict_proba"] = estimator.predict_proba(test)
    np.savez(path, **arrays)
    print(f"saved {len(arrays)} arrays to {path}")


def compare(before: str, after: str) -> int:
    old, new = np.load(before), np.load(after)
    differ = 0
    for key in sorted(set(old) | set(new)):
        if key not in old or key not in new:
            print(f"{key}: only in {'after' if key in new else 'before'}")
            differ += 1
            continue
        a, b = old[key], new[key]
        if a.shape == b.shape and np.array_equal(a, b):
            print(f"{key}: identical")
            continue
        differ += 1
        if a.shape != b.shape:
            print(f"{key}: shapes differ, {a.shape} vs {b.shape}")
        elif a.dtype.kind in "fiub":
            diff = np.abs(a.astype(float) - b.astype(float))
            print(
                f"{key}: DIFFERS, max |diff| {diff.max():.3g}, "
                f"{int((diff > 0).sum())} of {diff.size} entries ({a.ravel()[:3]} "
                f"vs {b.ravel()[:3]})"
            )
        else:
            print(f"{key}: DIFFERS in {int((a != b).sum())} of {a.size} entries")
    print(f"{differ} of {len(set(old) | set(new))} arrays differ")
    return int(differ > 0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("save").add_argument("path")
    cmp = commands.add_parser("compare")
    cmp.add_argument("before")
    cmp.add_argument("after")
    args = parser.parse_args(argv)
    if args.command == "save":
        save(args.path)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
