"""The ``sknoisy`` command line: ``demo``, ``audit`` and ``benchmark``.

Errors in the user's input end in a one-line message and exit status 2, never a
traceback. Output files are written atomically (to a temporary file renamed into
place), so an error or Ctrl-C never leaves a half-written file, and the input is
never written to.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from ._html_report import N_SUSPECTS, render_audit_page
from ._runtime import check_device
from .benchmark import (
    compare,
    format_class_recalls,
    format_comparison,
    format_sizes,
    format_table,
    plot_scores,
    run_benchmark,
    stderr_progress,
    summarise,
    to_json,
    write_csv,
)
from .methods import METHODS, ROBUST_METHODS, make_estimator
from .modules import CifarResNet18
from .noise import NOISE_KINDS
from .progress import EpochProgressBar


def _estimator_name(method: str) -> str:
    return METHODS[method].estimator.__name__


def _demo(args) -> int:
    methods = ["plain", args.method]
    progress_bars = (
        None
        if args.quiet
        else {
            m: {"callbacks": [EpochProgressBar(description=_estimator_name(m))]}
            for m in methods
        }
    )
    results = run_benchmark(
        dataset="digits",
        noise=[f"{args.noise}:{args.rate}"],
        methods=methods,
        max_epochs=args.epochs,
        seeds=[args.seed],
        method_params=progress_bars,
        oracle=False,
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
    print(f"{_estimator_name(args.method)} flagged {flagged} training labels as wrong:")
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
        f"({_estimator_name(args.method)}) vs {plain.test_accuracy:.1%} (plain "
        f"training, same network and epochs)"
    )
    print(f"Fit time: {robust.fit_seconds:.1f} s vs {plain.fit_seconds:.1f} s.")
    return 0


BENCHMARK_MODULES = {"default": None, "cifar-resnet18": CifarResNet18}
"""``sknoisy benchmark --module``: the network every method trains."""


def _benchmark(args) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    module = BENCHMARK_MODULES[args.module]
    method_params = (
        {name: {"module": module} for name, m in METHODS.items() if m.estimator}
        if module is not None
        else None
    )
    results = run_benchmark(
        dataset=args.dataset,
        max_rows=args.max_rows,
        ceiling=args.ceiling,
        oracle=not args.no_oracle,
        method_params=method_params,
        target=args.target,
        noise=args.noise,
        methods=methods,
        max_epochs=args.epochs,
        seeds=args.seeds,
        test_size=args.test_size,
        device=args.device,
        progress=None if args.quiet else stderr_progress,
        keep_scores=args.plot is not None,
        train_size=args.train_size,
        data_dir=args.data_dir,
        label_file=args.label_file,
        results_path=args.results,
    )
    summary = summarise(results)
    print(format_table(summary))
    print()
    print(format_sizes(results))
    comparison = compare(results)
    if comparison:
        print()
        print(format_comparison(comparison))
    per_class = format_class_recalls(results)
    if per_class:
        print()
        print(per_class)
    if args.json:
        _write_atomically(args.json, to_json(results, summary))
    if args.csv:
        with _atomic_path(args.csv) as tmp:
            write_csv(summary, tmp)
    if args.plot:
        with _atomic_path(args.plot) as tmp:
            plot_scores(results, tmp)
    return 0


_STAGED: list | None = None
"""Inside :func:`_all_or_nothing`, the (temporary, final) paths written so far."""


@contextlib.contextmanager
def _atomic_path(path):
    """Yield a temporary path next to ``path``; rename it into place on success.

    Inside :func:`_all_or_nothing` the rename waits until every output is
    written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield tmp
        if _STAGED is None:
            os.replace(tmp, path)
        else:
            _STAGED.append((tmp, path))
            return
    except OSError as error:
        tmp.unlink(missing_ok=True)
        # Name the user's path, not the temporary file beside it.
        raise OSError(
            error.errno, f"{path} could not be written: {error.strerror}"
        ) from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _all_or_nothing():
    """Outputs written inside appear together at the end, or not at all."""
    global _STAGED
    _STAGED = staged = []
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    else:
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        _STAGED = None


def _write_atomically(path, text: str) -> None:
    with _atomic_path(path) as tmp:
        tmp.write_text(text)


