"""Datasets and the tensor-slicing batch iterator."""

import numpy as np
import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from sknoisy._data import (
    FEATURES,
    SAMPLE_INDEX,
    IndexedDataset,
    IndexedTensorDataset,
    TensorBatchIterator,
    tensor_rows,
)


def make_dataset(n=10):
    X = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    y = torch.arange(n) % 3
    return IndexedTensorDataset(X, y)


def collect(iterator):
    rows, xs, ys = [], [], []
    for batch_X, batch_y in iterator:
        rows.append(batch_X[SAMPLE_INDEX])
        xs.append(batch_X[FEATURES])
        ys.append(batch_y)
    return torch.cat(rows), torch.cat(xs), torch.cat(ys)


def test_items_carry_their_row():
    data = make_dataset()
    item_X, item_y = data[7]
    assert item_X[SAMPLE_INDEX] == 7
    assert torch.equal(item_X[FEATURES], data.X[7])
    assert item_y == data.y[7]


def test_indexed_dataset_wraps_any_dataset_with_encoded_targets():
    base = TensorDataset(torch.randn(5, 3), torch.arange(5) + 10)
    item_X, item_y = IndexedDataset(base, targets=[4, 3, 2, 1, 0])[3]
    assert item_X[SAMPLE_INDEX] == 3 and item_y == 1, "encoded targets, not raw"
    assert torch.equal(item_X[FEATURES], base[3][0])
    _, placeholder = IndexedDataset(base)[3]
    assert placeholder == 0, "inference needs no target"


def test_indexed_dataset_of_bare_inputs():
    base = torch.utils.data.Subset(torch.randn(4, 2), [0, 1, 2, 3])
    item_X, _ = IndexedDataset(base, targets=[0, 1, 0, 1])[2]
    assert item_X[FEATURES].shape == (2,)
    with pytest.raises(ValueError, match="items"):
        IndexedDataset(base, targets=[0, 1])


def test_in_order_batches_cover_all_rows():
    data = make_dataset(10)
    iterator = TensorBatchIterator(data, batch_size=4)
    assert len(iterator) == 3
    rows, X, y = collect(iterator)
    assert rows.tolist() == list(range(10))
    assert torch.equal(X, data.X) and torch.equal(y, data.y)


def test_shuffled_batches_keep_features_with_their_rows():
    data = make_dataset(50)
    iterator = TensorBatchIterator(
        data, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    first, X, y = collect(iterator)
    second, _, _ = collect(iterator)
    assert sorted(first.tolist()) == list(range(50))
    assert not torch.equal(first, second), "a new permutation every epoch"
    assert torch.equal(X, data.X[first]) and torch.equal(y, data.y[first])


def test_same_generator_seed_same_order():
    data = make_dataset(30)

    def order(seed):
        generator = torch.Generator().manual_seed(seed)
        return collect(TensorBatchIterator(data, 7, shuffle=True, generator=generator))[
            0
        ]

    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))


def test_subset_rows_are_original_rows():
    data = make_dataset(20)
    subset = Subset(Subset(data, list(range(5, 20))), [0, 3, 4])
    base, rows = tensor_rows(subset)
    assert base is data and rows.tolist() == [5, 8, 9]
    got, X, _ = collect(TensorBatchIterator(subset, batch_size=2, shuffle=True))
    assert sorted(got.tolist()) == [5, 8, 9]
    assert torch.equal(X, data.X[got])


def test_drop_last_and_inference_batches():
    data = IndexedTensorDataset(torch.zeros(10, 2))
    iterator = TensorBatchIterator(data, batch_size=4, drop_last=True)
    batches = list(iterator)
    assert len(batches) == len(iterator) == 2
    assert batches[0][1] is None, "no targets at inference"


def test_rejects_other_datasets():
    with pytest.raises(TypeError, match="IndexedTensorDataset"):
        TensorBatchIterator(TensorDataset(torch.zeros(3, 1)), batch_size=2)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="rows"):
        IndexedTensorDataset(torch.zeros(3, 1), torch.zeros(4))


def test_tensor_rows_none_for_generic_dataset():
    assert tensor_rows(TensorDataset(torch.zeros(2, 1))) is None
    assert np.all(tensor_rows(make_dataset(3))[1] is None)


def test_dataset_items_of_another_shape_are_named_by_index():
    from torch.utils.data import Dataset

    from sknoisy import CrossEntropyClassifier

    class Ragged(Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            side = 8 if i != 17 else 9
            return torch.rand(1, side, side), i % 2

    with pytest.raises(ValueError, match=r"Item 17 .* shape \(1, 9, 9\)"):
        CrossEntropyClassifier(max_epochs=1, module__width=4).fit(Ragged())
