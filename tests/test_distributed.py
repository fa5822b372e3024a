"""Data-parallel training over two CPU processes (gloo), launched by torchrun
(issue #18.1-2).

The two-process fit trains one model on the same global batches as a
one-process fit, each process on its shard: its ``noise_scores_`` agree with
the one-process fit's within 1e-3 on every row, its ``label_issues_`` are the
same on a clear case, and its fitted attributes are identical on both
processes. A process that fails makes the launch fail, with its error.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from skorch.callbacks import Callback
from torch.utils.data import TensorDataset

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy._distributed import check_shardable
from sknoisy.noise import symmetric_noise

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="torch without torch.distributed"
)

PARAMS = {
    "hidden_layer_sizes": (32,),
    "max_epochs": 20,
    "batch_size": 32,
    "random_state": 0,
}
METHOD_PARAMS = {WrongEventClassifier: {"stage1_epochs": 5}, ALRClassifier: {}}


@pytest.fixture(scope="module")
def clear_case():
    """Three well-separated blobs, 303 rows (the last batch does not fill), 20%
    of the labels flipped."""
    centers = [[-5, 0], [5, 0], [0, 8]]
    X, y = make_blobs(n_samples=303, centers=centers, random_state=0)
    y_noisy, flipped = symmetric_noise(y, 0.2, random_state=0)
    return X.astype(np.float32), y_noisy, flipped


def launch(tmp_path, script, n_processes=2, timeout=300):
    (tmp_path / "script.py").write_text(textwrap.dedent(script))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [
            *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
            *(f"--nproc_per_node={n_processes}", "script.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


FIT_SCRIPT = """
    import numpy as np
    import torch.distributed as dist
    from torch.utils.data import TensorDataset
    import torch
    from skorch.callbacks import Callback

    from sknoisy import {estimator}


    class CountRows(Callback):
        # Rows trained on, and epoch 2's batches (this process's shards).

        def initialize(self):
            self.rows, self.epoch2 = 0, []
            return self

        def on_batch_end(self, net, batch, training, **kwargs):
            if training:
                rows = batch[0]["sample_idx"]
                self.rows += len(rows)
                if len(net.history) == 2:
                    self.epoch2.append([int(r) for r in rows])


    X, y = np.load("X.npy"), np.load("y.npy")
    if {as_dataset}:
        X = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    clf = {estimator}(**{params!r}, callbacks=[CountRows()]).fit(X, y)
    (counter,) = [c for _, c in clf.net_.callbacks_ if isinstance(c, CountRows)]
    np.savez(
        f"rank{{dist.get_rank()}}.npz",
        noise_scores=clf.noise_scores_,
        label_issues=clf.label_issues_,
        refined_labels=clf.refined_labels_,
        trained_rows=clf.trained_rows_,
        world=dist.get_world_size(),
        rows_trained=counter.rows,
        epoch2=np.concatenate(counter.epoch2),
        epoch2_sizes=[len(b) for b in counter.epoch2],
    )
"""


@pytest.mark.parametrize(
    "Estimator, as_dataset",
    [(WrongEventClassifier, False), (ALRClassifier, False), (ALRClassifier, True)],
    ids=["ido", "alr", "alr-dataset"],
)
def test_a_two_process_fit_agrees_with_a_one_process_fit(
    Estimator, as_dataset, clear_case, tmp_path
):
    X, y, flipped = clear_case
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    params = {**PARAMS, **METHOD_PARAMS[Estimator]}
    script = FIT_SCRIPT.format(
        estimator=Estimator.__name__, params=params, as_dataset=as_dataset
    )
    result = launch(tmp_path, script)
    assert result.returncode == 0, result.stderr[-3000:]

    counter = EpochTwoBatches()
    X_one = TensorDataset(torch.as_tensor(X), torch.as_tensor(y)) if as_dataset else X
    one = Estimator(**params, callbacks=[counter]).fit(X_one, y)
    (counter,) = [c for _, c in one.net_.callbacks_ if isinstance(c, EpochTwoBatches)]
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    # The global batches of epoch 2 are the one-process fit's, each cut in two.
    shards = [np.split(r["epoch2"], np.cumsum(r["epoch2_sizes"])[:-1]) for r in ranks]
    assert len(shards[0]) == len(counter.batches)
    for batch, first, second in zip(counter.batches, *shards):
        np.testing.assert_array_equal(np.concatenate([first, second]), batch)
        assert abs(len(first) - len(second)) <= 1
    assert all(int(r["world"]) == 2 for r in ranks)
    # Each process trained on its half of every batch, no row twice.
    rows = [int(r["rows_trained"]) for r in ranks]
    assert sum(rows) == params["max_epochs"] * len(X)
    assert max(rows) - min(rows) <= params["max_epochs"] * 10  # 10 batches
    for name in ("noise_scores", "label_issues", "refined_labels", "trained_rows"):
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)
    two = ranks[0]
    np.testing.assert_allclose(
        two["noise_scores"], one.noise_scores_, rtol=0, atol=1e-3
    )
    np.testing.assert_array_equal(two["label_issues"], one.label_issues_)
    np.testing.assert_array_equal(two["refined_labels"], one.refined_labels_)
    assert two["trained_rows"].all()
    # A clear case indeed: the flags are the flips.
    np.testing.assert_array_equal(two["label_issues"], flipped)


class EpochTwoBatches(Callback):
    def initialize(self):
        self.batches = []
        return self

    def on_batch_end(self, net, batch, training, **kwargs):
        if training and len(net.history) == 2:
            self.batches.append(batch[0]["sample_idx"].numpy().copy())


IMAGE_SCRIPT = """
    import numpy as np
    import torch.distributed as dist

    from sknoisy import WrongEventClassifier

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(130, 1, 8, 8), dtype=np.uint8)
    y = np.arange(130) % 2
    X[y == 1, :, :4] //= 3
    clf = WrongEventClassifier(
        max_epochs=5, stage1_epochs=2, batch_size=32, module__width=4,
        dropout=0.2, random_state=0,
    ).fit(X, y)
    np.savez(
        f"rank{dist.get_rank()}.npz",
        noise_scores=clf.noise_scores_,
        proba=clf.predict_proba(X),
        loss=clf.net_.history[:, "train_loss"],
    )
