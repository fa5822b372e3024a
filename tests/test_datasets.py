"""Embedded data sets, tables and image folders."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sknoisy.datasets import (
    feature_columns,
    image_folder,
    load_dataset,
    read_table,
    table_encoder,
    table_features,
)

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
    assert X.dtype == np.float32 and X.shape == (4, 4), "1 numeric twice + 2 one-hot"
    np.testing.assert_allclose(X[:, 0].mean(), 0, atol=1e-6)  # normal scores
    np.testing.assert_allclose(np.median(X[:, 1]), 0, atol=1e-6)  # median-centred
    np.testing.assert_array_equal(X[:, 2:].sum(axis=1), 1)
    with pytest.raises(ValueError, match="no column 'target'"):
        table_features(frame, "target")


def test_index_and_unique_text_columns_are_left_out_and_named():
    index = "an index or identifier (a different value per row)"
    text = "free text (a different value in nearly every row)"
    frame = pd.DataFrame(
        {
            "Unnamed: 0": [3, 9, 4, 1, 0, 2],  # pandas' name for an index column
            "row": [14, 11, 12, 10, 13, 15],  # row numbers, shuffled
            "customer_id": [7, 21, 14, 35, 28, 42],  # named like an id, distinct
            "name": ["ann", "bob", "cy", "di", "ed", "flo"],  # unique free text
            "colour": ["red", "red", "blue", "blue", "red", None],
            "size": [5, 3, 8, 1, 2, 7],
            "note": ["x", "y", "z", None, "w", "v"],  # unique among labelled rows
            "label": [0, 1, 0, 1, 0, None],
        }
    )
    kept, left_out = feature_columns(frame, "label")
    assert kept == ["colour", "size"]
    assert left_out == {
        "Unnamed: 0": index,
        "row": index,
        "customer_id": index,
        "name": text,
        "note": text,
    }
    X, _, _ = table_features(frame, "label")
    assert X.shape == (5, 4), "size twice + colour's two one-hot columns"
    with pytest.raises(ValueError, match=r"no feature columns besides 'label' \(left"):
        table_features(frame[["Unnamed: 0", "name", "label"]], "label")
    # Free text where a few rows share a value is still free text; a category
    # with many rows per value is not.
    rng = np.random.default_rng(0)
    notes = [f"note {i}" for i in range(100)]
    notes[1] = notes[2] = "no comment"
    wide = pd.DataFrame(
        {
            "note": notes,
            "city": rng.choice(["a", "b", "c", "d"], 100),
            "label": np.arange(100) % 2,
        }
    )
    assert feature_columns(wide, "label") == (["city"], {"note": text})


def test_tables_from_files(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 1, 0, 1]}).to_csv(path)
    X, y = load_dataset(str(path), target="y")
    # to_csv wrote the index as a column, "Unnamed: 0": not a feature;
    # "x" is encoded twice.
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


# -- CIFAR-10N, in small synthetic files of the official formats ------------------
def write_cifar(root, per_batch=4, seed=0):
    """A ``cifar-10-batches-py`` folder and a CIFAR-10N label file, tiny."""
    import pickle

    import torch

    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    clean = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, per_batch)
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in labels],
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        if name != "test_batch":
            clean.append(labels)
    meta = {b"label_names": [f"class{c}".encode() for c in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    clean = np.concatenate(clean).astype(np.int64)
    human = {"clean_label": clean}
    for key in ("aggre_label", "random_label1", "random_label2", "random_label3"):
        human[key] = np.where(rng.random(len(clean)) < 0.2, (clean + 1) % 10, clean)
    human["worse_label"] = (clean + 1) % 10
    torch.save(human, root / "CIFAR-10_human.pt")
    return folder, root / "CIFAR-10_human.pt", human


def test_cifar10n_loads_images_and_every_label_set(tmp_path):
    from sknoisy.datasets import load_cifar10n

    folder, label_file, human = write_cifar(tmp_path)
    for where in (tmp_path, folder):  # the folder, or the one that holds it
        data = load_cifar10n(where, label_file)
        assert data.data.shape == (20, 3, 32, 32) and data.data.dtype == np.uint8
        assert data.test_data.shape == (4, 3, 32, 32)
        np.testing.assert_array_equal(data.target, human["clean_label"])
        assert set(data.human_labels) == {"aggre", "random1", "random2", "random3"} | {
            "worse"
        }
        np.testing.assert_array_equal(data.human_labels["worse"], human["worse_label"])
        assert data.target_names[3] == "class3"
    # The channel planes: the first 1024 values of a row are the red plane.
    import pickle

    raw = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="bytes")
    np.testing.assert_array_equal(data.data[0, 0].ravel(), raw[b"data"][0, :1024])


def test_cifar10n_errors_name_the_problem(tmp_path):
    import torch

    from sknoisy.datasets import load_cifar10n

    folder, label_file, human = write_cifar(tmp_path)
    with pytest.raises(ValueError, match=r"CIFAR-10_human\.pt"):
        load_cifar10n(folder, tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="data_batch_1: no such file"):
        load_cifar10n(tmp_path / "elsewhere", label_file)
    short = {k: v[:-1] for k, v in human.items()}
    torch.save(short, tmp_path / "short.pt")
    with pytest.raises(ValueError, match="has 19 labels but"):
        load_cifar10n(folder, tmp_path / "short.pt")
    shuffled = {k: v[::-1].copy() for k, v in human.items()}
    torch.save(shuffled, tmp_path / "shuffled.pt")
    with pytest.raises(ValueError, match="official training order"):
        load_cifar10n(folder, tmp_path / "shuffled.pt")
    torch.save({"clean_label": human["clean_label"]}, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match="aggre_label"):
        load_cifar10n(folder, tmp_path / "partial.pt")


class _Payload:
    """A pickle that would create a file when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_cifar10n_files_cannot_run_code(tmp_path):
    import pickle

    import torch

    from sknoisy.datasets import load_cifar10n

    folder, label_file, human = write_cifar(tmp_path)
    marker = tmp_path / "pwned"
    hostile = {b"data": _Payload(marker), b"labels": [0]}
    (folder / "data_batch_2").write_bytes(pickle.dumps(hostile, protocol=2))
    with pytest.raises(ValueError, match="refusing to load"):
        load_cifar10n(folder, label_file)
    assert not marker.exists()
    folder, label_file, human = write_cifar(tmp_path / "second")
    torch.save({**human, "extra": _Payload(marker)}, tmp_path / "hostile.pt")
    with pytest.raises(ValueError, match="holds more than arrays"):
        load_cifar10n(folder, tmp_path / "hostile.pt")
    assert not marker.exists()


