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
early. With ``ceiling=True`` it is trained once more on the true labels: the
test accuracy of a model that had clean labels, each data set's ceiling.

Several data sets go in one run (a *suite*); :func:`compare` then counts, per
method and metric, the cells (data set and noise setting, mean over seeds) it
won, tied and lost against cleanlab and the oracle.

Run it as ``sknoisy benchmark`` (see ``sknoisy benchmark --help``) or call
:func:`run_benchmark`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch.utils.data import Subset

from . import __version__
from ._data import is_dataset_input
from ._plain import CrossEntropyClassifier
from .datasets import EMBEDDED, load_cifar10n, load_dataset, read_table, table_encoder
from .methods import METHODS, make_estimator
from .metrics import detection_auroc, detection_report, refined_label_accuracy
from .noise import flip_labels

ORACLE = "plain (best epoch, oracle)"
"""Plain training evaluated every epoch on the clean test labels (no user has it)."""

CEILING = "plain (true labels, ceiling)"
"""Plain training on the true training labels: the data set's ceiling."""

SMALL_CLASS_ROWS = 1000
"""``max_rows`` keeps every row of a class with fewer rows than this."""

RESULT_COLUMNS = (
    "test_accuracy",
    "auroc",
    "auprc",
    "precision",
    "recall",
    "f1",
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
    encoder : transformer or None, default=None
        An unfitted scikit-learn transformer from ``X`` (e.g. a DataFrame with
        mixed columns) to model-ready features, fitted on each seed's training
        rows only. None standardises a table's columns by its training rows.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    noisy_labels: dict = field(default_factory=dict)
    name: str = "arrays"
    encoder: object = None


def load_benchmark_data(
    dataset: str, target=None, data_dir=None, label_file=None
) -> BenchmarkData:
    """Load the data behind a ``dataset`` name: embedded, a table, or CIFAR-10N.

    Parameters
    ----------
    dataset : str
        An embedded name (:data:`sknoisy.datasets.EMBEDDED`), a table path
        (CSV, TSV or Parquet) with its label column as ``target`` or as
        ``"PATH:TARGET"``, or ``"cifar10n"``: the user's CIFAR-10 batches in
        ``data_dir`` with CIFAR-10N's ``label_file``.
    target : str, default=None
        The label column of a table. Its feature columns are encoded as
        :func:`sknoisy.datasets.table_encoder` says, the encoder fitted on each
        seed's training rows only.
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
    dataset = os.fspath(dataset)
    if dataset in EMBEDDED:
        X, y = load_dataset(dataset)
        return BenchmarkData(X, y, name=dataset)
    path, target = _table_and_target(dataset, target)
    features, y, _, encoder = table_encoder(read_table(path), target)
    return BenchmarkData(features, y, name=f"{path}:{target}", encoder=encoder)


def _table_and_target(dataset: str, target):
    """A table's path and label column, from ``dataset`` (maybe ``PATH:TARGET``)."""
    path, _, suffix = dataset.rpartition(":")
    if path and Path(path).is_file():
        if not suffix:
            raise ValueError(f"{dataset}: no target column after the colon.")
        return path, suffix
    if not Path(dataset).is_file():
        raise ValueError(
            f"Unknown data set {dataset!r}: not one of {sorted(EMBEDDED)} and not a "
            "file."
        )
    if target is None:
        raise ValueError(
            f"A table data set needs its target column (--target, or "
            f"PATH:TARGET): {dataset}."
        )
    return dataset, target


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
        ``keep_scores=True``, the oracle's ``"best_epoch"``, and per true class
        (lists in class order): ``"class_test_recall"``,
        ``"class_flag_recall"`` (share of its wrong labels flagged) and
        ``"class_clean_flagged"`` (share of its right labels flagged).
    data : str, default=""
        The data set's name.
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
    data: str = ""

    @property
    def f1(self) -> float:
        """Harmonic mean of the flags' precision and recall.

        0 where nothing right is flagged; NaN where the method has no flags.
        """
        if np.isnan(self.precision) or np.isnan(self.recall):
            return 0.0 if self.recall == 0 else float("nan")
        if self.precision + self.recall == 0:
            return 0.0
        return 2 * self.precision * self.recall / (self.precision + self.recall)


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
        estimator.predict(split.X_test),
        seconds,
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
        learner.predict(split.X_test),
        seconds,
    )


