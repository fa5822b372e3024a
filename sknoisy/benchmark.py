"""Side-by-side benchmark of label-noise methods, on injected or human label noise.

Every method in one run sees the same split, the same noisy labels, the same
network and the same number of epochs. The noise is injected into the training
labels (``"symmetric:0.4"``), or it comes with the data, as CIFAR-10N's human
label sets (``"human:aggre"``, with ``dataset="cifar10n"``). Methods:

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

import functools
import hashlib
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch.utils.data import Subset

from . import __version__
from ._data import is_dataset_input
from ._plain import CrossEntropyClassifier
from .datasets import load_cifar10n, load_dataset
from .methods import METHODS, make_estimator
from .metrics import detection_auroc, detection_report, refined_label_accuracy
from .noise import flip_labels

ORACLE = "plain (best epoch, oracle)"
"""Plain training evaluated every epoch on the clean test labels (no user has it)."""

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


@functools.cache
def code_fingerprint() -> str:
    """Return a short hash of sknoisy's source files.

    Results of other code never match: a rerun resumes only from results that
    the same code produced; to resume a long run across edits, run it from a
    fixed checkout (e.g. a git worktree).

    Returns
    -------
    str
        The first 12 hexadecimal digits of a SHA-256 over every ``.py`` file of
        the package, names and contents.
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cleanlab_available() -> bool:
    """Tell whether the optional dependency cleanlab is installed.

    Returns
    -------
    bool
        True when ``import cleanlab`` would find it.
    """
    return importlib.util.find_spec("cleanlab") is not None


HUMAN = "human"
"""The noise kind of given (e.g. human) labels: ``"human:NAME"``."""


@dataclass
class NoiseSetting:
    """Label noise to benchmark on: injected ``"kind:rate"``, or ``"human:NAME"``.

    Parameters
    ----------
    kind : str
        A kind of :data:`sknoisy.noise.NOISE_KINDS`, or ``"human"`` for a label
        set that comes with the data (e.g. CIFAR-10N's ``aggre``).
    rate : float or None
        Fraction of labels flipped (injected noise only).
    label_set : str or None
        The name of the given label set (``"human"`` only).
    """

    kind: str
    rate: float | None = None
    label_set: str | None = None

    @classmethod
    def parse(cls, text: str) -> NoiseSetting:
        """Read a setting from its text, e.g. ``"pair:0.3"`` or ``"human:aggre"``.

        Parameters
        ----------
        text : str
            ``"KIND:RATE"`` (the rate defaults to 0.4 when omitted) or
            ``"human:NAME"``.

        Returns
        -------
        NoiseSetting
            The parsed setting.
        """
        kind, _, value = text.partition(":")
        if kind == HUMAN:
            if not value:
                raise ValueError(
                    f"Noise setting {text!r} names no label set, e.g. human:aggre."
                )
            return cls(kind, label_set=value)
        try:
            return cls(kind, float(value or 0.4))
        except ValueError:
            raise ValueError(
                f"Noise setting {text!r} is not KIND:RATE (e.g. pair:0.3) or "
                "human:NAME (e.g. human:aggre)."
            ) from None

    def __str__(self) -> str:
        if self.kind == HUMAN:
            return f"{HUMAN}:{self.label_set}"
        return f"{self.kind}:{self.rate:g}"


