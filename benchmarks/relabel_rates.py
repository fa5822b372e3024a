"""The noise rates the odds rule could assume, on small tables with injected noise.

For each of digits, wine and breast_cancer (standardised), symmetric 0.2 and
0.4 and pair 0.3 noise, seeds 0 and 1, both methods at their defaults (60
epochs): the share of candidates, the uniform-noise maximum-likelihood rate of
the final model and of the base (IDO) or last warm-up (ALR) model, and the
share of rows whose refined labels the odds rule makes right at each::

    python benchmarks/relabel_rates.py

The CIFAR-10N side of the comparison is ``cifar10n_rows.py train --per-epoch``;
``docs/methods.md`` ("Human noise") has both.
"""

from __future__ import annotations

import numpy as np
from cifar10n_rows import EPOCH_PREDICTIONS, RecordPredictions
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy._predictions import RowPredictions, odds_refined_codes, uniform_noise_rate
from sknoisy.noise import pair_noise, symmetric_noise

NOISE = {"symmetric": symmetric_noise, "pair": pair_noise}


def rates(name, clf, predictions):
    """The candidates and the rates to compare, for one fitted estimator."""
    epochs = EPOCH_PREDICTIONS.pop(name)
    if name == "ido":
        candidates, start = clf.label_issues_, clf.base_epoch_
    else:
        candidates = clf.soft_labels_.argmax(1) != clf.given_codes_
        start = clf.warmup_epochs_
    return candidates, {
        "share": float(candidates.mean()),
        "ML final": uniform_noise_rate(predictions),
        "ML start": uniform_noise_rate(epochs[start - 1]),
    }


def main() -> None:
    for loader in (load_digits, load_wine, load_breast_cancer):
        X, y = loader(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        for kind, rate in (("symmetric", 0.2), ("symmetric", 0.4), ("pair", 0.3)):
            for seed in (0, 1):
                y_noisy, _ = NOISE[kind](y, rate, random_state=seed)
                for name, Estimator in (
                    ("ido", WrongEventClassifier),
                    ("alr", ALRClassifier),
                ):
                    clf = Estimator(
                        max_epochs=60,
                        random_state=seed,
                        callbacks=[RecordPredictions(name, y_noisy)],
                    ).fit(X, y_noisy)
                    predictions = RowPredictions.from_proba(
                        clf.predict_proba(X), y_noisy
                    )
                    candidates, estimates = rates(name, clf, predictions)
                    cells = [
                        f"{loader.__name__[5:]:13s} {kind}:{rate} seed {seed} {name}",
                        f"truth {np.mean(y_noisy != y):.3f}",
                        f"given right {np.mean(y_noisy == y):.3f}",
                    ]
                    for label, r in estimates.items():
                        refined = odds_refined_codes(
                            predictions, y_noisy, candidates, r
                        )
                        cells.append(f"{label} {r:.3f}: {np.mean(refined == y):.3f}")
                    print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