def _write_table(frame, path, keep_index: bool = False) -> None:
    with _atomic_path(path) as tmp:
        if Path(path).suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=keep_index)
        else:
            frame = frame.rename(columns=_blank_header_names(frame.columns))
            frame.to_csv(
                tmp, index=keep_index, sep="\t" if str(path).endswith(".tsv") else ","
            )


def _blank_header_names(columns) -> dict:
    """The columns pandas named for a blank header cell (``"Unnamed: 3"`` at
    position 3, e.g. the index column of a CSV pandas wrote), mapped back to
    blank, so that a cleaned CSV keeps the input's header."""
    return {
        name: ""
        for position, name in enumerate(columns)
        if isinstance(name, str) and name == f"Unnamed: {position}"
    }


def _meaningful_index(frame) -> bool:
    """Whether a table's index carries data (a name, or labels of its own).

    An unnamed index with labels of its own is kept in Parquet (which stores it
    as an index) but not in CSV, where it would come back as an unnamed
    column.
    """
    import pandas as pd

    index = frame.index
    if any(name is not None for name in index.names):
        return True
    return not (
        isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    )


def _audit(args) -> int:
    from .audit import find_label_issues
    from .datasets import image_folder, read_table, require_parquet, table_features

    source = Path(args.path)
    if not source.exists():
        raise ValueError(f"{source}: no such file or directory.")
    out = (
        Path(args.out)
        if args.out
        else source.parent / f"{source.stem}_label_issues.csv"
    )
    plot = Path(args.plot) if args.plot else out.with_name(f"{out.stem}_scores.png")
    outputs = {"--out": out, "--plot": plot}
    if args.clean_out:
        outputs["--clean-out"] = Path(args.clean_out)
    if args.html:
        outputs["--html"] = Path(args.html)
    _check_outputs(source, outputs)
    if any(
        p.suffix.lower() in (".parquet", ".pq") for p in [source, *outputs.values()]
    ):
        require_parquet()

    if source.is_dir():
        data = image_folder(
            source, args.image_size, args.grayscale, skip_corrupt=args.skip_corrupt
        )
        y = np.asarray([data.classes[t] for t in data.targets])
        X, where = data, np.asarray([str(p) for p, _ in data.samples])
        description = f"image folder {source}" + (
            f" ({_counted(len(data.skipped), 'unreadable image')} skipped)"
            if data.skipped
            else ""
        )
        frame = None
    else:
        if not args.target:
            raise ValueError("a table needs --target COLUMN, the column of labels.")
        frame = read_table(source)
        X, y, rows = table_features(frame, args.target)
        where = rows
        skipped = len(frame) - len(rows)
        description = f"{source}, column {args.target!r}" + (
            f" ({_counted(skipped, 'unlabelled row')} skipped)" if skipped else ""
        )
    classes = np.unique(y.astype(str))
    if len(classes) < 2:
        raise ValueError(
            f"the labels have a single class ({classes.tolist()}); auditing needs at "
            "least 2."
        )
    if len(y) < 2 * len(classes):
        raise ValueError(f"only {len(y)} labelled rows for {len(classes)} classes.")

    clf = make_estimator(
        args.method,
        max_epochs=args.epochs,
        random_state=args.seed,
        device=args.device,
        n_threads="auto" if args.threads is None else args.threads,
        callbacks=None if args.no_progress else [EpochProgressBar()],
        checkpoint_dir=args.checkpoint_dir,
    )
    if frame is not None:  # once the input is known to be usable
        _print_feature_columns(frame, args.target, X.shape[1])
    print(
        f"sknoisy audit: {description}: {len(y)} rows, {len(classes)} classes; "
        f"training {_estimator_name(args.method)} for {args.epochs} epochs ...",
        file=sys.stderr,
    )
    clf.fit(X, y)
    report = find_label_issues(clf, y)
    table = report.table
    table.insert(1, "path" if frame is None else "source_row", where[table["row"]])
    table = table.drop(columns=["row"])
    written = table if args.all else table[table["label_issue"]]
    with _all_or_nothing():
        _write_table(written, out)
        plotted = _plot_scores(clf.noise_scores_, clf.label_issues_, plot, args.method)
        if args.clean_out:
            _write_cleaned(args, frame, table, report, where)
        if args.html:
            facts = [
                f"{description}: {len(y)} rows, {len(classes)} classes.",
                f"{_estimator_name(args.method)} trained for {args.epochs} epochs "
                f"(seed {args.seed}); sknoisy {__version__}.",
                f"{report}.",
            ]
            _write_html(args.html, table, frame, args.target, source, facts)
    _print_audit_summary(report, table, out, args)
    if plotted:
        print(f"  score histogram: {plot}")
    if args.clean_out:
        print(f"  cleaned data: {args.clean_out}")
    if args.html:
        print(f"  page to look at: {args.html}")
    return 0