@dataclass
class BenchmarkData:
    """A data set to benchmark on: features with their true labels.

    Without ``X_test``, every seed splits ``(X, y)`` into training and test
    rows; with it, ``(X, y)`` is the training pool and ``(X_test, y_test)`` the
    fixed test set (as CIFAR-10N's official one). ``noisy_labels`` holds label
    sets that come with the data, aligned with ``X`` (``"human:NAME"``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...) or Dataset
        Features: a table ``(n, n_features)``, images ``(n, C, H, W)`` (uint8,
        or floats in [0, 1]), or a map-style torch ``Dataset`` whose items are
        inputs or ``(input, label)`` pairs (read lazily; cleanlab, which needs
        arrays, is skipped for it).
    y : ndarray of shape (n_samples,)
        True labels.
    X_test : ndarray or None, default=None
        A fixed test set.
    y_test : ndarray or None, default=None
        The true labels of ``X_test``.
    noisy_labels : dict of str to ndarray of shape (n_samples,), default={}
        Given noisy label sets by name.
    name : str, default="arrays"
        What the data are, for the results' keys.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    noisy_labels: dict = field(default_factory=dict)
    name: str = "arrays"


def load_benchmark_data(
    dataset: str, target=None, data_dir=None, label_file=None
) -> BenchmarkData:
    """Load the data behind a ``dataset`` name: embedded, a table, or CIFAR-10N.

    Parameters
    ----------
    dataset : str
        An embedded name or a table path (:func:`sknoisy.datasets.load_dataset`),
        or ``"cifar10n"``: the user's CIFAR-10 batches in ``data_dir`` with
        CIFAR-10N's ``label_file``.
    target : str, default=None
        The label column of a table.
    data_dir : path, default=None
        For ``"cifar10n"``: the folder of the CIFAR-10 python batches.
    label_file : path, default=None
        For ``"cifar10n"``: CIFAR-10N's label file (default
        ``data_dir/CIFAR-10_human.pt``).

    Returns
    -------
    BenchmarkData
        The features and true labels (and, for CIFAR-10N, its test set and
        human label sets).
    """
    if dataset == "cifar10n":
        if data_dir is None:
            raise ValueError(
                "dataset 'cifar10n' needs data_dir (--data-dir), the folder of the "
                "CIFAR-10 python batches."
            )
        label_file = (
            Path(data_dir) / "CIFAR-10_human.pt" if label_file is None else label_file
        )
        data = load_cifar10n(data_dir, label_file)
        return BenchmarkData(
            data.data,
            data.target,
            data.test_data,
            data.test_target,
            data.human_labels,
            name="cifar10n",
        )
    X, y = load_dataset(dataset, target)
    return BenchmarkData(X, y, name=f"{dataset}:{target}" if target else dataset)


@dataclass
class MethodResult:
    """One method's figures on one noise setting and seed.

    Detection figures score the method's ``noise_scores_`` and ``label_issues_``
    against the rows whose training label is wrong; NaN where a method has no
    such figure (e.g. the oracle's flags).

    Parameters
    ----------
    method : str
        The method's name (a key of :data:`sknoisy.methods.METHODS`, or
        :data:`ORACLE`).
    noise : str
        The noise setting, as text (``"symmetric:0.4"``, ``"human:aggre"``).
    seed : int
        The seed of the split, noise and training.
    test_accuracy : float
        Accuracy on the clean test labels.
    auroc : float
        Detection AUROC of the noise scores.
    auprc : float
        Detection AUPRC of the noise scores.
    precision : float
        Share of the flagged rows whose label is wrong.
    recall : float
        Share of the wrong labels that are flagged.
    refined_accuracy : float
        Accuracy of the refined training labels against the true ones.
    fit_seconds : float
        Wall time of the fit.
    time_vs_plain : float, default=nan
        ``fit_seconds`` over plain training's, in the same run.
    extra : dict, default={}
        Anything else: e.g. ``"scores"`` and ``"flipped_mask"`` with
        ``keep_scores=True``, the oracle's ``"best_epoch"``.
    """

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


def _sknoisy_result(name, estimator, split):
    start = time.perf_counter()
    estimator.fit(split.X_train, split.y_noisy)
    seconds = time.perf_counter() - start
    return _result(
        name,
        estimator.noise_scores_,
        estimator.label_issues_,
        estimator.refined_labels_,
        float(np.mean(estimator.predict(split.X_test) == split.y_test)),
        seconds,
        split.y_true,
    )


def _cleanlab_result(plain, split, seed):
    from cleanlab.classification import CleanLearning

    learner = CleanLearning(clf=plain, cv_n_folds=5, seed=seed, verbose=False)
    start = time.perf_counter()
    learner.fit(split.X_train, split.y_noisy)
    seconds = time.perf_counter() - start
    issues = learner.get_label_issues()
    flagged = issues["is_label_issue"].to_numpy()
    refined = np.where(flagged, issues["predicted_label"], issues["given_label"])
    return _result(
        "cleanlab",
        1 - issues["label_quality"].to_numpy(),
        flagged,
        refined,
        float(np.mean(learner.predict(split.X_test) == split.y_test)),
        seconds,
        split.y_true,
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
    dataset: str | BenchmarkData = "digits",
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
    train_size: int | None = None,
    data_dir=None,
    label_file=None,
    results_path=None,
    oracle: bool = True,
) -> list[MethodResult]:
    """Run every method on every noise setting and seed.

    Parameters
    ----------
    dataset : str or BenchmarkData, default="digits"
        An embedded data set name, a table path, ``"cifar10n"`` (with
        ``data_dir``), or the user's own arrays as a :class:`BenchmarkData`.
    noise : sequence of str or NoiseSetting, default=("symmetric:0.4",)
        Noise settings: ``"kind:rate"`` injects noise of a kind of
        :data:`sknoisy.noise.NOISE_KINDS` into the training labels;
        ``"human:NAME"`` trains on a label set that comes with the data (e.g.
        CIFAR-10N's ``human:aggre``), the truth being the data's clean labels.
    methods : sequence of str, default=all of :data:`sknoisy.methods.METHODS`
        Methods to run; ``"cleanlab"`` is skipped, with a message, when cleanlab
        is not installed.
    max_epochs : int, default=60
        Training epochs of every method (cleanlab: of each of its fits).
    seeds : sequence of int, default=(0,)
        One run per seed: split, subset, noise and training all follow it.
    test_size : float, default=0.3
        Fraction of the data held out, with clean labels, for test accuracy
        (ignored where the data have a fixed test set).
    target : str, default=None
        Target column of a table data set.
    device : str, default="cpu"
        Training device.
    method_params : dict, default=None
        Extra estimator parameters per method, e.g. ``{"alr": {"momentum": 0.8}}``.
    progress : callable, default=None
        Called with a line of text as each fit starts and ends.
    keep_scores : bool, default=False
        Keep each method's scores and the flip mask in ``extra`` (for plots).
    train_size : int, default=None
        Train on a stratified, seeded subset of this many training rows (by
        their true labels); None trains on all of them.
    data_dir, label_file : path, default=None
        For ``dataset="cifar10n"``: the CIFAR-10 batches and CIFAR-10N's label
        file (default ``data_dir/CIFAR-10_human.pt``).
    results_path : path, default=None
        A JSON-lines file of finished results, for long runs that get
        interrupted: each method's result is appended as it ends, keyed by every
        parameter it depends on, the sknoisy version and a hash of its source
        (:func:`code_fingerprint`), and a rerun takes the results whose key
        matches from the file instead of training again.
    oracle : bool, default=True
        With ``"plain"`` among the methods, also report plain training's best
        epoch on the test set (:data:`ORACLE`), an upper bound no user has: one
        more plain fit, evaluated after every epoch.

    Returns
    -------
    list of MethodResult
        One result per method, noise setting and seed (and the oracle's, with
        ``"plain"``).
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
    data = (
        dataset
        if isinstance(dataset, BenchmarkData)
        else load_benchmark_data(dataset, target, data_dir, label_file)
    )
    if is_dataset_input(data.X) and "cleanlab" in methods:
        say("cleanlab needs arrays, not a Dataset: skipping it.")
        methods = [m for m in methods if m != "cleanlab"]
    for setting in settings:
        if setting.kind == HUMAN and setting.label_set not in data.noisy_labels:
            raise ValueError(
                f"{setting}: the data have no label set {setting.label_set!r}; "
                f"they have {sorted(data.noisy_labels) or 'none'}."
            )
    store = ResultStore(results_path)
    warmed = False
    results = []
    for setting in settings:
        for seed in seeds:
            split = _prepare_split(data, setting, seed, test_size, train_size)
            context = {
                "data": data.name,
                "noise": str(setting),
                "seed": seed,
                "max_epochs": max_epochs,
                "test_size": None if data.X_test is not None else test_size,
                "train_size": train_size,
                "n_train": len(split.y_true),
                "device": str(device),
                "method_params": method_params,
                "version": __version__,
                "code": code_fingerprint(),
            }
            missing = [
                m for m in methods if store.get({**context, "method": m}) is None
            ]
            if missing and not warmed:
                _warm_up(split.X_train, split.y_noisy, device)
                warmed = True
            results += _run_one(
                split,
                setting,
                seed,
                methods,
                max_epochs,
                device,
                method_params,
                say,
                keep_scores,
                store,
                context,
                oracle,
            )
    return results


@dataclass
class _Split:
    """One seed's training and test data, prepared for the methods."""

    X_train: np.ndarray
    y_true: np.ndarray
    y_noisy: np.ndarray
    flipped: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _prepare_split(data, setting, seed, test_size, train_size) -> _Split:
    """Split, subset, inject or take the noise, and scale on the training rows."""
    classes, y_codes = np.unique(data.y, return_inverse=True)
    rows = np.arange(len(data.y))
    if data.X_test is None:
        rows, test_rows = train_test_split(
            rows, test_size=test_size, stratify=y_codes, random_state=seed
        )
        X_test, y_test = _take(data.X, test_rows), y_codes[test_rows]
    else:
        X_test, y_test = data.X_test, np.searchsorted(classes, data.y_test)
    if train_size is not None and train_size < len(rows):
        rows, _ = train_test_split(
            rows, train_size=train_size, stratify=y_codes[rows], random_state=seed
        )
        rows = np.sort(rows)
    X_train, y_train = _take(data.X, rows), y_codes[rows]
    X_train, X_test = _scale(X_train, X_test)
    if setting.kind == HUMAN:
        given = np.asarray(data.noisy_labels[setting.label_set])[rows]
        y_noisy = np.searchsorted(classes, given)
        flipped = y_noisy != y_train
    else:
        if is_dataset_input(X_train) and setting.kind == "instance":
            raise ValueError(
                "instance noise depends on the features, which a Dataset does not "
                "hold in memory; use symmetric or pair noise, or human labels."
            )
        features = None if is_dataset_input(X_train) else X_train
        y_noisy, flipped = flip_labels(
            y_train, setting.rate, setting.kind, X=features, random_state=seed
        )
    return _Split(X_train, y_train, y_noisy, flipped, X_test, y_test)


def _take(X, rows):
    """Rows of an array, or a ``Subset`` of a Dataset (nothing is read)."""
    if is_dataset_input(X):
        return Subset(X, np.asarray(rows).tolist())
    return X[rows]


def _scale(X_train, X_test):
    """Standardise table features by the training rows' statistics.

    Images stay pixel values: the estimators standardise their channels
    themselves, after augmentation (``normalize_images``).
    """
    if is_dataset_input(X_train) or X_train.ndim == 4:
        return X_train, X_test
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


class ResultStore:
    """Finished benchmark results in a JSON-lines file, keyed by their parameters.

    Parameters
    ----------
    path : path or None
        The file; None keeps nothing (every result is computed).
    """

    def __init__(self, path=None):
        self.path = None if path is None else Path(path)
        self.rows: dict[str, dict] = {}
        if self.path is not None and self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.rows[record["key"]] = record["result"]

    @staticmethod
    def key(context: dict) -> str:
        """Digest every parameter a result depends on.

        Parameters
        ----------
        context : dict
            The parameters, JSON-serialisable (others are written by ``str``).

        Returns
        -------
        str
            A 20-digit hexadecimal key.
        """
        text = json.dumps(context, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def get(self, context: dict) -> MethodResult | None:
        """Look up the stored result for ``context``.

        Parameters
        ----------
        context : dict
            The parameters the result depends on.

        Returns
        -------
        MethodResult or None
            The stored result, or None if there is none.
        """
        record = self.rows.get(self.key(context))
        return None if record is None else MethodResult(**record)

    def put(self, context: dict, result: MethodResult) -> None:
        """Append a finished result (scalar figures only) to the file.

        Parameters
        ----------
        context : dict
            The parameters the result depends on.
        result : MethodResult
            The result to store.
        """
        record = asdict(result)
        record["extra"] = {k: v for k, v in result.extra.items() if np.isscalar(v)}
        key = self.key(context)
        self.rows[key] = record
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"key": key, "context": context, "result": record}, default=str
        )
        with open(self.path, "a") as handle:
            handle.write(line + "\n")
            handle.flush()


