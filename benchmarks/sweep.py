"""Sweep a method's open choices to choose its defaults.

Runs a method (``--method``, ALR by default; methods.md §2.1 leaves its choices
open) on a data set (digits by default) with several noise settings and seeds
(60 epochs) and prints the mean test accuracy, detection AUROC and refined-label
accuracy per setting.
``--vary`` names the values to try; by default each parameter is varied alone
around ``--base``, with ``--product`` over the full grid.

    python benchmarks/sweep.py                                 # one at a time
    python benchmarks/sweep.py --product \\
        --vary entropy_weight=0.5,1,2,4 momentum=0.5,0.7,0.9
    python benchmarks/sweep.py --method wrong-event --vary stage1_epochs=0.2,0.3,0.5
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from sknoisy.benchmark import run_benchmark
from sknoisy.methods import ROBUST_METHODS

DEFAULT_VARY = {
    "alr": [
        "entropy_weight=0,0.05,0.1,0.3,1",
        "momentum=0.5,0.7,0.9,0.95,0.99",
        "entropy_gating=confidence,uniform",
        "warmup_epochs=auto,0,5,10,20",
    ],
    "wrong-event": ["stage1_epochs=0.2,0.3,0.4,0.5", "mixture=class,global"],
}


def parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_assignments(items):
    out = {}
    for item in items:
        name, _, values = item.partition("=")
        out[name] = [parse_value(v) for v in values.split(",")]
    return out


def configurations(base: dict, vary: dict, product: bool):
    if product:
        names = list(vary)
        for values in itertools.product(*vary.values()):
            yield {**base, **dict(zip(names, values))}
    else:
        for name, values in vary.items():
            for value in values:
                yield {**base, name: value}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="alr", choices=ROBUST_METHODS)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument(
        "--noise", nargs="+", default=["symmetric:0.2", "symmetric:0.4", "pair:0.3"]
    )
    parser.add_argument("--base", nargs="*", default=[], help="NAME=VALUE held fixed")
    parser.add_argument("--vary", nargs="*", help="NAME=V1,V2 (default: per method)")
    parser.add_argument("--product", action="store_true", help="full grid")
    args = parser.parse_args(argv)
    base = {k: v[0] for k, v in parse_assignments(args.base).items()}
    vary = parse_assignments(args.vary or DEFAULT_VARY[args.method])
    print(
        f"{args.method} sweep: {args.dataset}, {args.noise}, seeds {args.seeds}, "
        f"{args.epochs} epochs"
    )
    print(f"{'configuration':60s} {'test acc':>9s} {'AUROC':>7s} {'refined':>8s}")
    for config in configurations(base, vary, args.product):
        rows = run_benchmark(
            dataset=args.dataset,
            noise=args.noise,
            methods=[args.method],
            max_epochs=args.epochs,
            seeds=args.seeds,
            method_params={args.method: config},
        )
        acc = np.mean([r.test_accuracy for r in rows])
        auroc = np.mean([r.auroc for r in rows])
        refined = np.mean([r.refined_accuracy for r in rows])
        label = " ".join(f"{k}={v}" for k, v in config.items())
        print(f"{label:60s} {acc:9.3f} {auroc:7.3f} {refined:8.3f}", flush=True)


if __name__ == "__main__":
    main()