"""


def test_a_two_process_image_fit_with_batchnorm_ends_the_same_on_both(tmp_path):
    # BatchNorm's running statistics and dropout are per process on CPU: the
    # processes still end with the same model (rank 0's statistics after
    # every epoch) and the same history.
    result = launch(tmp_path, IMAGE_SCRIPT)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    for name in ("noise_scores", "proba", "loss"):
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)


@pytest.mark.parametrize(
    "n_rows, batch_size, drop_last, match",
    [
        (101, 10, False, "last batch of each epoch has 1 row"),
        (100, 1, False, "batches of 1 row"),
        (1, -1, False, "batches of 1 row"),
    ],
)
def test_batches_that_leave_a_process_without_rows_are_refused(
    n_rows, batch_size, drop_last, match
):
    with pytest.raises(ValueError, match=match):
        check_shardable(n_rows, batch_size, drop_last, world_size=2)
    check_shardable(101, 10, True, world_size=2)  # the short batch is dropped


FAILING_SCRIPT = """
    import numpy as np
    import torch.distributed as dist
    from skorch.callbacks import Callback

    from sknoisy import ALRClassifier


    class FailOnRank1(Callback):
        def on_epoch_end(self, net, **kwargs):
            if dist.get_rank() == 1 and len(net.history) == 2:
                raise RuntimeError("rank 1 failed on purpose in epoch 2")


    X, y = np.load("X.npy"), np.load("y.npy")
    ALRClassifier(**{params!r}, callbacks=[FailOnRank1()]).fit(X, y)
"""


def test_a_failing_process_fails_the_launch_with_its_error(clear_case, tmp_path):
    X, y, _ = clear_case
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    result = launch(tmp_path, FAILING_SCRIPT.format(params=PARAMS), timeout=240)
    assert result.returncode != 0
    assert "rank 1 failed on purpose in epoch 2" in result.stderr


RESUMED_SCRIPT = """
    import os
    import sys

    import numpy as np
    import torch.distributed as dist

    from sknoisy import WrongEventClassifier
    from sknoisy._net import IndexedNet

    run = IndexedNet.run_single_epoch
    stop = int(os.environ.get("INTERRUPT_IN_EPOCH", 0))
    epochs_run = []

    def counted(net, iterator, training, *args, **kwargs):
        if training and len(net.history) == stop:
            raise KeyboardInterrupt
        epochs_run.append(training)
        return run(net, iterator, training, *args, **kwargs)

    IndexedNet.run_single_epoch = counted

    X, y = np.load("X.npy"), np.load("y.npy")
    clf = WrongEventClassifier(**{params!r}, checkpoint_dir="checkpoints")
    try:
        clf.fit(X, y)
    except KeyboardInterrupt:
        sys.exit(0)
    np.save(f"rank{{dist.get_rank()}}.npy", clf.noise_scores_)
    np.save(f"epochs{{dist.get_rank()}}.npy", sum(epochs_run))
"""


def test_a_two_process_fit_resumes_from_its_checkpoints(clear_case, tmp_path):
    X, y, _ = clear_case
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    params = {**PARAMS, **METHOD_PARAMS[WrongEventClassifier]}
    script = RESUMED_SCRIPT.format(params=params)
    os.environ["INTERRUPT_IN_EPOCH"] = "8"  # stage 2; epochs 1-7 saved
    try:
        result = launch(tmp_path, script)
    finally:
        del os.environ["INTERRUPT_IN_EPOCH"]
    assert result.returncode == 0, result.stderr[-3000:]
    saved = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert len(saved) == 2 and "rank0of2" in saved[0] and "rank1of2" in saved[1]
    assert not list(tmp_path.glob("rank*.npy"))

    result = launch(tmp_path, script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list((tmp_path / "checkpoints").iterdir()) == []
    one = WrongEventClassifier(**params).fit(X, y)
    for rank in (0, 1):
        assert np.load(tmp_path / f"epochs{rank}.npy") == 13  # epochs 8-20
        scores = np.load(tmp_path / f"rank{rank}.npy")
        np.testing.assert_allclose(scores, one.noise_scores_, rtol=0, atol=1e-3)


MISMATCHED_SCRIPT = """
    import numpy as np
    import torch.distributed as dist

    from sknoisy import ALRClassifier

    X, y = np.load("X.npy"), np.load("y.npy")
    dist.init_process_group("gloo")  # the script's own group, which fit joins
    lr = 1e-3 if dist.get_rank() == 0 else 2e-3  # a grid split over the ranks
    ALRClassifier(**{params!r}, lr=lr).fit(X, y)
"""


def test_processes_fitting_different_parameters_are_refused(clear_case, tmp_path):
    X, y, _ = clear_case
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    params = {k: v for k, v in PARAMS.items() if k != "lr"}
    result = launch(tmp_path, MISMATCHED_SCRIPT.format(params=params), timeout=240)
    assert result.returncode != 0
    assert "their parameters differ" in result.stderr