def _warm_up(X, y, device) -> None:
    """One untimed epoch, so that torch's first-call costs hit no method's time."""
    n_rows = min(len(X), 256)
    with warnings.catch_warnings():  # one epoch on 256 rows: its verdicts mean nothing
        warnings.simplefilter("ignore")
        CrossEntropyClassifier(max_epochs=1, device=device, random_state=0).fit(
            _take(X, np.arange(n_rows)), y[:n_rows]
        )


def _run_one(
    split,
    setting,
    seed,
    methods,
    max_epochs,
    device,
    method_params,
    say,
    keep_scores,
    store,
    context,
    oracle,
) -> list[MethodResult]:
    flipped = split.flipped
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
        stored = store.get({**context, "method": method})
        if stored is not None:
            say(f"[{setting} seed {seed}] {method}: done before, from the results")
            rows.append(stored)
            continue
        say(f"[{setting} seed {seed}] {method}: training ...")
        if method == "cleanlab":
            plain = make_estimator("plain", **common, **method_params.get("plain", {}))
            raw = _cleanlab_result(plain, split, seed)
        else:
            estimator = make_estimator(
                method, **common, **method_params.get(method, {})
            )
            raw = _sknoisy_result(method, estimator, split)
        report = detection_report(flipped, raw["scores"])
        precision, recall = _flag_precision_recall(flipped, raw["flagged"])
        extra = {
            "flagged": int(raw["flagged"].sum()),
            "flipped": int(flipped.sum()),
            "found": int(np.sum(raw["flagged"] & flipped)),
        }
        if keep_scores:
            extra.update(scores=raw["scores"], flipped_mask=flipped)
        result = MethodResult(
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
        store.put({**context, "method": method}, result)
        rows.append(result)
        say(f"[{setting} seed {seed}] {method}: done in {raw['fit_seconds']:.1f} s")
    if "plain" in methods and oracle:
        oracle_context = {**context, "method": ORACLE}
        best_epoch = store.get(oracle_context)
        if best_epoch is None:
            best_epoch = _plain_best_epoch(
                split, setting, seed, common, method_params, say
            )
            store.put(oracle_context, best_epoch)
        rows.append(best_epoch)
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


def _plain_best_epoch(split, setting, seed, common, method_params, say):
    say(f"[{setting} seed {seed}] plain, evaluated every epoch (oracle) ...")
    oracle = _EpochOracle(
        split.X_train, split.y_noisy, split.flipped, split.X_test, split.y_test
    )
    estimator = make_estimator(
        "plain", **common, **method_params.get("plain", {}), callbacks=[oracle]
    )
    estimator.fit(split.X_train, split.y_noisy)
    history = estimator.net_.history
    accuracy = np.asarray(history[:, "oracle_test_accuracy"])
    best = int(np.argmax(accuracy))
    return MethodResult(
        method=ORACLE,
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
    """Average the results over seeds, per noise setting and method.

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned.

    Returns
    -------
    list of dict
        Per noise setting and method: ``noise``, ``method``, ``seeds``, and each
        of ``RESULT_COLUMNS`` with its standard deviation (``<column>_std``).
    """
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
    """Format :func:`summarise`'s output as a plain-text table.

    Parameters
    ----------
    summary : sequence of dict
        What :func:`summarise` returned.

    Returns
    -------
    str
        The table, one line per noise setting and method.
    """
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
    """Serialise results and summary as JSON (per-row scores are left out).

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned.
    summary : sequence of dict
        What :func:`summarise` returned.

    Returns
    -------
    str
        The JSON text.
    """
    rows = []
    for row in results:
        record = asdict(row)
        record["extra"] = {k: v for k, v in row.extra.items() if np.isscalar(v)}
        rows.append(record)
    return json.dumps(
        {"results": rows, "summary": list(summary)}, indent=2, allow_nan=True
    )


def write_csv(summary: Sequence[dict], path) -> None:
    """Write :func:`summarise`'s output as CSV.

    Parameters
    ----------
    summary : sequence of dict
        What :func:`summarise` returned.
    path : path
        The CSV file to write.
    """
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

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned, with ``keep_scores=True``.
    path : path or file-like
        Where the PNG figure is written.
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
    """Print a progress line on standard error, so standard output stays a table.

    Parameters
    ----------
    line : str
        The line to print.
    """
    print(line, file=sys.stderr, flush=True)