def _result(name, scores, flagged, refined, test_predictions, seconds):
    return {
        "method": name,
        "scores": np.asarray(scores, dtype=float),
        "flagged": np.asarray(flagged, dtype=bool),
        "refined": np.asarray(refined),
        "test_predictions": np.asarray(test_predictions),
        "fit_seconds": seconds,
    }


def _class_shares_of(y, n_classes) -> list[float]:
    """Each class's share of the rows of ``y``."""
    return [float(v) for v in np.bincount(y, minlength=n_classes) / len(y)]


def _class_recalls(y_true, hits, n_classes) -> list[float]:
    """Per class of ``y_true``, the share of its rows where ``hits`` holds (NaN
    for a class without rows)."""
    rows = np.bincount(y_true, minlength=n_classes)
    hit = np.bincount(y_true, weights=hits, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [float(v) for v in hit / rows]


def run_benchmark(
    dataset: str | BenchmarkData | Sequence[str | BenchmarkData] = "digits",
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
    ceiling: bool = False,
    max_rows: int | None = None,
) -> list[MethodResult]:
    """Run every method on every data set, noise setting and seed.

    Parameters
    ----------
    dataset : str or BenchmarkData, or a sequence of them, default="digits"
        An embedded data set name, a table path (``"PATH:TARGET"``, or with
        ``target``), ``"cifar10n"`` (with ``data_dir``), or the user's own
        arrays as a :class:`BenchmarkData`; several for a suite.
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
        One run per seed: subsample, split, noise and training all follow it.
    test_size : float, default=0.3
        Fraction of the data held out, with clean labels, for test accuracy
        (ignored where the data have a fixed test set).
    target : str, default=None
        Target column of a table data set (of every table in ``dataset``).
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
    ceiling : bool, default=False
        Also train plain training on the true labels (:data:`CEILING`), once per
        data set and seed: the test accuracy that clean labels would give.
    max_rows : int, default=None
        Subsample a data set with more rows (before the split; the training
        pool where the test set is fixed) to this many, stratified and seeded:
        every row of a class with fewer than :data:`SMALL_CLASS_ROWS` rows is
        kept, the other classes share the rest in proportion. None keeps every
        row.

    Returns
    -------
    list of MethodResult
        One result per data set, method, noise setting and seed (and the
        oracle's, with ``"plain"``; the ceiling's, with ``ceiling``).
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
    single = (str, os.PathLike, BenchmarkData)
    datasets = [dataset] if isinstance(dataset, single) else list(dataset)
    # Every data set is loaded and checked before any training.
    loaded = [
        d
        if isinstance(d, BenchmarkData)
        else load_benchmark_data(d, target, data_dir, label_file)
        for d in datasets
    ]
    names = [data.name for data in loaded]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"Several data sets are named {repeated}: results are keyed by name; "
            "give each BenchmarkData its own name."
        )
    for data in loaded:
        for setting in settings:
            if setting.kind == HUMAN and setting.label_set not in data.noisy_labels:
                raise ValueError(
                    f"{data.name}, {setting}: the data have no label set "
                    f"{setting.label_set!r}; they have "
                    f"{sorted(data.noisy_labels) or 'none'}."
                )
    run = _Run(
        methods=list(methods),
        max_epochs=max_epochs,
        device=device,
        method_params=method_params or {},
        say=say,
        keep_scores=keep_scores,
        store=ResultStore(results_path),
        oracle=oracle,
        ceiling=ceiling,
    )
    results = []
    for data in loaded:
        data_methods = run.methods
        if is_dataset_input(data.X) and "cleanlab" in data_methods:
            say(f"{data.name}: cleanlab needs arrays, not a Dataset: skipping it.")
            data_methods = [m for m in data_methods if m != "cleanlab"]
        for setting in settings:
            for seed in seeds:
                split = _prepare_split(
                    data, setting, seed, test_size, train_size, max_rows
                )
                if split.pool_note:
                    say(f"{data.name}, seed {seed}: {split.pool_note}")
                context = {
                    "data": data.name,
                    "noise": str(setting),
                    "seed": seed,
                    "max_epochs": max_epochs,
                    "test_size": None if data.X_test is not None else test_size,
                    "train_size": train_size,
                    "n_train": len(split.y_true),
                    "device": str(device),
                    "method_params": run.method_params,
                    "version": __version__,
                    "code": code_fingerprint(),
                }
                if split.pool_note:  # keys of uncapped runs stay as they were
                    context["max_rows"] = max_rows
                results += run.one(split, setting, seed, data_methods, context)
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
    n_classes: int
    data: str
    pool_note: str = ""


def _prepare_split(data, setting, seed, test_size, train_size, max_rows=None) -> _Split:
    """Subsample, split, subset, encode on the training rows, and inject or take
    the noise."""
    classes, y_codes = np.unique(data.y, return_inverse=True)
    rows = np.arange(len(data.y))
    pool_note = ""
    if max_rows is not None and len(rows) > max_rows:
        rows = capped_rows(y_codes, max_rows, seed)
    if len(rows) < len(y_codes):
        pool_note = (
            f"subsampled to {len(rows)} of {len(y_codes)} rows (stratified, every "
            f"row of a class under {SMALL_CLASS_ROWS} rows kept)"
        )
    if data.X_test is None:
        rows, test_rows = train_test_split(
            rows, test_size=test_size, stratify=y_codes[rows], random_state=seed
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
    X_train, X_test = _encode(data.encoder, X_train, X_test)
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
    return _Split(
        X_train,
        y_train,
        y_noisy,
        flipped,
        X_test,
        y_test,
        n_classes=len(classes),
        data=data.name,
        pool_note=pool_note,
    )


def capped_rows(y, max_rows: int, seed: int) -> np.ndarray:
    """Draw the rows of a stratified, seeded subsample of about ``max_rows`` rows.

    Every row of a class with fewer than :data:`SMALL_CLASS_ROWS` rows is kept
    (so that rare classes stay learnable and scorable), even beyond
    ``max_rows``; the larger classes share what remains of ``max_rows`` in
    proportion to their sizes.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class codes.
    max_rows : int
        The budget.
    seed : int
        Seed of the draw.

    Returns
    -------
    ndarray
        The kept rows, sorted.
    """
    sizes = np.bincount(y)
    small = sizes < SMALL_CLASS_ROWS
    kept = [np.flatnonzero(small[y])]
    large = np.flatnonzero(~small[y])
    budget = max_rows - len(kept[0])
    large_classes = np.flatnonzero(~small & (sizes > 0))
    if not len(large_classes):
        return np.sort(kept[0])
    shares = sizes[large_classes] / sizes[large_classes].sum()
    if budget >= len(large):
        kept.append(large)
    elif budget * shares.min() >= 2:
        drawn, _ = train_test_split(
            large, train_size=budget, stratify=y[large], random_state=seed
        )
        kept.append(drawn)
    else:  # a budget the small classes nearly exhaust: two rows per large class
        rng = np.random.default_rng(seed)
        for c, share in zip(large_classes, shares):
            rows = np.flatnonzero(y == c)
            take = max(2, int(np.rint(max(budget, 0) * share)))
            kept.append(rng.choice(rows, min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(kept))


def _take(X, rows):
    """Rows of an array or a DataFrame, or a ``Subset`` of a Dataset (nothing is
    read)."""
    if is_dataset_input(X):
        return Subset(X, np.asarray(rows).tolist())
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return X[rows]


def _encode(encoder, X_train, X_test):
    """Encode table features by the training rows only: ``encoder`` (cloned,
    fitted on ``X_train``), or else a standard scaling of each column.

    Images stay pixel values: the estimators standardise their channels
    themselves, after augmentation (``normalize_images``).
    """
    if encoder is not None:
        fitted = clone(encoder).fit(X_train)
        return (
            fitted.transform(X_train).astype(np.float32),
            fitted.transform(X_test).astype(np.float32),
        )
    if is_dataset_input(X_train) or X_train.ndim == 4:
        return X_train, X_test
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _storable(extra: dict) -> dict:
    """The scalars and lists of ``extra`` (per-row arrays, e.g. scores, stay out)."""
    return {k: v for k, v in extra.items() if np.isscalar(v) or isinstance(v, list)}


def _key_text(value) -> str:
    """How a result's key writes a value JSON cannot.

    An object with ``get_params`` (a skorch callback, a scikit-learn estimator)
    by its class and parameters: its default ``str`` holds a memory address,
    which would give the same settings another key in every run, and a rerun
    would train them again. Anything else by ``str``.
    """
    get_params = getattr(value, "get_params", None)
    if isinstance(value, type) or not callable(get_params):
        return str(value)
    params = json.dumps(get_params(deep=False), sort_keys=True, default=_key_text)
    return f"{type(value).__module__}.{type(value).__qualname__}({params})"


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
            The parameters, JSON-serialisable; others are written by
            ``_key_text``: an object with ``get_params``, such as a skorch
            callback in ``method_params``, by its class and parameters.

        Returns
        -------
        str
            A 20-digit hexadecimal key.
        """
        text = json.dumps(context, sort_keys=True, default=_key_text)
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
        record["extra"] = _storable(result.extra)
        key = self.key(context)
        self.rows[key] = record
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"key": key, "context": context, "result": record}, default=_key_text
        )
        with open(self.path, "a") as handle:
            handle.write(line + "\n")
            handle.flush()


