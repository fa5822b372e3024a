"""Data larger than memory, and compact per-sample state (issue #18.4).

A memory-mapped Dataset fits under an address-space limit smaller than the
data, for both methods: the per-sample state is sized to ``len(dataset)`` and
nothing reads the data whole. The per-sample state takes at most
``(C + 2) x 4`` bytes per row.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sknoisy import ALRClassifier, WrongEventClassifier

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="address-space limits and /proc"
)

LIMITED_FIT = """
    import resource
    from pathlib import Path

    import numpy as np
    import torch
    from torch.utils.data import Dataset

    from sknoisy import ALRClassifier, WrongEventClassifier

    ROWS, FEATURES = {rows}, {features}
    path = Path("rows.f32")
    rng = np.random.default_rng(0)
    with open(path, "wb") as file:  # written in chunks, never whole in memory
        for start in range(0, ROWS, 4096):
            n = min(4096, ROWS - start)
            rng.standard_normal((n, FEATURES), dtype=np.float32).tofile(file)
    labels = np.arange(ROWS) % 3
    data_bytes = path.stat().st_size


    class MappedRows(Dataset):
        \"\"\"Rows of a float32 file, each mapped only while it is read.\"\"\"

        def __len__(self):
            return ROWS

        def __getitem__(self, i):
            row = np.memmap(
                path, np.float32, "r", offset=4 * FEATURES * i, shape=(FEATURES,)
            )
            x = torch.from_numpy(np.array(row))
            x[: 3] += 3 * torch.nn.functional.one_hot(
                torch.tensor(labels[i]), 3
            )  # learnable
            return x, int(labels[i])


    def vm_size():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024


    params = dict(max_epochs=3, batch_size=256, hidden_layer_sizes=(32,),
                  random_state=0)
    # Warm up torch (threads, allocator) on a few rows, then cap the address
    # space well below the data's size.
    ALRClassifier(**params).fit(torch.utils.data.Subset(MappedRows(), range(512)),
                                labels[:512])
    limit = vm_size() + 3 * data_bytes // 4
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    try:
        np.fromfile(path, dtype=np.float32)
    except MemoryError:
        print("reading the data whole fails under the limit")
    for Estimator in (ALRClassifier, WrongEventClassifier):
        clf = Estimator(**params).fit(MappedRows(), labels)
        assert clf.noise_scores_.shape == (ROWS,)
        print(Estimator.__name__, "fitted", clf.trained_rows_.all(),
              round(float(clf.label_issues_.mean()), 3))
"""


def test_a_memory_mapped_dataset_larger_than_the_address_space_left_fits(tmp_path):
    rows, features = 32768, 256  # 32 MiB of float32, under a 24 MiB margin
    script = textwrap.dedent(LIMITED_FIT.format(rows=rows, features=features))
    (tmp_path / "fit.py").write_text(script)
    result = subprocess.run(
        [sys.executable, "fit.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "reading the data whole fails under the limit"
    for name, line in zip(["ALRClassifier", "WrongEventClassifier"], lines[1:]):
        fitted_name, _, trained_all, flagged = line.split()
        assert fitted_name == name and trained_all == "True"
        assert float(flagged) < 0.1  # clean, learnable labels


@pytest.mark.parametrize("Estimator", [ALRClassifier, WrongEventClassifier])
@pytest.mark.parametrize("n_classes", [3, 200])
def test_per_sample_state_fits_the_budget(Estimator, n_classes):
    """(C + 2) x 4 bytes per row at most, measured at the end of the first
    epoch (Label Wave's online predictions still held) with the epoch's
    permutation (4 bytes per row); labels and online predictions in the
    smallest integer type (1 byte up to 127 classes)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2 * n_classes + 40, 4)).astype(np.float32)
    y = np.arange(len(X)) % n_classes

    class Measure(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) != 1:
                return
            seen = {X.ctypes.data}  # TabularViews' donors are the data
            tensors = [getattr(net, name) for name in net.sample_state_names_]
            for phase in ("stage1_", "warmup_"):
                tracker = getattr(getattr(net, phase, None), "tracker", None)
                if tracker is not None:
                    tensors += [tracker.previous, tracker.current]
            total = 4 * len(X)  # the epoch's int32 permutation
            for value in tensors:
                if isinstance(value, torch.Tensor) and len(value) == len(X):
                    pointer = value.untyped_storage().data_ptr()
                elif isinstance(value, np.ndarray) and len(value) == len(X):
                    pointer = value.ctypes.data
                else:
                    continue
                if pointer not in seen:
                    seen.add(pointer)
                    total += value.nbytes
            net.history.record("state_bytes_per_row", total / len(X))

    clf = Estimator(
        max_epochs=3, hidden_layer_sizes=(8,), random_state=0, callbacks=[Measure()]
    ).fit(X, y)
    assert clf.net_.history[0, "state_bytes_per_row"] <= (n_classes + 2) * 4
    expected = np.int8 if n_classes < 128 else np.int16
    assert clf.given_codes_.dtype == expected
