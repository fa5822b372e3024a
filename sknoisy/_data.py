"""Training data as sknoisy sees it: validated, in float32 (8-bit images as they
are), and indexed by row.

Both methods keep per-sample state (wrong-event counters, soft labels) indexed by
the sample's row in the data passed to ``fit``. Every training batch therefore
carries the original row numbers next to the features::

    ({"X": features, "sample_idx": rows}, targets)

The row numbers survive shuffling and ``torch.utils.data.Subset`` (skorch's
validation split), because they are read from the dataset, never derived from
batch positions.

Whether the input is an array (validated and held in memory) or a torch
``Dataset`` (streamed) is decided here, once per input, by :func:`validate_input`
for the estimators and :func:`as_indexed` for the net; everything downstream
works on the two indexed datasets, which answer the same questions
(``sample_shape``, ``first_inputs``, ``features``).

For in-memory arrays :class:`TensorBatchIterator` slices whole batches out of one
tensor instead of collating single samples, which is what makes a skorch fit
about as fast as a hand-written torch loop on small models.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)
from skorch.helper import SliceDataset
from torch.utils.data import Dataset, Subset

from ._distributed import shard_bounds

ROW_CHUNK = 65536
"""Rows per chunk where a per-epoch figure is computed over every row, so that
its temporaries take a fixed amount of memory, not one per row."""

SAMPLE_INDEX = "sample_idx"
"""Key of the row indices in a batch's input dictionary."""

FEATURES = "X"
"""Key of the features in a batch's input dictionary."""


def is_dataset_input(X) -> bool:
    """Whether ``X`` is a dataset to stream, not an array to validate and copy.

    True for torch ``Dataset`` objects and skorch's ``SliceDataset`` (the
    scikit-learn-indexable view of a dataset used for cross-validation).
    """
    return isinstance(X, (Dataset, SliceDataset))


def item_input(item):
    """The input of a dataset item: ``x`` of an ``(x, y)`` pair, or the bare item."""
    return item[0] if isinstance(item, (tuple, list)) else item


class IndexedTensorDataset(Dataset):
    """In-memory dataset whose items carry their own row index.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        Features.
    y : torch.Tensor of shape (n_samples,) or None
        Encoded targets, or None at inference.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None = None):
        if y is not None and len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}.")
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        target = self.y[i] if self.y is not None else torch.zeros((), dtype=torch.long)
        return {FEATURES: self.X[i], SAMPLE_INDEX: i}, target

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample's features."""
        return tuple(self.X.shape[1:])

    @property
    def features(self) -> torch.Tensor:
        """All features, in memory."""
        return self.X

    def first_inputs(self, n: int) -> torch.Tensor:
        """The features of the first ``n`` samples, as one batch."""
        return self.X[:n]

    def with_targets(self, y) -> IndexedTensorDataset:
        """The same features (not copied) with encoded targets ``y`` (not
        copied either; batches convert them to int64)."""
        return IndexedTensorDataset(self.X, torch.as_tensor(np.asarray(y)))


