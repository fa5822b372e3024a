"""Memory and time per epoch of a fit as the data grow (issue #18.4).

For each number of rows, a fresh process makes synthetic data (``--features``
float32 features, ``--classes`` classes, 20% of the labels flipped), then fits
one method for a few epochs on the CPU and reports:

* the raw data's size (``X`` and ``y``);
* the per-sample training state the net holds (every per-row tensor of the
  method, Label Wave's online predictions included), in bytes per row, against
  the budget of ``(C + 2) x 4`` bytes;
* the fitted outputs (``noise_scores_``, ``soft_labels_``, ...), in bytes per
  row;
* the peak resident memory above the data, during training and over the whole
  fit (the outputs included), from the kernel's high-water mark (reset after
  the data are made);
* the seconds per epoch (the mean of epochs 2..), and its growth against the
  smallest size.

Usage::

    python benchmarks/memory.py --rows 100000 300000 1000000 --epochs 3

The peak is fitted as ``a + b n`` over the sizes: ``b`` is the bytes per row the
fit adds to the data, ``a`` the fixed overhead (the network, the optimizer, the
batch buffers, torch's allocator).

glibc's malloc raises its mmap threshold as large blocks are freed, and then
keeps freed batch buffers in its heap: resident, reusable by the process, but
not returned to the system (at 1M rows about 120 MB for ALR). The resident peak
counts them. ``--malloc-mmap-threshold 65536`` runs the fits with
``MALLOC_MMAP_THRESHOLD_`` fixed, as a user can set it, so that the peak is
what the fit holds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> None:
    """Reset the kernel's resident high-water mark (VmHWM) to the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


