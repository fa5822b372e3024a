"""The skorch net every sknoisy estimator trains: batches that know their rows.

:class:`IndexedNet` is a ``NeuralNetClassifier`` with three changes:

* batches carry their sample rows (see :mod:`sknoisy._data`), which ``infer``
  strips before the module sees the input, so any ``forward(x)`` works;
* in-memory data are batched by tensor slicing (:class:`TensorBatchIterator`)
  instead of per-sample ``__getitem__`` and collation;
* the batch loop never synchronises with the host: skorch's ``loss.item()`` per
  batch is replaced by one transfer of all batch losses at the end of the epoch.

Method nets subclass it and override ``get_loss``, ``train_step_single`` and the
epoch hooks (``on_train_begin``, ``on_epoch_begin``, ``on_epoch_end``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from ._data import (
    FEATURES,
    SAMPLE_INDEX,
    IndexedDataset,
    IndexedTensorDataset,
    TensorBatchIterator,
    is_dataset_input,
    tensor_rows,
)


class IndexedNet(NeuralNetClassifier):
    """``NeuralNetClassifier`` whose batches carry their original row indices.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`skorch.NeuralNetClassifier`.
    seed : int or None, default=None
        Seeds the training data order (the shuffling generator).
    mixed_precision : bool, default=False
        Run the module's forward passes under bfloat16 autocast; logits, losses
        and per-sample state stay float32.
    """

    def __init__(self, *args, seed=None, mixed_precision=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed = seed
        self.mixed_precision = mixed_precision

    # -- data -----------------------------------------------------------------
    def get_dataset(self, X, y=None):
        if isinstance(X, (IndexedTensorDataset, IndexedDataset)):
            return X
        if is_dataset_input(X):
            return IndexedDataset(X, None if y is None else np.asarray(y, np.int64))
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        y = None if y is None else torch.as_tensor(np.asarray(y, dtype=np.int64))
        return IndexedTensorDataset(X, y)

    def _shuffle_generator(self) -> torch.Generator:
        generator = torch.Generator()
        if self.seed is None:
            generator.seed()
        else:
            generator.manual_seed(int(self.seed))
        return generator

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        batch_size = kwargs.pop("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        iterator = self.iterator_train if training else self.iterator_valid
        shuffle = kwargs.get("shuffle", False)
        if (
            iterator is DataLoader
            and tensor_rows(dataset) is not None
            and not (set(kwargs) - {"shuffle", "drop_last"})
        ):
            return TensorBatchIterator(
                dataset,
                batch_size=batch_size,
                shuffle=shuffle,
                drop_last=kwargs.get("drop_last", False),
                generator=self._shuffle_generator() if shuffle else None,
                device=self.device,
            )
        if iterator is DataLoader:
            if shuffle and "generator" not in kwargs:
                kwargs["generator"] = self._shuffle_generator()
            if torch.device(self.device).type == "cuda":
                kwargs.setdefault("pin_memory", True)
        return iterator(dataset, batch_size=batch_size, **kwargs)

    # -- batches --------------------------------------------------------------
    def to_device(self, data) -> torch.Tensor:
        """Move a batch tensor to the device without blocking the host.

        Batches of in-memory data are already there; batches from a
        ``DataLoader`` come from (pinned) host memory.
        """
        if isinstance(data, torch.Tensor):
            return data.to(self.device, non_blocking=True)
        return to_tensor(data, device=self.device)

    def batch_rows(self, X) -> torch.Tensor:
        """The training rows of a batch's input, as a long tensor on the device."""
        return self.to_device(X[SAMPLE_INDEX]).long()

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping) and SAMPLE_INDEX in x:
            x = self.to_device(x[FEATURES])
        if not self.mixed_precision:
            return super().infer(x, **fit_params)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            logits = super().infer(x, **fit_params)
        return logits.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # The module returns logits; the criterion is CrossEntropyLoss.
        return self.criterion_(y_pred, self.to_device(y_true).long())

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one epoch; batch losses reach the history in one host transfer."""
        if iterator is None:
            return
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            batch_size = (
                get_len(batch[0])
                if isinstance(batch, (tuple, list))
                else (get_len(batch))
            )
            self.history.record_batch(prefix + "_batch_size", batch_size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            values = torch.stack(losses).float().cpu().tolist()
            if training and not np.isfinite(values).all():
                raise ValueError(
                    f"The training loss became non-finite in epoch "
                    f"{len(self.history)}; training diverged. Lower the learning "
                    f"rate (lr={self.lr}) or scale the features."
                )
            batches = self.history[-1]["batches"][-len(values) :]
            for row, value in zip(batches, values, strict=True):
                row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(losses))

    # -- helpers for method nets ----------------------------------------------
    sample_state_attributes: tuple[str, ...] = ()
    """Per-sample training state of a method net, dropped after ``fit``."""

    def release_sample_state(self) -> None:
        """Drop per-sample training state (device memory; keeps pickles small)."""
        for name in self.sample_state_attributes:
            vars(self).pop(name, None)

    def unpack_training_batch(self, batch):
        """Split a training batch into ``(x, rows, y)`` on the device."""
        Xi, yi = unpack_data(batch)
        x = self.to_device(Xi[FEATURES])
        return x, self.batch_rows(Xi), self.to_device(yi).long()
