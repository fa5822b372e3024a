"""Data sets for demos and benchmarks: scikit-learn's embedded ones, tables, image
folders, and the user's own copy of CIFAR-10N.

Nothing is downloaded: the embedded sets ship with scikit-learn, and every other
loader reads files from a path the user gives.
"""

from __future__ import annotations

import importlib
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted, validate_data

EMBEDDED = {
    "digits": sk_datasets.load_digits,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "wine": sk_datasets.load_wine,
    "iris": sk_datasets.load_iris,
}
"""Embedded data sets by name."""


def load_dataset(name: str, target: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load an embedded data set by name, or a table file with a target column.

    Parameters
    ----------
    name : str
        One of ``EMBEDDED`` (``"digits"`` is 1797 8x8 handwritten digits, 10
        classes), or the path of a CSV, TSV or Parquet file.
    target : str, default=None
        The column holding the labels; required for a file. The other columns
        are encoded as in :func:`table_features` (numeric ones as normal
        quantiles and as arcsinh-scaled values, others one-hot encoded); rows
        without a label are skipped.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float
        The features.
    y : ndarray of shape (n_samples,)
        The labels.
    """
    if name in EMBEDDED:
        return EMBEDDED[name](return_X_y=True)
    path = Path(name)
    if not path.is_file():
        raise ValueError(
            f"Unknown data set {name!r}: not one of {sorted(EMBEDDED)} and not a file."
        )
    if target is None:
        raise ValueError(
            f"A table data set needs its target column (--target): {path}."
        )
    X, y, _ = table_features(read_table(path), target)
    return X, y


TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def require_parquet() -> None:
    """Raise a one-line ImportError unless pyarrow, needed for Parquet, is there."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError(
            "Parquet files need pyarrow: pip install 'sknoisy[parquet]'."
        ) from None


