"""Side-by-side benchmark of label-noise methods on data with injected noise.

Every method in one run sees the same split, the same noisy labels, the same
network and the same number of epochs. Methods:

``plain``
    :class:`~sknoisy.CrossEntropyClassifier`; scores ``1 - p(given label)``.
``wrong-event``
    :class:`~sknoisy.WrongEventClassifier` (IDO).
``alr``
    :class:`~sknoisy.ALRClassifier` (ALR).
``cleanlab``
    cleanlab's ``CleanLearning`` with 5-fold cross-validation around the plain
    classifier (optional dependency ``cleanlab``); scores ``1 - label quality``.

The plain classifier is also trained once more, untimed, with a callback that
evaluates it after every epoch on the clean test labels: its best epoch is an
oracle no user has, and the bar a robust method should reach without stopping
early.

Run it as ``sknoisy benchmark`` (see ``sknoisy benchmark --help``) or call
:func:`run_benchmark`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from ._plain import CrossEntropyClassifier
from .datasets import load_dataset
from .methods import METHODS, make_estimator
from .metrics import detection_auroc, detection_report, refined_label_accuracy
from .noise import flip_labels

RESULT_COLUMNS = (
    "test_accuracy",
    "auroc",
    "auprc",
    "precision",
    "recall",
    "refined_accuracy",
    "fit_seconds",
    "time_vs_plain",
)


def cleanlab_available() -> bool:
    """Whether the optional dependency cleanlab is installed."""
    return importlib.util.find_spec("cleanlab") is not None


@dataclass
class NoiseSetting:
    """A kind of label noise and its rate, parsed from ``"kind:rate"``."""

    kind: str
    rate: float

    @classmethod
    def parse(cls, text: str) -> NoiseSetting:
        kind, _, rate = text.partition(":")
        try:
            return cls(kind, float(rate or 0.4))
        except ValueError:
            raise ValueError(
                f"Noise setting {text!r} is not KIND:RATE, e.g. pair:0.3."
            ) from None

    def __str__(self) -> str:
        return f"{self.kind}:{self.rate:g}"


@dataclass
class MethodResult:
    """One method's figures on one noise setting and seed."""

    method: str
    noise: str
    seed: int
    test_accuracy: float
    auroc: float
    auprc: float
    precision: float
    recall: float
    refined_accuracy: float
    fit_seconds: float
    time_vs_plain: float = float("nan")
    extra: dict = field(default_factory=dict)


class _EpochOracle(Callback):
    """Record, after every epoch, test accuracy and training-label AUROC."""

    def __init__(self, X_train, y_train, flipped, X_test, y_test):
        self.X_train = X_train
        self.y_train = y_train
        self.flipped = flipped
        self.X_test = X_test
        self.y_test = y_test

    def on_epoch_end(self, net, **kwargs):
        test_accuracy = float(np.mean(net.predict(self.X_test) == self.y_test))
        proba = net.predict_proba(self.X_train)
        scores = 1 - proba[np.arange(len(self.y_train)), self.y_train]
        net.history.record("oracle_test_accuracy", test_accuracy)
        net.history.record("oracle_auroc", detection_auroc(self.flipped, scores))


def _sknoisy_result(name, estimator, X_train, y_noisy, X_test, y_test, y_train):
    start = time.perf_counter()
    estimator.fit(X_train, y_noisy)
    seconds = time.perf_counter() - start
    return _result(
        name,
        estimator.noise_scores_,
        estimator.label_issues_,
        estimator.refined_labels_,
        float(np.mean(estimator.predict(X_test) == y_test)),
        seconds,
        y_train,
    )


def _cleanlab_result(plain, X_train, y_noisy, X_test, y_test, y_train, seed):
    from cleanlab.classification import CleanLearning

    learner = CleanLearning(clf=plain, cv_n_folds=5, seed=seed, verbose=False)
    start = time.perf_counter()
    learner.fit(X_train, y_noisy)
    seconds = time.perf_counter() - start
    issues = learner.get_label_issues()
    flagged = issues["is_label_issue"].to_numpy()
    refined = np.where(flagged, issues["predicted_label"], issues["given_label"])
    return _result(
        "cleanlab",
        1 - issues["label_quality"].to_numpy(),
        flagged,
        refined,
        float(np.mean(learner.predict(X_test) == y_test)),
        seconds,
        y_train,
    )


