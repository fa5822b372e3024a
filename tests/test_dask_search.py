"""Search on a Dask cluster (issue #18.3): ``GridSearchCV`` under joblib's Dask
backend, on a ``dask.distributed.LocalCluster`` of two worker processes, gives
the same ``cv_results_`` as ``n_jobs=1``, for both methods."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy.noise import symmetric_noise

from .conftest import FAST

distributed = pytest.importorskip("distributed")

GRIDS = {
    ALRClassifier: {"entropy_weight": [0.0, 1.0], "lr": [1e-3, 3e-3]},
    WrongEventClassifier: {"stage1_epochs": [1, 2], "lr": [1e-3, 3e-3]},
}


@pytest.fixture(scope="module")
def cluster_client():
    """Two worker processes of one thread each (the machines' two cores)."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def scores(search):
    """The per-split test scores and the best estimator's fitted outputs."""
    results = search.cv_results_
    split_scores = [results[f"split{k}_test_score"] for k in range(search.n_splits_)]
    best = search.best_estimator_
    return [*split_scores, search.best_params_, best.noise_scores_]


@pytest.mark.parametrize("Estimator", list(GRIDS))
def test_grid_search_on_a_dask_cluster_matches_n_jobs_1(
    Estimator, small_data, cluster_client
):
    X, y = small_data
    y_noisy, _ = symmetric_noise(y, 0.3, random_state=0)

    def search(n_jobs):
        return GridSearchCV(
            Estimator(**FAST, random_state=0),
            GRIDS[Estimator],
            cv=2,
            scoring="neg_log_loss",  # shows last-bit differences; accuracy may not
            n_jobs=n_jobs,
        ).fit(X, y_noisy)

    serial = search(1)
    with distributed.get_task_stream(cluster_client) as tasks:
        with parallel_backend("dask"):
            on_dask = search(-1)
    # The fits ran on both worker processes, not in this one.
    assert len({task["worker"] for task in tasks.data}) == 2
    for a, b in zip(scores(serial), scores(on_dask)):
        if isinstance(a, dict):
            assert a == b
        else:
            np.testing.assert_array_equal(a, b)
    # The options differ in their scores, so equal results are not a tie.
    assert len(np.unique(serial.cv_results_["mean_test_score"])) == 4