def read_table(path):
    """Read a CSV, TSV or Parquet file into a DataFrame, with one-line errors.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``, ``.parquet`` or ``.pq`` file (``TABLE_SUFFIXES``);
        Parquet needs pyarrow.

    Returns
    -------
    pandas.DataFrame
        The table, as pandas reads it.

    Raises
    ------
    ValueError
        The file is missing, of an unknown format, or unreadable; the message
        is one line.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file or directory.")
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{path}: unknown table format {path.suffix!r}; use one of "
            f"{sorted(TABLE_SUFFIXES)} or an image folder."
        )
    if kind == "parquet":
        require_parquet()
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except (OSError, ValueError, UnicodeDecodeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path}: cannot read the file: {message}") from None


def feature_columns(frame, target: str) -> tuple[list, dict]:
    """The columns of a table that become features, and those left out, and why.

    Left out besides the label column: an index or identifier (a column named
    ``Unnamed: N``, as pandas names a header-less column; row numbers, in any
    order; a column named like ``id``, ``*_id`` or ``index`` with a different
    value in every row), and free text with a different value in at least 95%
    of the rows (one-hot encoded, it would let the network
    learn each row by heart). Text is judged on the labelled rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, with the label column among its columns.
    target : str
        The label column.

    Returns
    -------
    kept : list
        The feature columns, in the table's order.
    left_out : dict
        Each column left out, with the reason as a short phrase.
    """
    if target not in frame.columns:
        raise ValueError(
            f"no column {target!r}; the columns are {list(map(str, frame.columns))}."
        )
    labelled = frame[frame[target].notna()]
    kept, left_out = [], {}
    for column in frame.columns:
        if column == target:
            continue
        if _is_index_like(column, frame[column]):
            left_out[column] = "an index or identifier (a different value per row)"
        elif _is_unique_text(labelled[column]):
            left_out[column] = "free text (a different value in nearly every row)"
        else:
            kept.append(column)
    return kept, left_out


def _is_index_like(name, values) -> bool:
    """``Unnamed: N`` (pandas' name for a header-less column), row numbers in
    any order, or a distinct value per row in a column named like an id."""
    if re.fullmatch(r"Unnamed: \d+", str(name)):
        return True
    from pandas.api import types

    if len(values) < 3 or _holds_nested_values(values) or values.isna().any():
        return False
    if values.nunique() != len(values):
        return False
    if re.fullmatch(r"(?i)(.*[_ ])?(id|index)", str(name)):
        return True
    if not types.is_integer_dtype(values):
        return False
    steps = np.diff(np.sort(values.to_numpy()))
    return bool(np.all(steps == 1))


_UNIQUE_TEXT_SHARE = 0.95
"""A text column with at least this share of distinct values is free text."""


def _is_unique_text(values) -> bool:
    from pandas.api import types

    if not (types.is_object_dtype(values) or types.is_string_dtype(values)):
        return False
    present = values.dropna()
    if len(present) < 3 or _holds_nested_values(present):
        return False
    return present.map(str).nunique() >= _UNIQUE_TEXT_SHARE * len(present)


def table_features(frame, target: str):
    """Split a table into model-ready features and labels.

    The feature columns are those :func:`feature_columns` keeps, encoded by
    :func:`table_encoder` fitted on every labelled row (for an audit, which has
    no held-out rows; a benchmark fits the encoder on its training split only).
    Rows without a label are set aside.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, with the label column among its columns.
    target : str
        The label column.

    Returns
    -------
    X : ndarray of shape (n_labelled, n_encoded_features), float32
        The encoded features of the labelled rows.
    y : ndarray of shape (n_labelled,)
        Their labels.
    rows : ndarray of shape (n_labelled,)
        Positions in ``frame`` of the labelled rows.
    """
    features, y, rows, encoder = table_encoder(frame, target)
    return encoder.fit_transform(features).astype(np.float32), y, rows


def table_encoder(frame, target: str):
    """A table's raw feature columns and labels, with an unfitted encoder for them.

    Each numeric column is median-imputed and encoded twice: as the quantiles
    of a standard normal distribution (scikit-learn's ``QuantileTransformer``)
    and as ``arcsinh((x - median) / scale)`` (``_ArcsinhScaler``); every
    other column (strings, categories, booleans) is most-frequent-imputed and
    one-hot encoded (categories unseen in the fit encode as all zeros). Fit the
    encoder on training rows only where some rows are held out.

    Why two encodings, not standardisation: a network learns slowly from a
    column whose standardised values span tens of standard deviations
    (shuttle's reach 52 in the suite's sample), and both robust methods judge
    labels while it learns. Normal quantiles spread the dense middle of a
    column, where shuttle's classes of 50 and 171 rows differ (with standard
    scaling the methods' test recall of them was 0.00-0.24 and 0.18-0.46, with
    quantiles 0.71-1.00 and 0.56-0.96), but they squeeze the tails: every value
    at or beyond the training extremes maps to about +-5.2, and shuttle's class
    of 13 rows, which lives in one column's far tail, was never predicted. The
    arcsinh copy keeps the tails apart on a log scale (4.6 for a value 50
    scales out) and alone lost the class of 50 rows instead. With both, no
    class of shuttle was lost by either method, and their test accuracy rose
    in every setting (``benchmarks/README.md``, the suite).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, with the label column among its columns.
    target : str
        The label column.

    Returns
    -------
    features : pandas.DataFrame of shape (n_labelled, n_kept_columns)
        The kept feature columns of the labelled rows, missing cells as NaN.
    y : ndarray of shape (n_labelled,)
        Their labels.
    rows : ndarray of shape (n_labelled,)
        Positions in ``frame`` of the labelled rows.
    encoder : sklearn.compose.ColumnTransformer
        Unfitted; its output is the model-ready features (cast to float32).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    kept, left_out = feature_columns(frame, target)
    labelled = frame[target].notna().to_numpy()
    rows = np.flatnonzero(labelled)
    if len(rows) == 0:
        raise ValueError(f"the label column {target!r} has no values.")
    if not kept:
        why = "; ".join(f"{c!r}: {reason}" for c, reason in left_out.items())
        raise ValueError(
            f"the table has no feature columns besides {target!r}"
            + (f" (left out {why})." if why else ".")
        )
    features = frame[kept].iloc[rows]
    nested = [str(c) for c in features.columns if _holds_nested_values(features[c])]
    if nested:
        raise ValueError(
            f"column(s) {nested} hold lists, arrays or dicts, which cannot be "
            "features; drop or flatten them first."
        )
    numeric = [c for c in features.columns if _is_numeric(features[c])]
    other = [c for c in features.columns if c not in numeric]
    encoder = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median"),
                    FeatureUnion(
                        [
                            ("quantiles", _NormalQuantiles()),
                            ("arcsinh", _ArcsinhScaler()),
                        ]
                    ),
                ),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                other,
            ),
        ]
    )
    features = features.astype({c: object for c in other})
    # Missing cells as NaN, whatever marks them (None, pd.NA): older pandas
    # and scikit-learn would encode None as a category of its own.
    features[other] = features[other].where(features[other].notna(), np.nan)
    y = frame[target].to_numpy()[rows]
    if y.dtype == object:  # e.g. booleans read with blank cells: one type again
        y = np.asarray(y.tolist())
    return features, y, rows, encoder


