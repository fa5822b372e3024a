"""The skorch net every sknoisy estimator trains: batches that know their rows.

:class:`IndexedNet` is a ``NeuralNetClassifier`` that owns the indexed training
step. A sample's row travels in one direction:

1. the estimator hands the net an indexed dataset (:mod:`sknoisy._data`), whose
   batches are ``({"X": x, "sample_idx": rows}, y)``;
2. :meth:`IndexedNet.train_step_single` unpacks each training batch once into
   ``(x, rows, y)`` on the device;
3. the method's one hook, :meth:`IndexedNet.training_loss`, computes the loss
   from them and updates its per-sample state by ``rows``.

A method's per-sample state is declared once, by :meth:`IndexedNet.sample_state`:
the net allocates it when training begins, and the estimator releases it after
reading its fitted attributes. ``get_loss`` stays side-effect-free, as skorch
treats it; ``infer`` strips the rows, so any ``forward(x)`` works.

In-memory data are batched by tensor slicing (:class:`TensorBatchIterator`), and
the batch loop never synchronises with the host.

Two things ride on the epoch loop: with a :class:`~sknoisy._checkpoint.FitCheckpoint`
the net saves itself after every epoch (:meth:`IndexedNet.notify`) and a restored
net finishes its fit (:meth:`IndexedNet.resume`); in a data-parallel fit
(:mod:`sknoisy._distributed`) each process trains its shard of every batch and
the per-sample state declared by :meth:`IndexedNet.epoch_state` is combined
after every training epoch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, PrintLog
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_tensor
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ._data import (
    FEATURES,
    SAMPLE_INDEX,
    TensorBatchIterator,
    as_indexed,
    as_pixels,
    tensor_rows,
)
from ._distributed import (
    ShardedBatchSampler,
    all_rows_touched,
    broadcast_buffers,
    check_same_fit,
    check_shardable,
    combine_rows,
    global_batch_rows,
    shard_bounds,
    sum_over_processes,
)


class TrainingInterrupted(Exception):
    """The user interrupted training (skorch would swallow a KeyboardInterrupt)."""


def call_views(views, x, classes=None):
    """``views(x)``, or ``views(x, classes=classes)`` where classes are given:
    class-conditional views draw each row's views within its class."""
    return views(x) if classes is None else views(x, classes=classes)


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
    channel_mean, channel_std : sequence of float or None, default=None
        Standardise image batches per channel, ``(x - mean) / std``, after any
        views and before the module; None passes them as they are. 8-bit images
        are always scaled to pixel values in [0, 1] first.
    channels_last : bool, default=False
        Keep the module's 4-D weights and each image batch in channels-last
        memory format (for convolutional networks: faster on CPUs and GPUs).
    data_parallel : DataParallel or None, default=None
        This process's place in a data-parallel fit (:mod:`sknoisy._distributed`);
        None trains in this process alone.
    """

    print_log_hidden: tuple[str, ...] = ("train_batch_count", "valid_batch_count")
    """History keys left out of the ``verbose`` table: long values (the mixture's
    parameters), and keys recorded in some epochs only, which would shift the
    table's columns. They stay in ``history``."""

    def __init__(
        self,
        *args,
        seed=None,
        mixed_precision=False,
        channel_mean=None,
        channel_std=None,
        channels_last=False,
        data_parallel=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.seed = seed
        self.mixed_precision = mixed_precision
        self.channel_mean = channel_mean
        self.channel_std = channel_std
        self.channels_last = channels_last
        self.data_parallel = data_parallel

    def initialize_module(self):
        super().initialize_module()
        if self.channels_last:
            self.module_.to(memory_format=torch.channels_last)
        if self.data_parallel is not None and torch.device(self.device).type == "cuda":
            # BatchNorm over the global batch, as one process computes it.
            self.module_ = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.module_)
        return self

    checkpoint = None
    """The fit's :class:`~sknoisy._checkpoint.FitCheckpoint` (set by the
    estimator for a fit with ``checkpoint_dir``), saved after every epoch."""

    transient_state = (
        "_channel_cache",  # device tensors, rebuilt on demand
        "_train_generator",  # a checkpoint saves its state itself
        "checkpoint",
        "_parallel_module",  # rebuilt by a resumed fit
    )
    """Attributes no pickle of the net keeps (an estimator's or a checkpoint's)."""

    def __getstate__(self):
        state = super().__getstate__()
        for name in self.transient_state:
            state.pop(name, None)
        return state

    def get_default_callbacks(self):
        return [
            (name, PrintLog(keys_ignored=list(self.print_log_hidden)))
            if name == "print_log"
            else (name, callback)
            for name, callback in super().get_default_callbacks()
        ]

    # -- data -----------------------------------------------------------------
    def get_dataset(self, X, y=None):
        return as_indexed(X, y)

    def _shuffle_generator(self, training: bool) -> torch.Generator:
        """The data order's generator: seeded by ``seed``, or, for the training
        data of a resumed fit, in the state its checkpoint saved."""
        generator = torch.Generator()
        resumed = vars(self).pop("_resumed_generator_state", None) if training else None
        if resumed is not None:
            generator.set_state(resumed)
        elif self.seed is None:
            generator.seed()
        else:
            generator.manual_seed(int(self.seed))
        if training:
            self._train_generator = generator
        return generator

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        batch_size = kwargs.pop("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        iterator = self.iterator_train if training else self.iterator_valid
        shuffle = kwargs.get("shuffle", False)
        drop_last = kwargs.get("drop_last", False)
        # Validation and prediction run whole on every process.
        parallel = self.data_parallel if training else None
        if training:
            self._train_batches = (len(dataset), batch_size)
        if parallel is not None:
            check_shardable(len(dataset), batch_size, drop_last, parallel.world_size)
        if (
            iterator is DataLoader
            and tensor_rows(dataset) is not None
            and not (set(kwargs) - {"shuffle", "drop_last"})
        ):
            return TensorBatchIterator(
                dataset,
                batch_size=batch_size,
                shuffle=shuffle,
                drop_last=drop_last,
                generator=self._shuffle_generator(training) if shuffle else None,
                device=self.device,
                parallel=parallel,
            )
        if iterator is DataLoader:
            if shuffle and "generator" not in kwargs:
                kwargs["generator"] = self._shuffle_generator(training)
            if torch.device(self.device).type == "cuda":
                kwargs.setdefault("pin_memory", True)
            if parallel is not None:
                sampler = ShardedBatchSampler(
                    len(dataset),
                    batch_size,
                    kwargs.pop("shuffle", False),
                    kwargs.pop("drop_last", False),
                    kwargs.get("generator"),
                    parallel,
                )
                return iterator(dataset, batch_sampler=sampler, **kwargs)
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

    def standardize(self, x: torch.Tensor) -> torch.Tensor:
        """A batch as the module receives it: floats, images standardised (and
        channels-last if the net is)."""
        x = as_pixels(x)
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.channel_mean is None:
            return x
        # Moved to the device once, not per batch.
        cache = vars(self).setdefault("_channel_cache", {})
        key = (x.device, x.dtype)
        if key not in cache:
            cache[key] = tuple(
                torch.as_tensor(v, dtype=x.dtype, device=x.device)[:, None, None]
                for v in (self.channel_mean, self.channel_std)
            )
        mean, std = cache[key]
        return (x - mean) / std

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping) and SAMPLE_INDEX in x:
            x = self.to_device(x[FEATURES])
        x = self.standardize(x)
        # In a data-parallel training step the forward pass runs through
        # DistributedDataParallel, whose backward averages the gradients.
        module = vars(self).get("_step_module") or self.module_
        if not self.mixed_precision:
            return module(x, **fit_params)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            logits = module(x, **fit_params)
        return logits.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # The module returns logits; the criterion is CrossEntropyLoss.
        return self.criterion_(y_pred, self.to_device(y_true).long())

    # -- the training run -------------------------------------------------------
    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop, telling early stopping from a user's interrupt.

        skorch's ``EarlyStopping`` ends training by raising ``KeyboardInterrupt``,
        which ``partial_fit`` swallows, as it swallows a real Ctrl-C. Here early
        stopping ends the loop normally (``stopped_early_`` is set) and a real
        interrupt propagates as :class:`TrainingInterrupted`.
        """
        self.stopped_early_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt as error:
            if not self._early_stopping_fired():
                raise TrainingInterrupted from error
            self.stopped_early_ = True
            return self

    def resume(self, X, y=None, **fit_params):
        """Finish a fit restored from its checkpoint: the epochs left, then the
        end of training.

        The net comes from the checkpoint with its per-sample state, callbacks
        and history, so ``on_train_begin``, which would allocate them afresh,
        is not run again.
        """
        if self.data_parallel is not None:
            self._start_data_parallel(self.targets_)
        self.fit_loop(X, y, epochs=self.max_epochs - len(self.history), **fit_params)
        self.notify("on_train_end", X=X, y=y)
        return self

    def notify(self, method_name, **cb_kwargs):
        super().notify(method_name, **cb_kwargs)
        # After the net's own epoch end and every callback's: the saved state is
        # the one the next epoch starts from.
        if method_name == "on_epoch_end" and self.checkpoint is not None:
            self.checkpoint.save(self)

    def detach_checkpoint(self) -> None:
        """End the fit's checkpointing (the fitted net saves nothing more)."""
        vars(self).pop("checkpoint", None)
        vars(self).pop("_resumed_generator_state", None)

    def _early_stopping_fired(self) -> bool:
        return any(
            isinstance(callback, EarlyStopping)
            and getattr(callback, "misses_", 0) >= callback.patience
            for _, callback in self.callbacks_
        )

    # -- the indexed training step ---------------------------------------------
    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x, rows, y = self.unpack_training_batch(batch)
        self.trained_[rows] = True
        if self.data_parallel is None:
            loss, logits = self.training_loss(x, rows, y, **fit_params)
            loss.backward()
            return {"loss": loss, "y_pred": logits}
        self._epoch_rows[rows] = True
        vars(self)["_step_module"] = self._parallel_module
        try:
            loss, logits = self.training_loss(x, rows, y, **fit_params)
        finally:
            vars(self).pop("_step_module")
        # The shard's share of the global batch's mean loss; the processes'
        # gradients are averaged, hence the world size.
        share = len(rows) / self.global_batch_rows()
        (loss * (share * self.data_parallel.world_size)).backward()
        return {"loss": loss * share, "y_pred": logits}

    def global_batch_rows(self) -> int:
        """The rows of the global batch being trained on (a host-side count)."""
        n_rows, batch_size = self._train_batches
        return global_batch_rows(self._batch_number, n_rows, batch_size)

    def draw_views(self, views, x, classes=None):
        """``views(x)``, or ``views(x, classes=classes)``, with the random draws
        of a one-process fit.

        In a data-parallel fit each process draws the views of the whole
        global batch (its own rows in their places, zeros elsewhere, and class
        -1 there) and keeps its shard, so that every row gets the draws one
        process would give it. ``views`` must treat rows independently, and
        draw the same random numbers whatever the classes, as sknoisy's views
        do.
        """
        if self.data_parallel is None:
            return call_views(views, x, classes)
        start, stop = shard_bounds(self.global_batch_rows(), self.data_parallel)
        whole = x.new_zeros((self.global_batch_rows(), *x.shape[1:]))
        whole[start:stop] = x
        if classes is not None:
            whole_classes = classes.new_full((self.global_batch_rows(),), -1)
            whole_classes[start:stop] = classes
            classes = whole_classes
        drawn = call_views(views, whole, classes)
        if isinstance(drawn, torch.Tensor):
            return drawn[start:stop]
        return tuple(view[start:stop] for view in drawn)

    def unpack_training_batch(self, batch):
        """Split a training batch into ``(x, rows, y)`` on the device."""
        Xi, yi = unpack_data(batch)
        x = self.to_device(Xi[FEATURES])
        rows = self.to_device(Xi[SAMPLE_INDEX]).long()
        return x, rows, self.to_device(yi).long()

    def training_loss(self, x, rows, y, **fit_params):
        """The method's loss on one training batch (hook).

        Called once per batch, in train mode; a method updates its per-sample
        state for ``rows`` here. This default is plain cross-entropy.

        Parameters
        ----------
        x : Tensor of shape (batch_size, ...)
            The batch's features, on the device.
        rows : Tensor of shape (batch_size,)
            Their rows in the training data.
        y : Tensor of shape (batch_size,)
            Their given (encoded) labels.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        loss : Tensor
            Scalar loss to back-propagate.
        logits : Tensor of shape (batch_size, n_classes)
            The logits the loss was computed from (callbacks see them as
            ``y_pred``).
        """
        logits = self.infer(x, **fit_params)
        return self.get_loss(logits, y, training=True), logits

    def restart_optimizer(self) -> None:
        """Start the optimizer afresh for a new phase, in place.

        Its state (Adam's moments, SGD's momentum buffers) becomes a new
        optimizer's (built as skorch builds it, so an optimizer that sets its
        state up front, as Adagrad does in older torch, gets it); the object
        stays, so a callback bound to it (a user's ``LRScheduler``) goes on
        scheduling the optimizer that trains, and the rates stay where they
        are.
        """
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.get_all_learnable_params()
        )
        self.optimizer_.state = self.optimizer(*args, **kwargs).state

    def anneal_lr(self, after_epoch: int) -> float:
        """Set this epoch's learning rates on a cosine down to 0.

        The methods' second phases (IDO's stage 2, ALR's refinement) anneal
        over the epochs after ``after_epoch``: the first of them trains at each
        parameter group's rate when the phase began (kept as the group's
        ``initial_lr``, as torch's schedulers keep it), and the rates would
        reach 0 after ``max_epochs``. Computed from the history's length, so a
        resumed fit continues the same curve. Call it from ``on_epoch_begin``.

        Parameters
        ----------
        after_epoch : int
            The last epoch before the annealed phase (1-based, as skorch
            counts epochs; 0 anneals from the first epoch).

        Returns
        -------
        float
            The rate set on the first parameter group.
        """
        step = len(self.history) - after_epoch - 1
        total = max(self.max_epochs - after_epoch, 1)
        factor = 0.5 * (1 + math.cos(math.pi * step / total))
        for group in self.optimizer_.param_groups:
            group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor
        return self.optimizer_.param_groups[0]["lr"]

    # -- per-sample state -------------------------------------------------------
    def epoch_state(self) -> list[torch.Tensor]:
        """The per-sample tensors a training epoch updates by row (hook).

        In a data-parallel fit they are combined over the processes at the end
        of every training epoch, before the method's epoch logic
        (:func:`sknoisy._distributed.combine_rows`). Extend the list with the
        method's tensors (wrong events, online predictions, soft labels).
        """
        return [self.trained_]

    def sample_state(self, targets: torch.Tensor, dataset) -> dict:
        """The method's per-sample training state, freshly allocated (hook).

        Called when training begins. Every entry becomes an attribute of the net
        for the fit (e.g. ``self.wrong_events_``) and is released by
        :meth:`release_sample_state` once the estimator has read its results.
        Every net also keeps ``targets_`` and ``trained_`` (whether a row has been
        in a training batch: rows held out by ``train_split`` never are).

        Parameters
        ----------
        targets : Tensor of shape (n_samples,)
            The encoded given labels, on the device, in the integer type the
            estimator encodes them in: the smallest that holds them
            (:func:`sknoisy._data.compact_codes`; also kept as ``targets_``).
        dataset : IndexedTensorDataset or IndexedDataset
            The training data (its ``features`` are None for a streamed one).
        """
        return {}

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # In the estimator's compact integer type (:func:`compact_codes`).
        targets = torch.as_tensor(np.asarray(y), device=self.device)
        trained = torch.zeros(len(targets), dtype=torch.bool, device=self.device)
        state = {
            "targets_": targets,
            "trained_": trained,
            **self.sample_state(targets, X),
        }
        vars(self).update(state)
        self.sample_state_names_ = tuple(state)
        if self.data_parallel is not None:
            self._start_data_parallel(targets)

    def _params_digest(self) -> int:
        """A digest of the net's plain parameters (numbers, strings, tuples),
        the same on every process of one fit."""
        skipped = {"device", "data_parallel", "verbose"}
        plain = sorted(
            (name, repr(value))
            for name, value in self.get_params(deep=False).items()
            if name not in skipped
            and isinstance(value, (int, float, str, bool, tuple, type(None)))
        )
        return int(hashlib.blake2b(repr(plain).encode(), digest_size=7).hexdigest(), 16)

    def _start_data_parallel(self, targets: torch.Tensor) -> None:
        """Check that every process has the same data; wrap the module for the
        training forward passes (not an attribute skorch would register)."""
        check_same_fit(len(targets), targets, self._params_digest(), self.device)
        self._epoch_rows = torch.zeros_like(self.trained_)
        index = torch.device(self.device).index
        cuda = torch.device(self.device).type == "cuda"
        vars(self)["_parallel_module"] = DistributedDataParallel(
            self.module_, device_ids=[index] if cuda else None
        )

    def _snapshot(self) -> dict:
        """A copy of the module's state on its device (no host transfer)."""
        return {k: v.detach().clone() for k, v in self.module_.state_dict().items()}

    def release_sample_state(self) -> None:
        """Drop the per-sample training state (device memory; keeps pickles small)."""
        for name in getattr(self, "sample_state_names_", ()):
            vars(self).pop(name, None)
        vars(self).pop("sample_state_names_", None)
        for name in ("_epoch_rows", "_parallel_module"):
            vars(self).pop(name, None)

    # skorch records every batch's loss with ``loss.item()``, a host
    # synchronisation per batch that only this loop can avoid; the override keeps
    # skorch's notifications and history, with one transfer per epoch.
    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one epoch; batch losses reach the history in one host transfer."""
        if iterator is None:
            return
        parallel = training and self.data_parallel is not None
        # One buffer on the device, not a tensor per batch: many small
        # allocations that live through the epoch fragment the host's heap.
        losses = torch.empty(len(iterator), device=self.device)
        number = -1
        for number, batch in enumerate(iterator):
            self._batch_number = number
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses[number] = step["loss"].detach()
            batch_size = (
                get_len(batch[0])
                if isinstance(batch, (tuple, list))
                else (get_len(batch))
            )
            if parallel:
                batch_size = self.global_batch_rows()  # the loss is the batch's
            self.history.record_batch(prefix + "_batch_size", batch_size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if parallel:
            self._combine_epoch_state()
        losses = losses[: number + 1]
        if len(losses):
            if parallel:  # each process holds its shard's share of each batch
                sum_over_processes(losses)
            values = losses.cpu().tolist()
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

    def _combine_epoch_state(self) -> None:
        """Give every process every row's state from the process that trained it."""
        mine = self._epoch_rows
        touched = all_rows_touched(mine)
        for state in self.epoch_state():
            combine_rows(state, mine, touched)
        mine.zero_()
        # BatchNorm's running statistics: rank 0's, so that every process
        # validates, snapshots and predicts with the same model (on CUDA the
        # layers are SyncBatchNorm, and the statistics agree already).
        broadcast_buffers(self.module_)
