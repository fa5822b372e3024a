"""The ``sknoisy`` command line: ``demo`` and ``benchmark``.

Errors in the user's input end in a one-line message and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .benchmark import (
    METHODS,
    format_table,
    plot_scores,
    run_benchmark,
    stderr_progress,
    summarise,
    to_json,
    write_csv,
)

DEMO_METHODS = {"wrong-event": "WrongEventClassifier", "alr": "ALRClassifier"}


def _demo(args) -> int:
    results = run_benchmark(
        dataset="digits",
        noise=[f"{args.noise}:{args.rate}"],
        methods=["plain", args.method],
        max_epochs=args.epochs,
        seeds=[args.seed],
        progress=stderr_progress if args.verbose else None,
    )
    by_method = {r.method: r for r in results}
    plain, robust = by_method["plain"], by_method[args.method]
    flipped, flagged = robust.extra["flipped"], robust.extra["flagged"]
    found = robust.extra["found"]
    print(
        f"sknoisy demo: scikit-learn's digits (1797 8x8 images, 10 classes), 70/30 "
        f"split,\n{args.rate:.0%} {args.noise} label noise injected into the "
        f"training labels, {args.epochs} epochs, seed {args.seed}.\n"
    )
    print(f"{DEMO_METHODS[args.method]} flagged {flagged} training labels as wrong:")
    print(
        f"  {found} of the {flipped} injected errors found "
        f"(recall {robust.recall:.1%}, precision {robust.precision:.1%}, "
        f"AUROC {robust.auroc:.3f})"
    )
    print(
        f"  refined labels are right for {robust.refined_accuracy:.1%} of the "
        f"training rows (the noisy labels: {1 - args.rate:.0%})\n"
    )
    print(
        f"Test accuracy on clean labels: {robust.test_accuracy:.1%} "
        f"({DEMO_METHODS[args.method]}) vs {plain.test_accuracy:.1%} (plain training, "
        f"same network and epochs)"
    )
    print(f"Fit time: {robust.fit_seconds:.1f} s vs {plain.fit_seconds:.1f} s.")
    return 0


def _benchmark(args) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    results = run_benchmark(
        dataset=args.dataset,
        target=args.target,
        noise=args.noise,
        methods=methods,
        max_epochs=args.epochs,
        seeds=args.seeds,
        test_size=args.test_size,
        device=args.device,
        progress=None if args.quiet else stderr_progress,
        keep_scores=args.plot is not None,
    )
    summary = summarise(results)
    print(format_table(summary))
    if args.json:
        _write_atomically(args.json, to_json(results, summary))
    if args.csv:
        write_csv(summary, args.csv)
    if args.plot:
        plot_scores(results, args.plot)
    return 0


def _write_atomically(path, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    tmp.replace(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sknoisy",
        description="Learn from noisily labelled data with neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"sknoisy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="find injected label errors in scikit-learn's digits"
    )
    demo.add_argument("--method", choices=sorted(DEMO_METHODS), default="wrong-event")
    demo.add_argument(
        "--noise", choices=["symmetric", "pair", "instance"], default="symmetric"
    )
    demo.add_argument(
        "--rate", type=float, default=0.4, help="fraction of labels flipped"
    )
    demo.add_argument("--epochs", type=int, default=60)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--verbose", action="store_true", help="show progress")
    demo.set_defaults(run=_demo)

    bench = commands.add_parser(
        "benchmark", help="compare methods side by side on data with injected noise"
    )
    bench.add_argument(
        "--dataset",
        default="digits",
        help="digits, breast_cancer, wine, iris, or a CSV path",
    )
    bench.add_argument("--target", help="target column of a CSV data set")
    bench.add_argument(
        "--noise",
        nargs="+",
        default=["symmetric:0.4"],
        help="noise settings KIND:RATE, kinds symmetric, pair, instance",
    )
    bench.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated, from {','.join(METHODS)}",
    )
    bench.add_argument("--epochs", type=int, default=60)
    bench.add_argument("--seeds", type=int, nargs="+", default=[0])
    bench.add_argument("--test-size", type=float, default=0.3)
    bench.add_argument("--device", default="cpu")
    bench.add_argument("--json", help="write results as JSON to this path")
    bench.add_argument("--csv", help="write the summary as CSV to this path")
    bench.add_argument("--plot", help="write score histograms and ROC curves (PNG)")
    bench.add_argument("--quiet", action="store_true", help="no progress lines")
    bench.set_defaults(run=_benchmark)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, ImportError) as error:
        print(f"sknoisy {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sknoisy {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
