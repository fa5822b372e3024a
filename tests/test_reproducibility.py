"""An int random_state reproduces results bit for bit on CPU, wherever fit runs."""

import os
import pickle
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.callbacks import Callback

from .conftest import ESTIMATORS, FAST

OUTPUTS = ("noise_scores_", "refined_labels_")


def outputs(clf, X):
    return [getattr(clf, name) for name in OUTPUTS] + [clf.predict_proba(X)]


def assert_identical(first, second):
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_refit_and_clone_are_bit_identical(Estimator, small_data):
    X, y = small_data
    clf = Estimator(**FAST, random_state=3).fit(X, y)
    first = outputs(clf, X)
    assert_identical(first, outputs(clf.fit(X, y), X))
    assert_identical(first, outputs(clone(clf).fit(X, y), X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fresh_process_gives_the_same_results(Estimator, small_data, tmp_path):
    X, y = small_data
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    script = textwrap.dedent(
        f"""
        import numpy as np
        from sknoisy import {Estimator.__name__} as Estimator
        X = np.load("X.npy"); y = np.load("y.npy")
        clf = Estimator(**{FAST!r}, random_state=3).fit(X, y)
        np.save("scores.npy", clf.noise_scores_)
        np.save("proba.npy", clf.predict_proba(X))
        """
    )
    subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=300
    )
    clf = Estimator(**FAST, random_state=3).fit(X, y)
    np.testing.assert_array_equal(np.load(tmp_path / "scores.npy"), clf.noise_scores_)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), clf.predict_proba(X))


class RecordThreads(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


@pytest.mark.parametrize("images", [False, True], ids=["mlp", "cnn"])
def test_grid_search_n_jobs_does_not_change_results(digits, images):
    # joblib's workers run fewer torch threads than the main process; with an int
    # random_state, n_threads="auto" pins one thread, so the results are the same.
    from sknoisy import ALRClassifier

    X, y = digits
    X, y = X[:600], y[:600]
    params = {}
    if images:
        # the images' pixel values (uint8), which the estimator standardises
        X = load_digits().images[:600, None].astype(np.uint8)
        params = {"module__width": 8}
    grid = {"entropy_weight": [0.5, 1.0], "lr": [1e-3, 3e-3]}
    results = []
    for n_jobs in (1, 2):
        search = GridSearchCV(
            ALRClassifier(**FAST, **params, random_state=0),
            grid,
            cv=2,
            scoring="neg_log_loss",  # shows last-bit differences; accuracy may not
            n_jobs=n_jobs,
        ).fit(X, y)
        best = search.best_estimator_
        results.append([search.cv_results_["mean_test_score"], *outputs(best, X[:100])])
    assert_identical(*results)


@pytest.mark.parametrize(
    "n_threads, random_state, expected",
    [
        ("auto", 0, 1),
        ("auto", None, "torch"),
        ("auto", np.random.RandomState(0), "torch"),
        (None, 0, "torch"),
        (2, 0, 2),
    ],
)
def test_n_threads_auto_pins_one_thread_for_seeded_cpu_fits(
    small_data, n_threads, random_state, expected
):
    from sknoisy import ALRClassifier

    X, y = small_data
    before = torch.get_num_threads()
    clf = ALRClassifier(
        **FAST,
        n_threads=n_threads,
        random_state=random_state,
        callbacks=[RecordThreads()],
    ).fit(X, y)
    used = clf.net_.history[-1, "torch_threads"]
    assert used == (before if expected == "torch" else expected)
    assert torch.get_num_threads() == before
    clf.predict(X)
    assert torch.get_num_threads() == before


def test_parallel_workers_limit_torch_threads(small_data):
    from sknoisy import ALRClassifier

    X, y = small_data
    result = cross_validate(
        ALRClassifier(
            **FAST, n_threads=None, callbacks=[RecordThreads()], random_state=0
        ),
        X,
        y,
        cv=2,
        n_jobs=2,
        return_estimator=True,
    )
    limit = max(1, (os.cpu_count() or 1) // 2)
    for fitted in result["estimator"]:
        assert fitted.net_.history[-1, "torch_threads"] <= limit


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_global_random_states_are_untouched_by_fit_and_predict(Estimator, small_data):
    X, y = small_data
    torch.manual_seed(11)
    np.random.seed(11)
    random.seed(11)
    before = (
        torch.get_rng_state(),
        pickle.dumps(np.random.get_state()),
        random.getstate(),
    )
    clf = Estimator(**FAST, random_state=0).fit(X, y)
    clf.predict(X)
    clf.predict_proba(X)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert pickle.dumps(np.random.get_state()) == before[1]
    assert random.getstate() == before[2]