def _synthetic(n_rows, n_features, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    weights = rng.standard_normal((n_features, n_classes), dtype=np.float32)
    y = (X @ weights).argmax(axis=1)
    flip = rng.random(n_rows) < 0.2
    y[flip] = (y[flip] + rng.integers(1, n_classes, flip.sum())) % n_classes
    return X, y


def _per_row_bytes(net, n_rows: int, data_pointers) -> dict[str, int]:
    """The net's per-sample tensors (first dimension ``n_rows``), by name, in
    bytes; a tensor reached twice (Label Wave's labels are ``targets_``) counts
    once, and one that is the training data (``TabularViews``' donors are a
    view of ``X``) not at all."""
    import torch

    found, seen = {}, set(data_pointers)

    def visit(name, value, depth=0):
        if isinstance(value, torch.Tensor):
            if value.ndim and len(value) == n_rows:
                key = value.untyped_storage().data_ptr()
                if key not in seen:
                    seen.add(key)
                    found[name] = value.nbytes
        elif isinstance(value, np.ndarray):
            if value.ndim and len(value) == n_rows:
                found[name] = value.nbytes
        elif depth < 2 and hasattr(value, "__dict__"):
            for attr, inner in vars(value).items():
                visit(f"{name}.{attr}", inner, depth + 1)

    for name in net.sample_state_names_:
        visit(name, getattr(net, name))
    return found


def child(args) -> None:
    import torch
    from skorch.callbacks import Callback

    from sknoisy.methods import make_estimator

    class AtTrainEnd(Callback):
        """Record the per-sample state and the peak while it is still held."""

        def on_train_end(self, net, **kwargs):
            self.state = _per_row_bytes(net, args.rows, [X.ctypes.data])
            self.peak_kib = _status_kib("VmHWM")

    X, y = _synthetic(args.rows, args.features, args.classes)
    torch.set_num_threads(args.threads)
    # A warm-up fit, so that torch's one-off allocations are not counted.
    make_estimator(args.method, max_epochs=1, n_threads=None).fit(X[:2000], y[:2000])
    baseline_kib = _status_kib("VmRSS")
    _reset_peak()
    recorder = AtTrainEnd()
    clf = make_estimator(
        args.method,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        n_threads=None,
        random_state=0,
        callbacks=[recorder],
    )
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    peak_kib = _status_kib("VmHWM")
    (recorder_copy,) = [c for _, c in clf.net_.callbacks_ if isinstance(c, AtTrainEnd)]
    outputs = {
        name: value.nbytes
        for name, value in vars(clf).items()
        if name.endswith("_") and isinstance(value, np.ndarray) and len(value) == len(y)
    }
    durations = [row["dur"] for row in clf.net_.history]
    print(
        json.dumps(
            {
                "method": args.method,
                "rows": args.rows,
                "classes": args.classes,
                "raw_bytes": X.nbytes + y.nbytes,
                "state_bytes": recorder_copy.state,
                "output_bytes": outputs,
                "training_peak_bytes": (recorder_copy.peak_kib - baseline_kib) * 1024,
                "fit_peak_bytes": (peak_kib - baseline_kib) * 1024,
                "epoch_seconds": float(np.mean(durations[1:] or durations)),
                "fit_seconds": seconds,
            }
        )
    )


def _fit_line(sizes, values):
    slope, intercept = np.polyfit(np.asarray(sizes, float), np.asarray(values), 1)
    return slope, intercept


def report(results: list[dict]) -> str:
    lines = []
    budget = (results[0]["classes"] + 2) * 4
    header = (
        "| method | rows | raw data MB | state B/row (budget "
        f"{budget}) | outputs B/row | training peak MB | fit peak MB | s/epoch | "
        "growth |"
    )
    lines += [header, "| --- " * 9 + "|"]
    for method in dict.fromkeys(r["method"] for r in results):
        rows = [r for r in results if r["method"] == method]
        first = rows[0]
        for r in rows:
            n = r["rows"]
            growth = r["epoch_seconds"] / first["epoch_seconds"]
            lines.append(
                f"| {method} | {n:,} | {r['raw_bytes'] / 1e6:.1f} | "
                f"{sum(r['state_bytes'].values()) / n:.1f} | "
                f"{sum(r['output_bytes'].values()) / n:.1f} | "
                f"{r['training_peak_bytes'] / 1e6:.1f} | "
                f"{r['fit_peak_bytes'] / 1e6:.1f} | {r['epoch_seconds']:.2f} | "
                f"{growth:.2f}x for {n / first['rows']:.0f}x rows |"
            )
    lines.append("")
    for method in dict.fromkeys(r["method"] for r in results):
        rows = [r for r in results if r["method"] == method]
        sizes = [r["rows"] for r in rows]
        for what in ("training_peak_bytes", "fit_peak_bytes"):
            slope, intercept = _fit_line(sizes, [r[what] for r in rows])
            lines.append(
                f"{method}, {what.replace('_bytes', '').replace('_', ' ')} above "
                f"the data: {intercept / 1e6:.1f} MB + {slope:.1f} B/row"
            )
        state = rows[-1]["state_bytes"]
        per_row = ", ".join(f"{k} {v / rows[-1]['rows']:.0f}" for k, v in state.items())
        lines.append(f"{method}, state per row (bytes): {per_row}")
        outputs = rows[-1]["output_bytes"]
        per_row = ", ".join(
            f"{k} {v / rows[-1]['rows']:.0f}" for k, v in outputs.items()
        )
        lines.append(f"{method}, fitted outputs per row (bytes): {per_row}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--methods", nargs="+", default=["alr", "wrong-event"])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--malloc-mmap-threshold",
        type=int,
        help="run the fits with glibc's MALLOC_MMAP_THRESHOLD_ set to this",
    )
    parser.add_argument("--out", help="write the results here (.json) and a table")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.rows = args.rows[0]
        child(args)
        return
    results = []
    for method in args.methods:
        for n_rows in args.rows:
            command = [
                sys.executable,
                __file__,
                "--child",
                "--method",
                method,
                "--rows",
                str(n_rows),
                *("--features", str(args.features), "--classes", str(args.classes)),
                *("--epochs", str(args.epochs), "--batch-size", str(args.batch_size)),
                *("--threads", str(args.threads)),
            ]
            env = dict(os.environ)
            if args.malloc_mmap_threshold is not None:
                env["MALLOC_MMAP_THRESHOLD_"] = str(args.malloc_mmap_threshold)
            done = subprocess.run(
                command, capture_output=True, text=True, check=True, env=env
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{method} {n_rows:,} rows done", file=sys.stderr)
    table = report(results)
    print(table)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
        Path(args.out).with_suffix(".txt").write_text(table + "\n")


if __name__ == "__main__":
    main()
