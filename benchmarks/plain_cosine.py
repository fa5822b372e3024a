"""Plain training under the cosine schedule ALR's refinement uses, on CIFAR-10N.

``ALRClassifier`` anneals its refinement's learning rate on a cosine from
``lr`` to 0 (``lr_schedule="cosine"``), and ``WrongEventClassifier`` its stage
2; the benchmark's plain training keeps skorch's constant rate. This script
measures how much of the methods' lead the schedule alone gives: plain
training with the same cosine over every epoch (a skorch ``LRScheduler``,
``CosineAnnealingLR`` stepped once per epoch), on the same subset, network and
budget as ``benchmarks/cifar10n.sh cpu``, without the oracle::

    python benchmarks/plain_cosine.py /tmp/cifar/cifar-10-batches-py \\
        ../shared/data/cifar10n/CIFAR-10_human.pt --labels aggre worse

Each finished label set is appended to ``--results`` (default
``benchmarks/results/cifar10n_cpu_plain_cosine.jsonl``), keyed as the
benchmark keys its rows; a rerun skips what is there.
"""

from __future__ import annotations

import argparse

from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR

from sknoisy.benchmark import format_table, run_benchmark, summarise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="the CIFAR-10 python batches")
    parser.add_argument("label_file", help="CIFAR-10N's CIFAR-10_human.pt")
    parser.add_argument("--labels", nargs="+", default=["aggre", "random1", "worse"])
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--results", default="benchmarks/results/cifar10n_cpu_plain_cosine.jsonl"
    )
    args = parser.parse_args()
    schedule = LRScheduler(policy=CosineAnnealingLR, T_max=args.epochs)
    results = run_benchmark(
        "cifar10n",
        noise=[f"human:{labels}" for labels in args.labels],
        methods=["plain"],
        max_epochs=args.epochs,
        train_size=args.train_size,
        data_dir=args.data_dir,
        label_file=args.label_file,
        method_params={"plain": {"callbacks": [schedule]}},
        results_path=args.results,
        oracle=False,
        progress=print,
    )
    print(format_table(summarise(results)))


if __name__ == "__main__":
    main()