def _print_feature_columns(frame, target: str, n_encoded: int) -> None:
    """Say which columns became features, and which were left out and why."""
    from .datasets import _is_numeric, feature_columns

    kept, left_out = feature_columns(frame, target)
    names = ", ".join(map(str, kept[:20])) + (
        f", ... ({len(kept) - 20} more)" if len(kept) > 20 else ""
    )
    columns = "column" if len(kept) == 1 else "columns"
    numeric = [_is_numeric(frame[c]) for c in kept]
    how = []
    if any(numeric):
        how.append("numbers twice, as quantiles and arcsinh-scaled")
    if not all(numeric):
        how.append("categories one-hot")
    print(
        f"sknoisy audit: features: {names} ({len(kept)} {columns}; {n_encoded} "
        f"inputs to the network: {', '.join(how)})",
        file=sys.stderr,
    )
    for column, reason in left_out.items():
        print(f"sknoisy audit: left out {str(column)!r}: {reason}", file=sys.stderr)


TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
"""The formats a table output is written in, by suffix."""

OUTPUT_SUFFIXES = {"--plot": (".png",), "--html": (".html", ".htm")}
"""The suffixes of the audit's outputs that are not tables, by option."""


def _check_outputs(source: Path, outputs: dict) -> None:
    """Refuse, before training, outputs that would clash or cannot be written.

    Every output must differ from the input and from the others, sit in an
    existing writable folder, and have a suffix its format can be written in.
    """
    seen = {}
    for option, path in outputs.items():
        expected = OUTPUT_SUFFIXES.get(option, TABLE_SUFFIXES)
        if path.suffix.lower() not in expected:
            raise ValueError(
                f"{option} {path}: the suffix must be one of {', '.join(expected)}."
            )
        resolved = path.resolve()
        if resolved == source.resolve():
            raise ValueError(f"{option} {path} would overwrite the input {source}.")
        if resolved in seen:
            raise ValueError(
                f"{option} and {seen[resolved]} are the same file, {path}; give "
                "each output its own path."
            )
        seen[resolved] = option
        folder = resolved.parent
        if not folder.is_dir():
            raise ValueError(f"{option} {path}: the folder {folder} does not exist.")
        if resolved.is_dir():
            raise ValueError(f"{option} {path} is a folder, not a file.")
        problem = _unwritable(folder)
        if problem is None and resolved.exists() and not os.access(resolved, os.W_OK):
            problem = "the file is read-only"
        if problem is not None:
            raise ValueError(f"{option} {path}: cannot be written ({problem}).")