class _NormalQuantiles(QuantileTransformer):
    """``QuantileTransformer(output_distribution="normal")``, quiet on small fits.

    scikit-learn warns when a fit has fewer rows than ``n_quantiles`` (1,000)
    and then uses one quantile per row, which is what a small table needs: the
    warning would only tell an auditor of a 300-row table about an internal
    detail.
    """

    def __init__(self, n_quantiles=1000, random_state=0):
        super().__init__(
            n_quantiles=n_quantiles,
            output_distribution="normal",
            random_state=random_state,
        )

    def fit(self, X, y=None):
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="n_quantiles .* is greater than", category=UserWarning
            )
            return super().fit(X, y)


class _ArcsinhScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Centre each column on its median, divide by a robust scale, take arcsinh.

    The scale is the interquartile range over 1.349 (the standard deviation,
    for normal data), or the standard deviation where the quartiles coincide
    (a column mostly one value), or 1 for a constant column. ``arcsinh`` is
    linear near 0 and logarithmic beyond (``arcsinh(z)`` is about
    ``sign(z) log(2 |z|)``), so outliers stay ordered and apart without
    dwarfing the rest: a value 1,000 scales out maps to about 7.6. A
    constant training column keeps scale 1, in its own units.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Each column's median.
    scale_ : ndarray of shape (n_features,)
        Each column's scale.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Their names, where ``X`` had string column names.
    """

    def fit(self, X, y=None):
        """Learn each column's median and scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric columns without missing values.
        y : None
            Ignored.

        Returns
        -------
        self : _ArcsinhScaler
        """
        X = validate_data(self, X, dtype=np.float64)
        self.center_ = np.median(X, axis=0)
        upper, lower = np.percentile(X, [75, 25], axis=0)
        scale = (upper - lower) / 1.349
        scale = np.where(scale > 0, scale, X.std(axis=0))
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X):
        """``arcsinh((X - center_) / scale_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric columns without missing values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.arcsinh((X - self.center_) / self.scale_)


def _holds_nested_values(column) -> bool:
    """Whether an object column holds containers (Parquet lists, structs, maps)."""
    if column.dtype != object:
        return False
    return column.map(
        lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))
    ).any()


def _is_numeric(column) -> bool:
    from pandas.api import types

    return types.is_numeric_dtype(column) and not types.is_bool_dtype(column)


def image_folder(
    path, image_size: int = 32, grayscale: bool = False, skip_corrupt: bool = False
):
    """Open an image folder (one subfolder per class), read safely.

    Symbolic-link loops are refused, each file is read once, and corrupt images
    are named before training (or skipped). Images are resized and converted to
    tensors in [0, 1] when loaded, so large folders stream from disk.

    Parameters
    ----------
    path : str or Path
        The folder; each subfolder is a class.
    image_size : int, default=32
        Side of the square the images are resized to.
    grayscale : bool, default=False
        Convert images to one grey channel.
    skip_corrupt : bool, default=False
        Leave out the images that cannot be decoded instead of raising a
        ValueError that names them.

    Returns
    -------
    torchvision.datasets.ImageFolder
        A map-style dataset of ``(image, class index)`` items, to pass to
        ``fit`` as ``X``; its ``samples`` list each item's path and label, and
        its ``skipped`` attribute the path and reason of each image left out.
    """
    from ._image_folder import SafeImageFolder

    return SafeImageFolder(path, image_size, grayscale, skip_corrupt)


