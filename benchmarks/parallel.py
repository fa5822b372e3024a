"""GridSearchCV speed-up with n_jobs, and the torch threads each worker uses.

joblib's loky workers start with OMP_NUM_THREADS = cores // n_jobs, which torch
honours, so k workers do not oversubscribe the cores. The estimator pins one torch
thread (``n_threads=1``) so that results are bit-identical at every n_jobs. This
measures the wall time of the same grid search at n_jobs = 1 and 2 (the machine's
cores), side by side.

    python benchmarks/parallel.py
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier
from sknoisy.noise import symmetric_noise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y_noisy, _ = symmetric_noise(y, 0.3, random_state=0)
    grid = {"entropy_weight": [0.5, 1.0, 2.0], "momentum": [0.7, 0.9]}
    print(
        f"GridSearchCV(ALRClassifier, 6 candidates x 3 folds, {args.epochs} epochs) "
        f"on digits, {os.cpu_count()} cores"
    )
    seconds, scores = {}, {}
    for n_jobs in args.jobs:
        start = time.perf_counter()
        search = GridSearchCV(
            ALRClassifier(max_epochs=args.epochs, n_threads=1, random_state=0),
            grid,
            cv=3,
            n_jobs=n_jobs,
        ).fit(X, y_noisy)
        seconds[n_jobs] = time.perf_counter() - start
        scores[n_jobs] = search.cv_results_["mean_test_score"]
        print(f"n_jobs={n_jobs}: {seconds[n_jobs]:.1f} s", flush=True)
    first = args.jobs[0]
    for n_jobs in args.jobs[1:]:
        same = np.array_equal(scores[first], scores[n_jobs])
        print(
            f"speed-up n_jobs={n_jobs} vs {first}: "
            f"{seconds[first] / seconds[n_jobs]:.2f}x; identical scores: {same}"
        )


if __name__ == "__main__":
    main()