def _result(name, scores, flagged, refined, test_accuracy, seconds, y_train):
    return {
        "method": name,
        "scores": np.asarray(scores, dtype=float),
        "flagged": np.asarray(flagged, dtype=bool),
        "refined_accuracy": refined_label_accuracy(y_train, refined),
        "test_accuracy": test_accuracy,
        "fit_seconds": seconds,
    }


def run_benchmark(
    dataset: str = "digits",
    noise: Sequence[str | NoiseSetting] = ("symmetric:0.4",),
    methods: Sequence[str] = tuple(METHODS),
    max_epochs: int = 60,
    seeds: Sequence[int] = (0,),
    test_size: float = 0.3,
    target: str | None = None,
    device: str = "cpu",
    method_params: dict[str, dict] | None = None,
    progress: Callable[[str], None] | None = None,
    keep_scores: bool = False,
) -> list[MethodResult]:
    """Run every method on every noise setting and seed.

    Parameters
    ----------
    dataset : str, default="digits"
        An embedded data set name or a CSV path (see
        :func:`sknoisy.datasets.load_dataset`).
    noise : sequence of str or NoiseSetting, default=("symmetric:0.4",)
        Noise settings as ``"kind:rate"``, kinds from
        :data:`sknoisy.noise.NOISE_KINDS`.
    methods : sequence of str, default=all of :data:`sknoisy.methods.METHODS`
        Methods to run; ``"cleanlab"`` is skipped, with a message, when cleanlab
        is not installed.
    max_epochs : int, default=60
        Training epochs of every method (cleanlab: of each of its fits).
    seeds : sequence of int, default=(0,)
        One run per seed: split, noise and training all follow it.
    test_size : float, default=0.3
        Fraction of the data held out, with clean labels, for test accuracy.
    target : str, default=None
        Target column of a CSV data set.
    device : str, default="cpu"
        Training device.
    method_params : dict, default=None
        Extra estimator parameters per method, e.g. ``{"alr": {"momentum": 0.8}}``.
    progress : callable, default=None
        Called with a line of text as each fit starts and ends.
    keep_scores : bool, default=False
        Keep each method's scores and the flip mask in ``extra`` (for plots).

    Returns
    -------
    list of MethodResult
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; choose from {list(METHODS)}.")
    settings = [
        s if isinstance(s, NoiseSetting) else NoiseSetting.parse(s) for s in noise
    ]
    say = progress or (lambda line: None)
    if "cleanlab" in methods and not cleanlab_available():
        say("cleanlab is not installed (pip install 'sknoisy[cleanlab]'): skipping it.")
        methods = [m for m in methods if m != "cleanlab"]
    method_params = method_params or {}
    X, y = load_dataset(dataset, target)
    _warm_up(X, y, device)
    results = []
    for setting in settings:
        for seed in seeds:
            results += _run_one(
                X,
                y,
                setting,
                seed,
                methods,
                max_epochs,
                test_size,
                device,
                method_params,
                say,
                keep_scores,
            )
    return results


def _warm_up(X, y, device) -> None:
    """One untimed epoch, so that torch's first-call costs hit no method's time."""
    n_rows = min(len(X), 256)
    CrossEntropyClassifier(max_epochs=1, device=device, random_state=0).fit(
        StandardScaler().fit_transform(X[:n_rows]), y[:n_rows]
    )


def _run_one(
    X,
    y,
    setting,
    seed,
    methods,
    max_epochs,
    test_size,
    device,
    method_params,
    say,
    keep_scores,
) -> list[MethodResult]:
    _, y_codes = np.unique(y, return_inverse=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y_codes, test_size=test_size, stratify=y_codes, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    y_noisy, flipped = flip_labels(
        y_train, setting.rate, setting.kind, X=X_train, random_state=seed
    )
    # torch's threads for every method: a fit-time comparison, like a user's own
    # torch loop (a seeded fit's default would pin one thread).
    common = {
        "max_epochs": max_epochs,
        "random_state": seed,
        "device": device,
        "n_threads": None,
    }
    rows = []
    for method in methods:
        say(f"[{setting} seed {seed}] {method}: training ...")
        if method == "cleanlab":
            plain = make_estimator("plain", **common, **method_params.get("plain", {}))
            raw = _cleanlab_result(
                plain, X_train, y_noisy, X_test, y_test, y_train, seed
            )
        else:
            estimator = make_estimator(
                method, **common, **method_params.get(method, {})
            )
            raw = _sknoisy_result(
                method, estimator, X_train, y_noisy, X_test, y_test, y_train
            )
        report = detection_report(flipped, raw["scores"])
        precision, recall = _flag_precision_recall(flipped, raw["flagged"])
        extra = {
            "flagged": int(raw["flagged"].sum()),
            "flipped": int(flipped.sum()),
            "found": int(np.sum(raw["flagged"] & flipped)),
        }
        if keep_scores:
            extra.update(scores=raw["scores"], flipped_mask=flipped)
        rows.append(
            MethodResult(
                method=method,
                noise=str(setting),
                seed=seed,
                test_accuracy=raw["test_accuracy"],
                auroc=report["auroc"],
                auprc=report["auprc"],
                precision=precision,
                recall=recall,
                refined_accuracy=raw["refined_accuracy"],
                fit_seconds=raw["fit_seconds"],
                extra=extra,
            )
        )
        say(f"[{setting} seed {seed}] {method}: done in {raw['fit_seconds']:.1f} s")
    if "plain" in methods:
        rows.append(
            _plain_best_epoch(
                X_train,
                y_noisy,
                flipped,
                X_test,
                y_test,
                y_train,
                setting,
                seed,
                common,
                method_params,
                say,
            )
        )
    plain_seconds = next((r.fit_seconds for r in rows if r.method == "plain"), None)
    for row in rows:
        if plain_seconds and not np.isnan(row.fit_seconds):
            row.time_vs_plain = row.fit_seconds / plain_seconds
    return rows


def _flag_precision_recall(flipped, flagged) -> tuple[float, float]:
    hits = np.sum(flipped & flagged)
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / flipped.sum() if flipped.any() else float("nan")
    return float(precision), float(recall)


def _plain_best_epoch(
    X_train,
    y_noisy,
    flipped,
    X_test,
    y_test,
    y_train,
    setting,
    seed,
    common,
    method_params,
    say,
) -> MethodResult:
    say(f"[{setting} seed {seed}] plain, evaluated every epoch (oracle) ...")
    oracle = _EpochOracle(X_train, y_noisy, flipped, X_test, y_test)
    estimator = make_estimator(
        "plain", **common, **method_params.get("plain", {}), callbacks=[oracle]
    )
    estimator.fit(X_train, y_noisy)
    history = estimator.net_.history
    accuracy = np.asarray(history[:, "oracle_test_accuracy"])
    best = int(np.argmax(accuracy))
    return MethodResult(
        method="plain (best epoch, oracle)",
        noise=str(setting),
        seed=seed,
        test_accuracy=float(accuracy[best]),
        auroc=float(history[best, "oracle_auroc"]),
        auprc=float("nan"),
        precision=float("nan"),
        recall=float("nan"),
        refined_accuracy=float("nan"),
        fit_seconds=float("nan"),
        extra={"best_epoch": best + 1},
    )


# -- reporting ------------------------------------------------------------------
def summarise(results: Sequence[MethodResult]) -> list[dict]:
    """Mean and standard deviation over seeds, per noise setting and method."""
    groups: dict[tuple[str, str], list[MethodResult]] = {}
    for row in results:
        groups.setdefault((row.noise, row.method), []).append(row)
    summary = []
    for (noise_setting, method), rows in groups.items():
        entry = {"noise": noise_setting, "method": method, "seeds": len(rows)}
        for column in RESULT_COLUMNS:
            values = np.array([getattr(r, column) for r in rows], dtype=float)
            finite = values[~np.isnan(values)]
            entry[column] = float(finite.mean()) if len(finite) else float("nan")
            entry[column + "_std"] = (
                float(finite.std()) if len(finite) else float("nan")
            )
        if method.startswith("plain (best"):
            entry["best_epoch"] = float(np.mean([r.extra["best_epoch"] for r in rows]))
        summary.append(entry)
    return summary


TABLE_HEADERS = {
    "test_accuracy": "test acc",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "precision": "prec",
    "recall": "recall",
    "refined_accuracy": "refined acc",
    "fit_seconds": "fit s",
    "time_vs_plain": "x plain",
}
"""Table header of each of ``RESULT_COLUMNS``."""


def _format_cell(column: str, value: float, std: float, seeds: int) -> str:
    """A mean, with its standard deviation over several seeds (not for ratios)."""
    if np.isnan(value):
        return "-"
    digits = {"fit_seconds": 1, "time_vs_plain": 2}.get(column, 3)
    if seeds > 1 and column != "time_vs_plain":
        return f"{value:.{digits}f}±{std:.{digits}f}"
    return f"{value:.{digits}f}"


def format_table(summary: Sequence[dict]) -> str:
    """A plain-text table of :func:`summarise`'s output."""
    headers = ["noise", "method", *(TABLE_HEADERS[c] for c in RESULT_COLUMNS)]
    lines = [
        [entry["noise"], entry["method"]]
        + [
            _format_cell(c, entry[c], entry[c + "_std"], entry["seeds"])
            for c in RESULT_COLUMNS
        ]
        for entry in summary
    ]
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(headers)]
    rule = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), rule]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in lines]
    return "\n".join(out)