class IndexedDataset(Dataset):
    """Wrap any map-style dataset so that its items carry their row index.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Items are ``(x, y)`` pairs (e.g. torchvision's ``ImageFolder``) or bare
        inputs ``x`` (e.g. skorch's ``SliceDataset(dataset, idx=0)``).
    targets : array-like of shape (n_samples,) or None, default=None
        Encoded targets, used instead of the dataset's own labels; None at
        inference (a placeholder 0 is returned).
    """

    def __init__(self, dataset: Dataset, targets=None):
        if targets is not None and len(targets) != len(dataset):
            raise ValueError(f"X has {len(dataset)} items but y has {len(targets)}.")
        self.dataset = dataset
        self.targets = targets

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i):
        target = 0 if self.targets is None else self.targets[i]
        return {FEATURES: self._input(i), SAMPLE_INDEX: i}, target

    def _input(self, i):
        """Item ``i``'s input, checked against the shape of the first one read."""
        x = item_input(self.dataset[i])
        shape = tuple(getattr(x, "shape", ()))
        expected = vars(self).setdefault("_shape", shape)
        if shape != expected:
            raise ValueError(
                f"Item {i} of the dataset has an input of shape {shape}, but the "
                f"first item read had {expected}; every input must have the same "
                "shape (e.g. resize images in the dataset's transform)."
            )
        return x

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input, read from the first item; inputs must be tensors."""
        x = item_input(self.dataset[0])
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"The dataset's inputs must be tensors, got {type(x).__name__}; add "
                "a transform that converts them (e.g. "
                "torchvision.transforms.ToTensor())."
            )
        if x.ndim == 0:
            raise ValueError(
                "The dataset's inputs are scalars; they need a feature axis."
            )
        return tuple(x.shape)

    @property
    def features(self) -> None:
        """None: a streamed dataset does not hold its features in memory."""
        return None

    def first_inputs(self, n: int) -> torch.Tensor:
        """The inputs of the first ``n`` items, stacked into one batch."""
        return self.inputs_at(range(n))

    def inputs_at(self, rows) -> torch.Tensor:
        """The inputs of the items at ``rows``, stacked into one batch."""
        return torch.stack([self._input(int(i)) for i in rows])

    def with_targets(self, y) -> IndexedDataset:
        """The same dataset with encoded targets ``y``."""
        return IndexedDataset(self.dataset, np.asarray(y))


INDEXED_DATASETS = (IndexedTensorDataset, IndexedDataset)


def as_indexed(X, y=None):
    """Any input the net receives, as an indexed dataset (indexed ones as they are).

    Parameters
    ----------
    X : array-like, Dataset, or an indexed dataset
    y : array-like of shape (n_samples,) or None
        Encoded targets; ignored for a dataset that is already indexed.
    """
    if isinstance(X, INDEXED_DATASETS):
        return X
    if is_dataset_input(X):
        data = IndexedDataset(X)
    else:
        X = np.asarray(X)
        if not (X.dtype == np.uint8 and X.ndim == 4):  # 8-bit images stay 8-bit
            X = X.astype(np.float32)
        data = IndexedTensorDataset(torch.as_tensor(X))
    return data if y is None else data.with_targets(y)


def validate_input(estimator, X, y=None, *, reset: bool):
    """Validate an estimator's ``X`` (and ``y`` when fitting); index it by row.

    Arrays are checked by scikit-learn's ``validate_data`` (which records
    ``n_features_in_`` and ``feature_names_in_`` when ``reset``) and cast to
    float32; a Dataset is kept as it is, its labels taken from ``y``, its
    ``targets`` or its items.

    Parameters
    ----------
    estimator : sknoisy estimator
    X : array-like of shape (n_samples, ...) or Dataset
    y : array-like of shape (n_samples,) or None
        The given labels (``fit`` only).
    reset : bool
        True in ``fit``; False at prediction, where the samples' shape must match
        ``estimator.input_shape_``.

    Returns
    -------
    data : IndexedTensorDataset or IndexedDataset
        Without targets.
    y : ndarray of shape (n_samples,) or None
        The labels, not yet encoded (``fit`` only).
    """
    if is_dataset_input(X):
        if reset:
            y = dataset_targets(X, y)
        elif len(X) == 0:
            raise ValueError("X is an empty dataset.")
        data = IndexedDataset(X)
    else:
        # 8-bit images stay 8-bit (a quarter of the memory); the net converts
        # each batch to pixel values in [0, 1] on the device.
        uint8_images = getattr(X, "dtype", None) == np.uint8 and np.ndim(X) == 4
        checked = validate_data(
            estimator,
            X,
            y if reset else "no_validation",
            reset=reset,
            dtype=np.uint8 if uint8_images else (np.float32, np.float64),
            ensure_min_samples=2 if reset else 1,
            allow_nd=True,
        )
        X, y = checked if reset else (checked, None)
        X = np.ascontiguousarray(X) if uint8_images else as_float32(X)
        data = IndexedTensorDataset(torch.as_tensor(X))
    if not reset:
        _check_sample_shape(estimator, data.sample_shape)
    return data, y


def as_pixels(x: torch.Tensor) -> torch.Tensor:
    """A batch as floats: 8-bit images ``(n, C, H, W)`` scaled to pixel values in
    [0, 1], other 8-bit inputs converted as they are; floats unchanged."""
    if x.dtype != torch.uint8:
        return x
    return x.float().div_(255) if x.ndim == 4 else x.float()


CHANNEL_SAMPLE = 1024
"""Items of a Dataset read to estimate its images' channel statistics."""


def channel_statistics(data) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per-channel mean and std of an indexed image dataset's pixel values.

    In-memory images are read whole (in chunks); a streamed Dataset by
    :data:`CHANNEL_SAMPLE` items spread evenly over it, so that fitting never
    reads a large Dataset twice.

    Returns
    -------
    mean, std : ndarray of shape (channels,)
    low, high : float
        The smallest and largest pixel value seen.
    """
    features = data.features
    if features is not None:
        chunks = torch.split(features, 4096)
        n_rows = len(features)
    else:
        n_rows = min(len(data), CHANNEL_SAMPLE)
        picks = np.linspace(0, len(data) - 1, n_rows).round().astype(int)
        chunks = [data.inputs_at(picks)]
    total = total_sq = 0.0
    low, high = np.inf, -np.inf
    for chunk in chunks:
        pixels = as_pixels(chunk).double()
        total = total + pixels.sum(dim=(0, 2, 3))
        total_sq = total_sq + pixels.square().sum(dim=(0, 2, 3))
        low = min(low, float(pixels.min()))
        high = max(high, float(pixels.max()))
    count = n_rows * int(np.prod(chunks[0].shape[2:]))
    mean = (total / count).numpy()
    std = np.sqrt(np.maximum((total_sq / count).numpy() - mean**2, 0.0))
    return mean, np.maximum(std, 1e-6), low, high


def _check_sample_shape(estimator, shape) -> None:
    if tuple(shape) != tuple(estimator.input_shape_):
        raise ValueError(
            f"X's samples have shape {tuple(shape)}, but {type(estimator).__name__} "
            f"was fitted on samples of shape {tuple(estimator.input_shape_)}."
        )


def as_float32(X: np.ndarray) -> np.ndarray:
    """``X`` in float32, the network's precision; values too large are an error."""
    with np.errstate(over="ignore"):
        X32 = np.asarray(X, dtype=np.float32)
    if not np.isfinite(X32).all():
        raise ValueError(
            "X has values too large for float32 (the network's precision); "
            "rescale the features, e.g. with sklearn.preprocessing.StandardScaler."
        )
    return X32


