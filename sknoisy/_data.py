"""Datasets and batch iterators whose batches carry each sample's row index.

Both methods keep per-sample state (wrong-event counters, soft labels) indexed by
the sample's row in the data passed to ``fit``. Every training batch therefore
carries the original row numbers next to the features::

    ({"X": features, "sample_idx": rows}, targets)

The row numbers survive shuffling and ``torch.utils.data.Subset`` (skorch's
validation split), because they are read from the dataset, never derived from
batch positions.

For in-memory arrays :class:`TensorBatchIterator` slices whole batches out of one
tensor instead of collating single samples, which is what makes a skorch fit
about as fast as a hand-written torch loop on small models.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from skorch.helper import SliceDataset
from torch.utils.data import Dataset, Subset

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
        return {FEATURES: item_input(self.dataset[i]), SAMPLE_INDEX: i}, target


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
    """

    def __init__(
        self,
        dataset,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
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

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_rows // self.batch_size
        return math.ceil(self.n_rows / self.batch_size)

    def _epoch_order(self) -> torch.Tensor | None:
        """Rows in this epoch's order, on the device (None: all rows in order)."""
        if self.shuffle:
            perm = torch.randperm(self.n_rows, generator=self.generator)
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
            if order is None:
                idx = torch.arange(start, stop, device=self.device)
                xb = self.X[start:stop]
                yb = None if self.y is None else self.y[start:stop]
            else:
                idx = order[start:stop]
                xb = self.X[idx]
                yb = None if self.y is None else self.y[idx]
            yield {FEATURES: xb, SAMPLE_INDEX: idx}, yb
