"""Data sets for demos and benchmarks: scikit-learn's embedded ones, or a CSV file.

Nothing is downloaded: the embedded sets ship with scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn import datasets as sk_datasets

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
        are encoded as in :func:`table_features` (numeric ones standardised,
        others one-hot encoded); rows without a label are skipped.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float
    y : ndarray of shape (n_samples,)
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
    """Read a CSV, TSV or Parquet file into a DataFrame, with one-line errors."""
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


def table_features(frame, target: str):
    """Split a table into model-ready features and labels.

    Numeric columns are median-imputed and standardised; every other column
    (strings, categories, booleans) is most-frequent-imputed and one-hot encoded.
    Rows without a label are set aside.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str
        The label column.

    Returns
    -------
    X : ndarray of shape (n_labelled, n_encoded_features), float32
    y : ndarray of shape (n_labelled,)
    rows : ndarray of shape (n_labelled,)
        Positions in ``frame`` of the labelled rows.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if target not in frame.columns:
        raise ValueError(
            f"no column {target!r}; the columns are {list(map(str, frame.columns))}."
        )
    labelled = frame[target].notna().to_numpy()
    rows = np.flatnonzero(labelled)
    features = frame.drop(columns=[target]).iloc[rows]
    if features.shape[1] == 0:
        raise ValueError(f"the table has no feature columns besides {target!r}.")
    numeric = [c for c in features.columns if _is_numeric(features[c])]
    other = [c for c in features.columns if c not in numeric]
    encoder = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
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
    X = encoder.fit_transform(features).astype(np.float32)
    y = frame[target].to_numpy()[rows]
    return X, y, rows


def _is_numeric(column) -> bool:
    from pandas.api import types

    return types.is_numeric_dtype(column) and not types.is_bool_dtype(column)


def image_folder(path, image_size: int = 32, grayscale: bool = False):
    """An image folder (one subfolder per class) as a torchvision ``ImageFolder``.

    Images are resized to ``image_size`` x ``image_size`` and converted to tensors
    in [0, 1] when loaded, so large folders stream from disk.
    """
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    path = Path(path)
    steps = [transforms.Resize((image_size, image_size))]
    if grayscale:
        steps.append(transforms.Grayscale())
    steps.append(transforms.ToTensor())
    try:
        return ImageFolder(path, transform=transforms.Compose(steps))
    except (FileNotFoundError, OSError) as error:
        raise ValueError(f"{path}: not an image folder: {error}") from None