def compact_codes(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Class codes in the smallest signed integer type that holds them and a
    code -1 ("none"): per-sample labels and predictions then take 1 byte each
    up to 127 classes, 2 up to 32,767."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_classes <= np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes.astype(np.int64)


def dataset_targets(dataset, y) -> np.ndarray:
    """The labels of a Dataset input: ``y``, its ``targets``, or its items' labels."""
    if y is None:
        y = getattr(dataset, "targets", None)
    if y is None:
        first = dataset[0] if len(dataset) else None
        if not isinstance(first, (tuple, list)) or len(first) < 2:
            raise ValueError(
                "y is required: the dataset has no `targets` attribute and its "
                "items are not (x, y) pairs."
            )
        y = [dataset[i][1] for i in range(len(dataset))]
    y = column_or_1d(np.asarray(y), warn=True)
    check_consistent_length(dataset, y)
    if len(y) < 2:
        raise ValueError(f"Found {len(y)} sample(s) while a minimum of 2 is required.")
    return y


def tensor_rows(dataset) -> tuple[IndexedTensorDataset, torch.Tensor | None] | None:
    """Resolve a (possibly nested) ``Subset`` of an :class:`IndexedTensorDataset`.

    Returns
    -------
    (base, rows) or None
        The in-memory dataset and the rows of it that ``dataset`` exposes (None
        for all rows), or None when ``dataset`` is not tensor-backed.
    """
    rows = None
    while isinstance(dataset, Subset):
        subset_rows = torch.as_tensor(dataset.indices, dtype=torch.long)
        rows = subset_rows if rows is None else subset_rows[rows]
        dataset = dataset.dataset
    if not isinstance(dataset, IndexedTensorDataset):
        return None
    return dataset, rows


class TensorBatchIterator:
    """Iterate over an in-memory dataset in batches made by tensor indexing.

    Drop-in replacement for skorch's ``DataLoader`` on
    :class:`IndexedTensorDataset` (or a ``Subset`` of one). The data are moved to
    ``device`` once, when the iterator is made; the shuffling permutation is drawn
    once per epoch on the CPU and moved in one copy, so the batch loop itself does
    no host-device transfer.

    Parameters
    ----------
    dataset : IndexedTensorDataset or torch.utils.data.Subset
        The data.
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Draw a new permutation at the start of every epoch.
    drop_last : bool, default=False
        Drop the last incomplete batch.
    generator : torch.Generator or None, default=None
        Source of the shuffling permutation; seeds the order reproducibly.
    device : str or torch.device, default="cpu"
        Where the batches are produced.
    parallel : DataParallel or None, default=None
        In a data-parallel fit, yield only this process's shard of each batch
        (:func:`sknoisy._distributed.shard_bounds`); the batches themselves,
        and their order, are those of one process.
    """

    def __init__(
        self,
        dataset,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
        parallel=None,
    ):
        resolved = tensor_rows(dataset)
        if resolved is None:
            raise TypeError(
                "TensorBatchIterator needs an IndexedTensorDataset or a Subset of "
                f"one, got {type(dataset).__name__}."
            )
        base, rows = resolved
        self.X = base.X.to(device)
        self.y = None if base.y is None else base.y.to(device)
        self.rows = rows
        self.n_rows = len(base) if rows is None else len(rows)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.device = device
        self.parallel = parallel

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_rows // self.batch_size
        return math.ceil(self.n_rows / self.batch_size)

    def _epoch_order(self) -> torch.Tensor | None:
        """Rows in this epoch's order, on the device (None: all rows in order)."""
        if self.shuffle:
            # int32 (half the memory of int64), the same permutation.
            dtype = torch.int32 if self.n_rows < 2**31 else torch.int64
            perm = torch.randperm(self.n_rows, generator=self.generator, dtype=dtype)
            order = perm if self.rows is None else self.rows[perm]
        elif self.rows is not None:
            order = self.rows
        else:
            return None
        return order.to(self.device, non_blocking=True)

    def __iter__(self) -> Iterator[tuple[dict, torch.Tensor | None]]:
        order = self._epoch_order()
        for b in range(len(self)):
            start = b * self.batch_size
            stop = min(start + self.batch_size, self.n_rows)
            if self.parallel is not None:  # this process's part of the batch
                first, last = shard_bounds(stop - start, self.parallel)
                start, stop = start + first, start + last
            if order is None:
                idx = torch.arange(start, stop, device=self.device)
                xb = self.X[start:stop]
                yb = None if self.y is None else self.y[start:stop]
            else:
                idx = order[start:stop]
                xb = self.X[idx]
                yb = None if self.y is None else self.y[idx]
            yield {FEATURES: xb, SAMPLE_INDEX: idx}, yb