def _unwritable(folder: Path) -> str | None:
    """Why no file can be created in ``folder``, or None if one can.

    Tried, not read from permission bits: root passes every ``os.access``
    check, and folders such as ``/proc`` refuse new files whatever they say.
    """
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".sknoisy-probe-"):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def _print_audit_summary(report, table, out, args) -> None:
    print(f"{report}.")
    top = table[table["label_issue"]].head(args.show)
    if len(top):
        print(f"Most suspicious {len(top)}:")
        print(top.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    kind = "all rows, ranked" if args.all else "the flagged rows, ranked"
    print(f"Wrote:\n  label issues ({kind}): {out}")


def _plot_scores(scores, issues, path, method) -> bool:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("  (no plot: matplotlib is not installed)")
        return False
    # A Figure of its own, not pyplot: no global backend is switched.
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    bins = np.linspace(0, 1, 41)
    ax.hist(scores[~issues], bins=bins, alpha=0.7, label="kept")
    ax.hist(scores[issues], bins=bins, alpha=0.7, label="flagged")
    ax.set_xlabel("noise score (higher: label more likely wrong)")
    ax.set_ylabel("rows")
    ax.set_yscale("log")
    ax.set_title(f"sknoisy audit ({method})")
    ax.legend()
    fig.tight_layout()
    with _atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return True


def _write_cleaned(args, frame, table, report, where) -> None:
    import pandas as pd

    flagged = table[table["label_issue"]]
    if frame is None:  # image folder: a manifest of the kept or relabelled images
        rows = table if args.fix else table[~table["label_issue"]]
        label = rows["refined_label"] if args.fix else rows["given_label"]
        manifest = pd.DataFrame({"path": rows["path"], "label": label})
        _write_table(manifest.sort_values("path"), args.clean_out)
        return
    # Rows are addressed by position: an index may repeat labels.
    positions = flagged["source_row"].to_numpy()
    if args.fix:
        cleaned = frame.copy()
        column = cleaned.columns.get_loc(args.target)
        cleaned.iloc[positions, column] = flagged["refined_label"].to_numpy()
    else:
        keep = np.ones(len(frame), dtype=bool)
        keep[positions] = False
        cleaned = frame.iloc[keep]
    named = any(name is not None for name in frame.index.names)
    parquet = Path(args.clean_out).suffix.lower() in (".parquet", ".pq")
    keep_index = named or (parquet and _meaningful_index(frame))
    _write_table(cleaned, args.clean_out, keep_index=keep_index)


def _write_html(path, table, frame, target, source, facts) -> None:
    page = render_audit_page(
        table,
        title=f"sknoisy audit of {source.name or source}",
        facts=facts,
        frame=frame,
        target=target,
        image_root=source if frame is None else None,
    )
    with _atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


def _int_within(low: int, high: int | None, requirement: str):
    """An argparse type: an int from ``low`` to ``high`` (None: no upper bound);
    argparse names the option in its error, this says the ``requirement``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
        return value

    return parse


_count = _int_within(0, None, "0 or more")
_positive_int = _int_within(1, None, "a positive integer")
_seed = _int_within(0, 2**32 - 1, "an integer from 0 to 4294967295")
"""A seed numpy accepts."""


def _device(text: str) -> str:
    """An argparse type: a torch device this machine has."""
    try:
        check_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like the commands' own."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class _HelpFormatter(argparse.HelpFormatter):
    """Help that states every option's default (where it has a value)."""

    def _get_help_string(self, action):
        help_text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and not any(default is v for v in (None, False, argparse.SUPPRESS))
            and "%(default)" not in help_text
            and "default:" not in help_text
        ):
            shown = (
                " ".join(map(str, default))
                if isinstance(default, list)
                else "%(default)s"
            )
            help_text += f" (default: {shown})"
        return help_text


