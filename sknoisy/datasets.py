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
    """Load an embedded data set by name, or a CSV file with a target column.

    Parameters
    ----------
    name : str
        One of ``EMBEDDED`` (``"digits"`` is 1797 8x8 handwritten digits, 10
        classes), or the path of a CSV file.
    target : str, default=None
        The CSV column holding the labels; required for a CSV file. Every other
        column must be numeric.

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
            f"A CSV data set needs its target column (--target) for {path}."
        )
    import pandas as pd

    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise ValueError(
            f"{path} has no column {target!r}; its columns are {list(frame.columns)}."
        )
    features = frame.drop(columns=[target])
    non_numeric = [
        c for c in features.columns if not np.issubdtype(features[c].dtype, np.number)
    ]
    if non_numeric:
        raise ValueError(f"{path}: non-numeric feature columns {non_numeric}.")
    return features.to_numpy(dtype=float), frame[target].to_numpy()