@dataclass
class _Run:
    """What every fit of one benchmark run shares, and the fits of one split."""

    methods: list
    max_epochs: int
    device: str
    method_params: dict
    say: Callable[[str], None]
    keep_scores: bool
    store: ResultStore
    oracle: bool
    ceiling: bool
    warmed: bool = False

    def common(self, seed) -> dict:
        # torch's threads for every method: a fit-time comparison, like a user's
        # own torch loop (a seeded fit's default would pin one thread).
        return {
            "max_epochs": self.max_epochs,
            "random_state": seed,
            "device": self.device,
            "n_threads": None,
        }

    def one(self, split, setting, seed, methods, context) -> list[MethodResult]:
        """Every method's result on one split: stored, or trained now."""
        where = f"[{split.data} {setting} seed {seed}]"
        rows = []
        for method in methods:
            rows.append(
                self._stored_or(
                    {**context, "method": method},
                    split,
                    lambda method=method: self._train(method, split, setting, seed),
                    announce=f"{where} {method}",
                )
            )
        if "plain" in methods and self.oracle:
            rows.append(
                self._stored_or(
                    {**context, "method": ORACLE},
                    split,
                    lambda: self._plain_best_epoch(split, setting, seed, where),
                )
            )
        if self.ceiling:
            # The true labels do not depend on the noise: one fit per split.
            ceiling_context = {**context, "method": CEILING, "noise": None}
            best = self._stored_or(
                ceiling_context,
                split,
                lambda: self._ceiling(split, setting, seed, where),
            )
            rows.append(replace(best, noise=str(setting)))
        plain_seconds = next((r.fit_seconds for r in rows if r.method == "plain"), None)
        sizes = {"n_train": len(split.y_true), "n_test": len(split.y_test)}
        if split.pool_note:
            sizes["pool_note"] = split.pool_note
        for row in rows:
            row.data = split.data
            row.extra.update(sizes)
            if plain_seconds and not np.isnan(row.fit_seconds):
                row.time_vs_plain = row.fit_seconds / plain_seconds
        return rows

    def _stored_or(self, context, split, train, announce=None) -> MethodResult:
        """The stored result for ``context``, or ``train()``'s, stored now;
        ``announce`` names a timed fit in the progress lines."""
        stored = self.store.get(context)
        if stored is not None:
            if announce:
                self.say(f"{announce}: done before, from the results")
            return stored
        self._warm_up(split)
        if announce:
            self.say(f"{announce}: training ...")
        result = train()
        self.store.put(context, result)
        if announce:
            self.say(f"{announce}: done in {result.fit_seconds:.1f} s")
        return result

    def _warm_up(self, split) -> None:
        """One untimed epoch before the first timed fit, so that torch's
        first-call costs hit no method's time."""
        if self.warmed:
            return
        self.warmed = True
        n_rows = min(len(split.y_noisy), 256)
        with warnings.catch_warnings():  # one epoch on 256 rows: verdicts mean nothing
            warnings.simplefilter("ignore")
            CrossEntropyClassifier(
                max_epochs=1, device=self.device, random_state=0
            ).fit(_take(split.X_train, np.arange(n_rows)), split.y_noisy[:n_rows])

    def _estimator(self, method, seed, **params):
        return make_estimator(
            method,
            **self.common(seed),
            **self.method_params.get(method, {}),
            **params,
        )

    def _train(self, method, split, setting, seed) -> MethodResult:
        if method == "cleanlab":
            raw = _cleanlab_result(self._estimator("plain", seed), split, seed)
        else:
            raw = _sknoisy_result(method, self._estimator(method, seed), split)
        flipped, flagged = split.flipped, raw["flagged"]
        report = detection_report(flipped, raw["scores"])
        precision, recall = _flag_precision_recall(flipped, flagged)
        n_classes = split.n_classes
        extra = {
            "flagged": int(flagged.sum()),
            "flipped": int(flipped.sum()),
            "found": int(np.sum(flagged & flipped)),
            "class_test_share": _class_shares_of(split.y_test, n_classes),
            "class_test_recall": _class_recalls(
                split.y_test, raw["test_predictions"] == split.y_test, n_classes
            ),
            "class_flag_recall": _class_recalls(
                split.y_true[flipped], flagged[flipped], n_classes
            ),
            "class_clean_flagged": _class_recalls(
                split.y_true[~flipped], flagged[~flipped], n_classes
            ),
        }
        if self.keep_scores:
            extra.update(scores=raw["scores"], flipped_mask=flipped)
        return MethodResult(
            method=method,
            noise=str(setting),
            seed=seed,
            test_accuracy=float(np.mean(raw["test_predictions"] == split.y_test)),
            auroc=report["auroc"],
            auprc=report["auprc"],
            precision=precision,
            recall=recall,
            refined_accuracy=refined_label_accuracy(split.y_true, raw["refined"]),
            fit_seconds=raw["fit_seconds"],
            extra=extra,
        )

    def _plain_best_epoch(self, split, setting, seed, where) -> MethodResult:
        self.say(f"{where} plain, evaluated every epoch (oracle) ...")
        oracle = _EpochOracle(
            split.X_train, split.y_noisy, split.flipped, split.X_test, split.y_test
        )
        estimator = self._estimator("plain", seed, callbacks=[oracle])
        estimator.fit(split.X_train, split.y_noisy)
        history = estimator.net_.history
        accuracy = np.asarray(history[:, "oracle_test_accuracy"])
        best = int(np.argmax(accuracy))
        return _reference_result(
            ORACLE,
            setting,
            seed,
            test_accuracy=float(accuracy[best]),
            auroc=float(history[best, "oracle_auroc"]),
            extra={"best_epoch": best + 1},
        )

    def _ceiling(self, split, setting, seed, where) -> MethodResult:
        self.say(f"{where} plain on the true labels (ceiling) ...")
        estimator = self._estimator("plain", seed)
        estimator.fit(split.X_train, split.y_true)
        predictions = estimator.predict(split.X_test)
        return _reference_result(
            CEILING,
            setting,
            seed,
            test_accuracy=float(np.mean(predictions == split.y_test)),
            extra={
                "class_test_share": _class_shares_of(split.y_test, split.n_classes),
                "class_test_recall": _class_recalls(
                    split.y_test, predictions == split.y_test, split.n_classes
                ),
            },
        )


