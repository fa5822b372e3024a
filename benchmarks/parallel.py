"""GridSearchCV speed-up with n_jobs, and whether the results depend on it.

joblib's loky workers start with OMP_NUM_THREADS = cores // n_jobs, which torch
honours, so k workers do not oversubscribe the cores; but a worker then runs fewer
torch threads than the main process, and results on CPU are bit-identical only at
equal thread counts. A seeded estimator's default ``n_threads="auto"`` pins one
thread; ``n_threads=None`` keeps torch's setting. This times the same grid search
at each n_jobs, for both settings, interleaved over repeats (median times), and
compares the cross-validated scores.

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
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y_noisy, _ = symmetric_noise(y, 0.3, random_state=0)
    grid = {"entropy_weight": [0.5, 1.0, 2.0], "momentum": [0.7, 0.9]}
    print(
        f"GridSearchCV(ALRClassifier, 6 candidates x 3 folds, {args.epochs} epochs) "
        f"on digits, {os.cpu_count()} cores"
    )
    # Start joblib's workers (and import torch there) before timing anything.
    GridSearchCV(
        ALRClassifier(max_epochs=1),
        {"momentum": [0.7, 0.9]},
        cv=2,
        n_jobs=max(args.jobs),
    ).fit(X, y_noisy)
    settings = [
        (n_threads, n_jobs) for n_threads in ("auto", None) for n_jobs in args.jobs
    ]
    seconds = {setting: [] for setting in settings}
    scores = {}
    for _ in range(args.repeats):  # interleaved: load drift hits every setting
        for n_threads, n_jobs in settings:
            start = time.perf_counter()
            search = GridSearchCV(
                ALRClassifier(
                    max_epochs=args.epochs, n_threads=n_threads, random_state=0
                ),
                grid,
                cv=3,
                # Log-loss shows a difference in the last bits; accuracy may not.
                scoring="neg_log_loss",
                n_jobs=n_jobs,
            ).fit(X, y_noisy)
            seconds[n_threads, n_jobs].append(time.perf_counter() - start)
            scores[n_threads, n_jobs] = search.cv_results_["mean_test_score"]
    seconds = {setting: float(np.median(times)) for setting, times in seconds.items()}
    for (n_threads, n_jobs), median in seconds.items():
        print(f"n_threads={n_threads!r:6s} n_jobs={n_jobs}: {median:.1f} s (median)")
    first = args.jobs[0]
    for n_threads in ("auto", None):
        for n_jobs in args.jobs[1:]:
            same = np.array_equal(scores[n_threads, first], scores[n_threads, n_jobs])
            speed_up = seconds[n_threads, first] / seconds[n_threads, n_jobs]
            print(
                f"n_threads={n_threads!r:6s} n_jobs={n_jobs} vs {first}: "
                f"speed-up {speed_up:.2f}x; identical log-losses: {same}"
            )


if __name__ == "__main__":
    main()