# -- CIFAR-10N -------------------------------------------------------------------
CIFAR10N_LABEL_SETS = {
    "aggre": "aggre_label",
    "random1": "random_label1",
    "random2": "random_label2",
    "random3": "random_label3",
    "worse": "worse_label",
}
"""CIFAR-10N's human label sets, by short name, and their keys in the label file."""

CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds only numpy arrays and builtin containers.

    The CIFAR-10 batches are pickles; unpickling an arbitrary pickle can run
    code. These files need nothing but numpy's array reconstruction (and, for
    files written by Python 3 with protocol 2, ``_codecs.encode`` for bytes), so
    every other global is refused.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR-10 batch holds only "
                "arrays and lists"
            )
        if module.startswith("numpy"):
            # numpy 2 moved numpy.core to numpy._core: a pickle names the one of
            # the numpy that wrote it; import the one of the numpy installed.
            module = re.sub(r"^numpy\._?core", _NUMPY_CORE, module)
        return super().find_class(module, name)


_NUMPY_CORE = (
    "numpy._core" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core"
)
"""The module that holds numpy's array reconstruction in the installed numpy."""


def _read_cifar_pickle(path: Path) -> dict:
    if not path.is_file():
        raise ValueError(
            f"{path}: no such file; a CIFAR-10 python-version folder holds "
            f"{', '.join(CIFAR10_TRAIN_BATCHES)}, test_batch and batches.meta."
        )
    try:
        with open(path, "rb") as handle:
            content = _ArrayUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise ValueError(f"{path}: not a CIFAR-10 python batch: {error}") from None
    if not isinstance(content, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch (not a dict).")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in content.items()}


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _read_cifar_pickle(path)
    missing = {"data", "labels"} - set(batch)
    if missing:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (no {sorted(missing)}).")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"{path}: images must be uint8 rows of 3072 values (3 x 32 x 32); got "
            f"{data.dtype} of shape {data.shape}."
        )
    if len(labels) != len(data):
        raise ValueError(f"{path}: {len(data)} images but {len(labels)} labels.")
    return data.reshape(-1, 3, 32, 32), labels


def _cifar_folder(path: Path) -> Path:
    """The folder with the batches: ``path`` or its ``cifar-10-batches-py``."""
    nested = path / "cifar-10-batches-py"
    return nested if nested.is_dir() else path


def _unpickle_torch_archive(path: Path):
    """What ``torch.save`` wrote to a zip archive, if it is arrays and
    containers only, read by :class:`_ArrayUnpickler` (for torch before 2.5,
    whose ``torch.load`` cannot admit numpy's globals one by one)."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(names) != 1:
            raise ValueError("not a torch archive (no data.pkl)")
        with archive.open(names[0]) as handle:
            # No persistent_load: a pickle that refers to tensor storage fails.
            return _ArrayUnpickler(handle).load()


def _load_human_labels(label_file: Path) -> dict[str, np.ndarray]:
    """CIFAR-10N's label file, loaded without running pickled code."""
    import torch

    if not label_file.is_file():
        raise ValueError(
            f"{label_file}: no such file; CIFAR-10N's labels are the file "
            "CIFAR-10_human.pt."
        )
    try:
        if hasattr(torch.serialization, "safe_globals"):  # torch >= 2.5
            # weights_only=True admits tensors and containers; numpy arrays
            # need these four globals, named as the file names them.
            reconstruct = importlib.import_module(
                f"{_NUMPY_CORE}.multiarray"
            )._reconstruct
            allowed = [
                (reconstruct, "numpy.core.multiarray._reconstruct"),
                reconstruct,
                np.ndarray,
                np.dtype,
                type(np.dtype(np.int64)),
            ]
            with torch.serialization.safe_globals(allowed):
                content = torch.load(label_file, weights_only=True, map_location="cpu")
        else:
            content = _unpickle_torch_archive(label_file)
    except (
        pickle.UnpicklingError,
        RuntimeError,
        EOFError,
        ValueError,
        zipfile.BadZipFile,
    ) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"{label_file}: not a CIFAR-10N label file, or it holds more than "
            f"arrays: {first}"
        ) from None
    if not isinstance(content, dict):
        raise ValueError(f"{label_file}: not a CIFAR-10N label file (not a dict).")
    wanted = {"clean_label", *CIFAR10N_LABEL_SETS.values()}
    missing = sorted(wanted - set(content))
    if missing:
        raise ValueError(f"{label_file}: not a CIFAR-10N label file; no {missing}.")
    return {k: np.asarray(content[k], dtype=np.int64).ravel() for k in sorted(wanted)}