def _reference_result(
    method, setting, seed, test_accuracy, auroc=float("nan"), extra=None
):
    """A reference's result: test accuracy (and AUROC), no flags or timing."""
    nan = float("nan")
    return MethodResult(
        method=method,
        noise=str(setting),
        seed=seed,
        test_accuracy=test_accuracy,
        auroc=auroc,
        auprc=nan,
        precision=nan,
        recall=nan,
        refined_accuracy=nan,
        fit_seconds=nan,
        extra=extra or {},
    )


def _flag_precision_recall(flipped, flagged) -> tuple[float, float]:
    hits = np.sum(flipped & flagged)
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / flipped.sum() if flipped.any() else float("nan")
    return float(precision), float(recall)


# -- reporting ------------------------------------------------------------------
def summarise(results: Sequence[MethodResult]) -> list[dict]:
    """Average the results over seeds, per data set, noise setting and method.

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned.

    Returns
    -------
    list of dict
        Per data set, noise setting and method: ``data``, ``noise``,
        ``method``, ``seeds``, and each of ``RESULT_COLUMNS`` with its standard
        deviation (``<column>_std``).
    """
    groups: dict[tuple[str, str, str], list[MethodResult]] = {}
    for row in results:
        groups.setdefault((row.data, row.noise, row.method), []).append(row)
    summary = []
    for (data, noise_setting, method), rows in groups.items():
        entry = {
            "data": data,
            "noise": noise_setting,
            "method": method,
            "seeds": len(rows),
        }
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
    "f1": "F1",
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
        The table, one line per noise setting and method (and data set, where
        there are several).
    """
    several = len({entry.get("data", "") for entry in summary}) > 1
    keys = ["data", "noise", "method"] if several else ["noise", "method"]
    headers = [*keys, *(TABLE_HEADERS[c] for c in RESULT_COLUMNS)]
    lines = [
        [data_label(entry[k]) if k == "data" else entry[k] for k in keys]
        + [
            _format_cell(c, entry[c], entry[c + "_std"], entry["seeds"])
            for c in RESULT_COLUMNS
        ]
        for entry in summary
    ]
    return "\n".join(_aligned(headers, lines))


def _aligned(headers: list[str], lines: list[list[str]]) -> list[str]:
    """Left-aligned columns: the header, a rule, then the lines."""
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in lines]
    return out


COMPARED_METRICS = {
    "cleanlab": ("test_accuracy", "auroc", "f1"),
    ORACLE: ("test_accuracy", "auroc"),
}
"""The metrics :func:`compare` sets each method against each reference on."""

TARGET_MARGINS = {
    ("cleanlab", "test_accuracy"): 0.005,
    ("cleanlab", "auroc"): 0.0,
    ("cleanlab", "f1"): 0.0,
    (ORACLE, "test_accuracy"): 0.01,
}
"""How far below a reference a method's mean may fall and still meet its target."""