def _command(commands, name: str, **kwargs) -> argparse.ArgumentParser:
    return commands.add_parser(name, formatter_class=_HelpFormatter, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sknoisy",
        description="Learn from noisily labelled data with neural networks.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sknoisy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = _command(
        commands,
        "demo",
        help="find injected label errors in scikit-learn's digits",
        description=(
            "Flip a share of the training labels of scikit-learn's digits, train a "
            "noise-robust classifier and plain training side by side, and report "
            "the errors found and the test accuracy of both."
        ),
    )
    demo.add_argument(
        "--method",
        choices=sorted(ROBUST_METHODS),
        default="wrong-event",
        help="the noise-robust method",
    )
    demo.add_argument(
        "--noise", choices=NOISE_KINDS, default="symmetric", help="kind of noise"
    )
    demo.add_argument(
        "--rate", type=float, default=0.4, help="fraction of labels flipped"
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=60, help="training epochs"
    )
    demo.add_argument(
        "--seed", type=_seed, default=0, help="seed of the split, noise and training"
    )
    demo.add_argument(
        "--quiet", action="store_true", help="no progress display while training"
    )
    demo.set_defaults(run=_demo)

    audit = _command(
        commands,
        "audit",
        help="find label errors in a CSV/Parquet table or an image folder",
        description=(
            "Train a noise-robust classifier on a labelled table (--target names the "
            "label column) or an image folder (one subfolder per class), and write "
            "the rows whose labels look wrong, ranked, with a refined label. The "
            "input is never modified."
        ),
    )
    audit.add_argument("path", help="a .csv/.tsv/.parquet file or an image folder")
    audit.add_argument(
        "--target", help="label column of a table (required for a table)"
    )
    audit.add_argument(
        "--method",
        choices=sorted(ROBUST_METHODS),
        default="wrong-event",
        help="the noise-robust method",
    )
    audit.add_argument(
        "--out",
        help="ranked table of issues, .csv/.tsv/.parquet (default: "
        "PATH_label_issues.csv next to the input)",
    )
    audit.add_argument(
        "--plot",
        help="score histogram, .png (default: OUT_scores.png next to --out)",
    )
    audit.add_argument(
        "--clean-out",
        help="write the cleaned data set here (default: not written)",
    )
    audit.add_argument(
        "--html",
        help="write one self-contained HTML page to look at here (.html): the "
        f"flagged rows, up to {N_SUSPECTS}, most suspicious first (images as "
        "thumbnails), the score "
        "histogram and the flags per class (default: not written)",
    )
    audit.add_argument(
        "--fix",
        action="store_true",
        help="with --clean-out: give flagged rows their refined label instead of "
        "dropping them (a flagged row whose model is unsure keeps its given "
        "label: see the refined_label column)",
    )
    audit.add_argument(
        "--all",
        action="store_true",
        help="write every row to --out, not only the flagged ones",
    )
    audit.add_argument("--show", type=_count, default=10, help="flagged rows to print")
    audit.add_argument(
        "--epochs", type=_positive_int, default=60, help="training epochs"
    )
    audit.add_argument("--seed", type=_seed, default=0, help="seed of the training")
    audit.add_argument(
        "--device",
        type=_device,
        default="cpu",
        help="torch device, e.g. cpu, cuda, cuda:1",
    )
    audit.add_argument(
        "--threads",
        type=_positive_int,
        help="torch CPU threads (default: one, so that the report does not depend "
        "on where it runs; more is faster on many cores)",
    )
    audit.add_argument(
        "--image-size",
        type=_positive_int,
        default=32,
        help="image folders: side in pixels the images are resized to",
    )
    audit.add_argument(
        "--grayscale",
        action="store_true",
        help="image folders: read the images as one grey channel (default: RGB)",
    )
    audit.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="image folders: leave out images that cannot be read (default: stop "
        "before training, naming them)",
    )
    audit.add_argument(
        "--checkpoint-dir",
        help="save the training state here after every epoch; the same command "
        "run again resumes an interrupted audit from its last epoch (the file is "
        "removed when the audit's training ends; default: none saved)",
    )
    audit.add_argument(
        "--no-progress",
        "--quiet",
        dest="no_progress",
        action="store_true",
        help="no progress display while training",
    )
    audit.set_defaults(run=_audit)

    bench = _command(
        commands,
        "benchmark",
        help="compare methods side by side on data with injected or human noise",
        description=(
            "Train every method on the same noisy training labels and report test "
            "accuracy on clean labels, detection AUROC/AUPRC, the flags' precision "
            "and recall, refined-label accuracy and fit time, side by side."
        ),
    )
    bench.add_argument(
        "--dataset",
        nargs="+",
        default=["digits"],
        help="one or more (a suite): digits, breast_cancer, wine, iris, a "
        "CSV/Parquet path (PATH:TARGET, or with --target), or cifar10n (with "
        "--data-dir)",
    )
    bench.add_argument(
        "--max-rows",
        type=_positive_int,
        help="subsample a larger data set to this many rows, stratified and "
        "seeded, every row of a class under 1,000 rows kept (default: every row)",
    )
    bench.add_argument(
        "--ceiling",
        action="store_true",
        help="also train plain training on the true labels, once per data set and "
        "seed: the test accuracy clean labels would give",
    )
    bench.add_argument(
        "--no-oracle",
        action="store_true",
        help="skip plain training's best epoch (the oracle): one more plain fit, "
        "evaluated on the test set after every epoch",
    )
    bench.add_argument(
        "--data-dir",
        help="cifar10n: the folder of the CIFAR-10 python batches (required for "
        "cifar10n)",
    )
    bench.add_argument(
        "--label-file",
        help="cifar10n: CIFAR-10N's CIFAR-10_human.pt (default: in --data-dir)",
    )
    bench.add_argument(
        "--train-size",
        type=_positive_int,
        help="train on a stratified, seeded subset of this many rows (default: "
        "every training row)",
    )
    bench.add_argument(
        "--results",
        help="JSON-lines file of finished results: a rerun resumes from it "
        "(default: none kept)",
    )
    bench.add_argument(
        "--target",
        help="target column of a CSV/Parquet data set (required for a table)",
    )
    bench.add_argument(
        "--noise",
        nargs="+",
        default=["symmetric:0.4"],
        help=f"noise settings KIND:RATE (kinds {', '.join(NOISE_KINDS)}), or "
        "human:NAME for a label set of the data (cifar10n: aggre, random1, "
        "random2, random3, worse)",
    )
    bench.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated, from {','.join(METHODS)}",
    )
    bench.add_argument(
        "--epochs",
        type=_positive_int,
        default=60,
        help="training epochs of every method (cleanlab: of each of its fits)",
    )
    bench.add_argument(
        "--seeds",
        type=_seed,
        nargs="+",
        default=[0],
        help="one run per seed (split, subset, noise and training)",
    )
    bench.add_argument(
        "--test-size",
        type=float,
        default=0.3,
        help="fraction held out with clean labels for test accuracy (ignored "
        "where the data have a test set)",
    )
    bench.add_argument(
        "--device",
        type=_device,
        default="cpu",
        help="torch device, e.g. cpu, cuda, cuda:1",
    )
    bench.add_argument(
        "--module",
        choices=sorted(BENCHMARK_MODULES),
        default="default",
        help="the network of every method: default (an MLP for tables, SmallCNN "
        "for images) or cifar-resnet18 (for a GPU)",
    )
    bench.add_argument(
        "--json", help="write results as JSON to this path (default: not written)"
    )
    bench.add_argument(
        "--csv", help="write the summary as CSV to this path (default: not written)"
    )
    bench.add_argument(
        "--plot",
        help="write score histograms and ROC curves here, .png (default: not written)",
    )
    bench.add_argument("--quiet", action="store_true", help="no progress lines")
    bench.set_defaults(run=_benchmark)
    return parser


