"""Embedded data sets, tables and image folders."""

import numpy as np
import pandas as pd
import pytest

from sknoisy.datasets import image_folder, load_dataset, read_table, table_features

from .conftest import write_image_folder


def test_embedded_sets_by_name():
    X, y = load_dataset("digits")
    assert X.shape == (1797, 64) and len(np.unique(y)) == 10
    with pytest.raises(ValueError, match="Unknown data set"):
        load_dataset("mnist")


def test_table_features_encode_numeric_and_categorical_columns():
    frame = pd.DataFrame(
        {
            "size": [1.0, 2.0, np.nan, 4.0, 5.0],
            "colour": ["red", "blue", "red", None, "blue"],
            "label": ["a", "b", None, "a", "b"],
        }
    )
    X, y, rows = table_features(frame, "label")
    np.testing.assert_array_equal(rows, [0, 1, 3, 4], err_msg="unlabelled: set aside")
    np.testing.assert_array_equal(y, ["a", "b", "a", "b"])
    assert X.dtype == np.float32 and X.shape == (4, 3), "1 numeric + 2 one-hot"
    np.testing.assert_allclose(X[:, 0].mean(), 0, atol=1e-6)
    np.testing.assert_array_equal(X[:, 1:].sum(axis=1), 1)
    with pytest.raises(ValueError, match="no column 'target'"):
        table_features(frame, "target")


def test_tables_from_files(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 1, 0, 1]}).to_csv(path)
    X, y = load_dataset(str(path), target="y")
    assert X.shape == (4, 2) and list(y) == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="target column"):
        load_dataset(str(path))
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(ValueError, match="unknown table format"):
        read_table(tmp_path / "data.xlsx")
    with pytest.raises(ValueError, match="no such file"):
        read_table(tmp_path / "missing.csv")


def test_image_folder(tmp_path):
    root = write_image_folder(tmp_path / "images", per_class=2)
    data = image_folder(root, image_size=8, grayscale=True)
    assert data.classes == ["digit_0", "digit_1", "digit_2"]
    x, _ = data[0]
    assert tuple(x.shape) == (1, 8, 8) and 0 <= float(x.min()) <= float(x.max()) <= 1
    with pytest.raises(ValueError, match="not an image folder"):
        image_folder(tmp_path / "nothing")