def compare(
    results: Sequence[MethodResult],
    methods: Sequence[str] = ("wrong-event", "alr"),
    references: Sequence[str] = ("cleanlab", ORACLE),
) -> list[dict]:
    """Set each method against each reference, cell by cell.

    A cell is one data set and one noise setting. Per seed the method's figure
    is paired with the reference's; the cell's difference is the mean over the
    seeds, *won* if it exceeds its standard error (the standard deviation of
    the paired differences over the square root of their number), *lost* if
    it is below minus that, *tied* otherwise (with one seed: only an exact
    tie). Targets (:data:`TARGET_MARGINS`) allow a margin below the reference.

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned.
    methods : sequence of str, default=("wrong-event", "alr")
        The methods to judge.
    references : sequence of str, default=("cleanlab", ORACLE)
        What they are judged against (metrics per reference:
        :data:`COMPARED_METRICS`).

    Returns
    -------
    list of dict
        Per cell, method, reference and metric: ``data``, ``noise``,
        ``method``, ``reference``, ``metric``, ``difference``, ``stderr``,
        ``seeds``, ``outcome`` (``"won"``, ``"tied"`` or ``"lost"``) and
        ``target_met`` (None where the pair has no target).
    """
    by_key = {(r.data, r.noise, r.method, r.seed): r for r in results}
    cells = dict.fromkeys((r.data, r.noise) for r in results)
    seeds = sorted({r.seed for r in results})
    rows = []
    for (data, noise_setting), method, reference in itertools.product(
        cells, methods, references
    ):
        pairs = [
            (
                by_key.get((data, noise_setting, method, seed)),
                by_key.get((data, noise_setting, reference, seed)),
            )
            for seed in seeds
        ]
        pairs = [(m, r) for m, r in pairs if m is not None and r is not None]
        if not pairs:
            continue
        for metric in COMPARED_METRICS.get(reference, ("test_accuracy",)):
            diffs = np.array(
                [getattr(m, metric) - getattr(r, metric) for m, r in pairs]
            )
            diffs = diffs[~np.isnan(diffs)]
            if len(diffs):
                rows.append(
                    {
                        "data": data,
                        "noise": noise_setting,
                        "method": method,
                        "reference": reference,
                        "metric": metric,
                        **_judged(diffs, TARGET_MARGINS.get((reference, metric))),
                    }
                )
    return rows