def test_tables_that_cannot_be_features_or_labels_are_named():
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": [None, None, None]})
    with pytest.raises(ValueError, match="'label' has no values"):
        table_features(frame, "label")
    frame = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0], "tags": [[1], [2], [3]], "label": [0, 1, 0]}
    )
    with pytest.raises(ValueError, match=r"\['tags'\] hold lists"):
        table_features(frame, "label")
    # booleans read with a blank cell: object dtype, one label type again
    frame = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0, 4.0], "label": [True, None, False, True]}
    )
    _, y, rows = table_features(frame, "label")
    assert y.dtype == bool and rows.tolist() == [0, 2, 3]


def test_cifar10n_label_file_without_torch_s_safe_globals(tmp_path, monkeypatch):
    """torch before 2.5 has no safe_globals: the label file's pickle is read by
    the same restricted unpickler as the batches, from the torch archive."""
    import torch

    from sknoisy.datasets import load_cifar10n

    monkeypatch.delattr(torch.serialization, "safe_globals", raising=False)
    folder, label_file, human = write_cifar(tmp_path)
    data = load_cifar10n(folder, label_file)
    np.testing.assert_array_equal(data.human_labels["worse"], human["worse_label"])
    marker = tmp_path / "pwned"
    torch.save({**human, "extra": _Payload(marker)}, tmp_path / "hostile.pt")
    with pytest.raises(ValueError, match="holds more than arrays"):
        load_cifar10n(folder, tmp_path / "hostile.pt")
    assert not marker.exists()
    torch.save({**human, "tensor": torch.zeros(3)}, tmp_path / "tensors.pt")
    with pytest.raises(ValueError, match="holds more than arrays"):
        load_cifar10n(folder, tmp_path / "tensors.pt")
    (tmp_path / "not_a_zip.pt").write_bytes(b"plain bytes")
    with pytest.raises(ValueError, match="not a CIFAR-10N label file"):
        load_cifar10n(folder, tmp_path / "not_a_zip.pt")


def test_numeric_columns_encode_as_normal_quantiles_and_arcsinh_without_warnings():
    # A heavy-tailed column (standardised, its outliers would sit hundreds of
    # standard deviations out) becomes normal scores, in the same order, and
    # arcsinh-scaled values, which keep the tails apart.
    rng = np.random.default_rng(0)
    heavy = rng.standard_t(1, size=60) * 1000
    frame = pd.DataFrame({"heavy": heavy, "label": np.arange(60) % 2})
    features, _, _, encoder = table_encoder(frame, "label")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 60 rows: fewer than 1,000 quantiles
        quantiles, arcsinh = encoder.fit_transform(features).T
    assert np.abs(quantiles).max() < 5.3 and 0.8 < quantiles.std() < 1.5
    np.testing.assert_array_equal(np.argsort(quantiles), np.argsort(heavy))
    np.testing.assert_array_equal(np.argsort(arcsinh), np.argsort(heavy))
    # New values beyond the training extremes: all one quantile score, but
    # ordered and apart in the arcsinh copy, on a log scale.
    far = pd.DataFrame({"heavy": heavy.max() * np.array([2.0, 4.0])})
    quantiles, arcsinh = encoder.transform(far).T
    assert quantiles[0] == quantiles[1]
    assert arcsinh[0] < arcsinh[1] < arcsinh[0] + 1


def test_arcsinh_scaler_by_hand():
    from sknoisy.datasets import _ArcsinhScaler

    X = np.array([[0.0, 0, 0, 0, 9], [5.0] * 5, [2.0, 4, 6, 8, 10]]).T
    scaler = _ArcsinhScaler().fit(X)
    # Column 0: quartiles coincide, so its standard deviation is the scale;
    # column 1 is constant (scale 1); column 2: IQR 4 over 1.349.
    np.testing.assert_allclose(scaler.center_, [0.0, 5.0, 6.0])
    np.testing.assert_allclose(scaler.scale_, [X[:, 0].std(), 1.0, 4 / 1.349])
    np.testing.assert_allclose(
        scaler.transform(X), np.arcsinh((X - scaler.center_) / scaler.scale_)
    )
    assert np.all(scaler.transform(X)[:, 1] == 0)
    with pytest.raises(ValueError, match="3 features"):
        scaler.transform(X[:, :2])