CLI_OPTIONS = {
    "max_epochs": "--epochs",
    "random_state": "--seed",
    "n_threads": "--threads",
    "checkpoint_dir": "--checkpoint-dir",
}
"""The estimator parameters the commands set, by the option that sets them."""

CLI_WORDING = {
    None: [(r"\bdevice\s*=\s*'([^']*)'", r"--device \1")],
    "demo": [(r"(?<![\w-])rate must be", "--rate must be")],
}
"""More of the library's wording in the commands' terms: for every command
(``None``) and for one."""


def _in_cli_terms(text: str, command: str | None = None) -> str:
    """A library message with the parameters the CLI sets named by their options
    (``max_epochs=10`` reads ``--epochs 10``)."""
    for parameter, option in CLI_OPTIONS.items():
        text = re.sub(rf"\b{parameter}\s*=\s*", f"{option} ", text)
        text = re.sub(rf"\b{parameter}\b", option, text)
    for pattern, replacement in CLI_WORDING[None] + CLI_WORDING.get(command, []):
        text = re.sub(pattern, replacement, text)
    return text


@contextlib.contextmanager
def _one_line_warnings(command: str):
    """Show warnings as one line each, ``sknoisy CMD: warning: ...``, without
    Python's file, line number and source line."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = _in_cli_terms(" ".join(str(message).split()), command)
        print(f"sknoisy {command}: warning: {text}", file=file or sys.stderr)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _counted(count: int, noun: str) -> str:
    """``"1 unlabelled row"``, ``"3 unlabelled rows"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _one_line_warnings(args.command):
            return args.run(args)
    except (ValueError, OSError, ImportError) as error:
        lines = str(error).strip().splitlines()
        message = _in_cli_terms(lines[0], args.command) if lines else repr(error)
        print(f"sknoisy {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = getattr(args, "checkpoint_dir", None)
        resume = (
            f"; the training state is kept in {kept}: the same command resumes it"
            if kept
            else ""
        )
        print(f"sknoisy {args.command}: interrupted{resume}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