def to_json(results: Sequence[MethodResult], summary: Sequence[dict]) -> str:
    """Results and summary as JSON (per-row scores are not included)."""
    rows = []
    for row in results:
        record = asdict(row)
        record["extra"] = {k: v for k, v in row.extra.items() if np.isscalar(v)}
        rows.append(record)
    return json.dumps(
        {"results": rows, "summary": list(summary)}, indent=2, allow_nan=True
    )


def write_csv(summary: Sequence[dict], path) -> None:
    """Write :func:`summarise`'s output as CSV."""
    import csv

    fields = (
        ["noise", "method", "seeds"]
        + [name for column in RESULT_COLUMNS for name in (column, column + "_std")]
        + ["best_epoch"]
    )
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(summary)


def plot_scores(results: Sequence[MethodResult], path) -> None:
    """Score histograms (clean vs flipped) and ROC curves, one column per method.

    Needs matplotlib and results from ``run_benchmark(..., keep_scores=True)``;
    plots the first seed of the first noise setting.
    """
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_curve

    first = [r for r in results if "scores" in r.extra]
    first = [r for r in first if r.noise == first[0].noise and r.seed == first[0].seed]
    # A Figure of its own, not pyplot: the caller's matplotlib backend is left
    # alone.
    fig = Figure(figsize=(3.2 * len(first), 6))
    axes = fig.subplots(2, len(first), squeeze=False)
    for column, row in enumerate(first):
        scores, flipped = row.extra["scores"], row.extra["flipped_mask"]
        top, bottom = axes[0, column], axes[1, column]
        bins = np.linspace(0, 1, 31)
        top.hist(scores[~flipped], bins=bins, alpha=0.6, label="clean")
        top.hist(scores[flipped], bins=bins, alpha=0.6, label="flipped")
        top.set_title(row.method)
        top.set_xlabel("noise score")
        top.legend()
        fpr, tpr, _ = roc_curve(flipped, scores)
        bottom.plot(fpr, tpr)
        bottom.plot([0, 1], [0, 1], "k:", linewidth=0.8)
        bottom.set_title(f"ROC, AUROC {row.auroc:.3f}")
        bottom.set_xlabel("false positive rate")
        bottom.set_ylabel("true positive rate")
    fig.suptitle(f"{first[0].noise}, seed {first[0].seed}")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)


def stderr_progress(line: str) -> None:
    """Progress lines on standard error, so standard output stays a table."""
    print(line, file=sys.stderr, flush=True)