def load_cifar10n(cifar_dir, label_file) -> Bunch:
    """Load the user's copy of CIFAR-10 with CIFAR-10N's human labels.

    Reads the official "CIFAR-10 python version" batches (``data_batch_1`` to
    ``data_batch_5``, ``test_batch``, ``batches.meta``) and CIFAR-10N's label file
    ``CIFAR-10_human.pt`` (Wei et al., ICLR 2022). Nothing is downloaded, and the
    files are unpickled without running code: only numpy arrays and builtin
    containers are admitted.

    Parameters
    ----------
    cifar_dir : str or Path
        The ``cifar-10-batches-py`` folder, or the folder that contains it.
    label_file : str or Path
        ``CIFAR-10_human.pt``.

    Returns
    -------
    Bunch
        A scikit-learn ``Bunch`` with these keys:

        data : ndarray of shape (50000, 3, 32, 32), uint8
            The training images, in the official order.
        target : ndarray of shape (50000,)
            Their clean labels.
        human_labels : dict of str to ndarray of shape (50000,)
            The human label sets by name (``CIFAR10N_LABEL_SETS``): ``"aggre"``
            (about 9% wrong), ``"random1"`` to ``"random3"`` (about 17-18%),
            ``"worse"`` (about 40%).
        test_data : ndarray of shape (10000, 3, 32, 32), uint8
            The official test images.
        test_target : ndarray of shape (10000,)
            Their labels.
        target_names : list of str
            The class names, e.g. ``"airplane"``.
        DESCR : str
            A description of the data.

    Raises
    ------
    ValueError
        A file is missing or malformed, or the label file does not line up with
        the images (its clean labels must equal the batches' labels).
    """
    folder = _cifar_folder(Path(cifar_dir))
    parts = [_read_cifar_batch(folder / name) for name in CIFAR10_TRAIN_BATCHES]
    data = np.concatenate([images for images, _ in parts])
    target = np.concatenate([labels for _, labels in parts])
    test_data, test_target = _read_cifar_batch(folder / "test_batch")
    meta = _read_cifar_pickle(folder / "batches.meta")
    names = [
        n.decode() if isinstance(n, bytes) else str(n)
        for n in meta.get("label_names", [])
    ]
    labels = _load_human_labels(Path(label_file))
    for key, values in labels.items():
        if len(values) != len(data):
            raise ValueError(
                f"{label_file}: {key} has {len(values)} labels but the CIFAR-10 "
                f"folder {folder} has {len(data)} training images."
            )
    if not np.array_equal(labels["clean_label"], target):
        mismatched = int(np.sum(labels["clean_label"] != target))
        raise ValueError(
            f"{label_file}: its clean labels differ from the images' labels in "
            f"{mismatched} of {len(target)} rows; the label file and the CIFAR-10 "
            "folder must be in the official training order."
        )
    n_classes = int(target.max()) + 1
    if len(names) != n_classes:
        names = [str(c) for c in range(n_classes)]
    human = {short: labels[key] for short, key in CIFAR10N_LABEL_SETS.items()}
    rates = ", ".join(f"{k} {np.mean(v != target):.1%}" for k, v in human.items())
    return Bunch(
        data=data,
        target=target,
        human_labels=human,
        test_data=test_data,
        test_target=test_target,
        target_names=names,
        DESCR=(
            f"CIFAR-10N: {len(data)} CIFAR-10 training images (3x32x32, uint8) "
            f"with human labels (wrong: {rates}) and {len(test_data)} test images "
            "with clean labels. Wei et al., Learning with Noisy Labels Revisited: "
            "A Study Using Real-World Human Annotations, ICLR 2022."
        ),
    )