def _judged(diffs: np.ndarray, margin) -> dict:
    """A cell's verdict from its per-seed differences (see :func:`compare`)."""
    difference = float(diffs.mean())
    stderr = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else 0.0
    if difference > stderr:
        outcome = "won"
    elif difference < -stderr:
        outcome = "lost"
    else:
        outcome = "tied"
    return {
        "difference": difference,
        "stderr": stderr,
        "seeds": len(diffs),
        "outcome": outcome,
        "target_met": None if margin is None else bool(difference >= -margin - 1e-12),
    }


def format_comparison(comparison: Sequence[dict]) -> str:
    """Count the cells won, tied and lost, and list the cells that miss a target.

    Parameters
    ----------
    comparison : sequence of dict
        What :func:`compare` returned.

    Returns
    -------
    str
        One line per method, reference and metric (won / tied / lost, targets
        met), then one line per missed target.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in comparison:
        groups.setdefault((row["method"], row["reference"], row["metric"]), []).append(
            row
        )
    headers = ["method", "vs", "metric", "won", "tied", "lost", "target met"]
    lines = []
    for (method, reference, metric), rows in groups.items():
        outcomes = [row["outcome"] for row in rows]
        judged = [row["target_met"] for row in rows if row["target_met"] is not None]
        margin = TARGET_MARGINS.get((reference, metric))
        lines.append(
            [
                method,
                reference,
                TABLE_HEADERS[metric],
                str(outcomes.count("won")),
                str(outcomes.count("tied")),
                str(outcomes.count("lost")),
                f"{sum(judged)}/{len(judged)} (>= {'-' if margin else ''}{margin:g})"
                if judged
                else "-",
            ]
        )
    out = _aligned(headers, lines)
    missed = [row for row in comparison if row["target_met"] is False]
    if missed:
        out.append("")
        out.append("Targets missed (method - reference, mean over seeds ± stderr):")
        for row in missed:
            out.append(
                f"  {data_label(row['data'])}, {row['noise']}: {row['method']} "
                f"{TABLE_HEADERS[row['metric']]} {row['difference']:+.3f}"
                f"±{row['stderr']:.3f} vs {row['reference']}"
            )
    return "\n".join(out)


def format_class_recalls(results: Sequence[MethodResult], max_share=0.05) -> str:
    """Per-class figures of the data sets with a rare class, mean over seeds.

    For each data set whose smallest class holds under ``max_share`` of its
    test rows: per noise setting and method, each true class's test recall,
    and the shares of its wrong labels flagged and of its right labels
    flagged (a class lost to the flags shows as a high share of right labels
    flagged).

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned.
    max_share : float, default=0.05
        A class under this share of the rows is rare.

    Returns
    -------
    str
        The tables, or an empty string when no data set has a rare class.
    """
    out = []
    groups: dict[tuple, list[MethodResult]] = {}
    for row in results:
        if "class_test_recall" in row.extra:
            groups.setdefault((row.data, row.noise, row.method), []).append(row)
    for data in dict.fromkeys(key[0] for key in groups):
        shares = _class_shares(data, results)
        if shares is None or shares.min() >= max_share:
            continue
        out.append(
            f"{data_label(data)}: per true class (test share "
            + ", ".join(f"{v:.3%}" for v in shares)
            + ")"
        )
        for (d, noise_setting, method), rows in groups.items():
            if d != data:
                continue
            for figure, label in (
                ("class_test_recall", "test recall"),
                ("class_flag_recall", "wrong labels flagged"),
                ("class_clean_flagged", "right labels flagged"),
            ):
                values = [r.extra[figure] for r in rows if figure in r.extra]
                if not values:
                    continue
                mean = np.nanmean(np.array(values, dtype=float), axis=0)
                cells = " ".join("   -" if np.isnan(v) else f"{v:4.2f}" for v in mean)
                out.append(f"  {noise_setting:<16} {method:<30} {label:<21} {cells}")
    return "\n".join(out)


def format_sizes(results: Sequence[MethodResult]) -> str:
    """One line per data set: its training and test rows, and any subsampling.

    Parameters
    ----------
    results : sequence of MethodResult
        What :func:`run_benchmark` returned.

    Returns
    -------
    str
        The lines (the sizes of each data set's first result).
    """
    lines = {}
    for row in results:
        if row.data in lines or "n_train" not in row.extra:
            continue
        note = row.extra.get("pool_note")
        lines[row.data] = (
            f"{data_label(row.data)}: {row.extra['n_train']} training rows, "
            f"{row.extra['n_test']} test rows" + (f"; {note}" if note else "")
        )
    return "\n".join(lines.values())


def _class_shares(data, results):
    """Each class's share of the test rows, from a result's stored test recall
    counts (the ceiling's or the first one's)."""
    for row in results:
        if row.data == data and "class_test_share" in row.extra:
            return np.asarray(row.extra["class_test_share"], dtype=float)
    return None


def data_label(name: str) -> str:
    """Shorten a data set's name as tables show it: a table file by its file name.

    Parameters
    ----------
    name : str
        The data set's name (e.g. ``"path/to/satellite.parquet:class"``).

    Returns
    -------
    str
        The name, a table's path reduced to its file name
        (``"satellite.parquet:class"``).
    """
    path, sep, target = name.rpartition(":")
    return f"{Path(path).name}:{target}" if sep and "/" in path else name


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
        record["extra"] = _storable(row.extra)
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
        ["data", "noise", "method", "seeds"]
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
    plots the first seed of the first noise setting of the first data set.

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
    key = (first[0].data, first[0].noise, first[0].seed)
    first = [r for r in first if (r.data, r.noise, r.seed) == key]
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
    where = f"{data_label(first[0].data)}, " if first[0].data else ""
    fig.suptitle(f"{where}{first[0].noise}, seed {first[0].seed}")
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
