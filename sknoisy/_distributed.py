"""Data-parallel training over processes: torch.distributed, launched by torchrun.

Every process runs the same script and calls ``fit(X, y)`` on the same data.
The processes then train one model together, as one process would on the same
global batches:

* **Batches.** Every process draws the same permutation of the rows (the data
  order's generator is seeded alike), cuts it into the same global batches of
  ``batch_size`` rows, and trains on its own contiguous shard of each
  (:func:`shard_bounds`). No row is repeated: the last global batch is split as
  it is, where ``DistributedSampler`` would pad it with repeats.
* **Gradients.** The training forward pass runs through
  ``DistributedDataParallel``, which averages the gradients over the processes
  in the backward pass. Each process scales its shard's loss by its share of
  the global batch, so the averaged gradient is that of the global batch's mean
  loss.
* **Views.** IDO's views are drawn for the whole global batch on every process
  and cut to the shard, so that the random draws are those of one process.
* **Per-sample state.** Within an epoch a process updates only its own rows'
  wrong events, online predictions and soft labels, and no row's update reads
  another row's state. At the end of every training epoch, before the methods'
  epoch logic (Label Wave, the mixture), :func:`combine_rows` gives every
  process every row's state from the process that trained it: one collective
  per state tensor per epoch. The mixture, the phases and the fitted attributes
  are then the same on every process.

The process group is the one the script initialised, or one initialised here
from torchrun's environment (``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR``): the
``gloo`` backend on CPU, ``nccl`` on CUDA.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import BatchSampler, RandomSampler, SequentialSampler


@dataclass(frozen=True)
class DataParallel:
    """This process's place in a data-parallel fit.

    Parameters
    ----------
    rank : int
        The process's rank, ``0 .. world_size - 1``.
    world_size : int
        The number of processes training together (at least 2).
    local_rank : int
        The process's rank on its machine (its GPU, on CUDA).
    """

    rank: int
    world_size: int
    local_rank: int = 0


def data_parallel(setting, device) -> DataParallel | None:
    """The data-parallel context of a fit, or None for a one-process fit.

    Parameters
    ----------
    setting : "auto" or False
        ``"auto"`` joins the process group the script initialised, or one
        that torchrun's environment describes (``WORLD_SIZE`` > 1); False
        trains in this process alone.
    device : str or torch.device
        The fit's device: decides the backend of a group initialised here.
    """
    if setting is False or not dist.is_available():
        return None
    if not dist.is_initialized():
        # A child process (a joblib or Dask worker of a launched script)
        # inherits torchrun's environment but is no rank of its own.
        child = multiprocessing.parent_process() is not None
        if child or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return None
        cuda = torch.device(device).type == "cuda"
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    world_size = dist.get_world_size()
    if world_size <= 1:
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    return DataParallel(dist.get_rank(), world_size, local_rank)


def process_device(device, parallel: DataParallel | None) -> str | torch.device:
    """The device of this process: ``"cuda"`` without an index means the
    process's own GPU (``cuda:LOCAL_RANK``) in a data-parallel fit."""
    resolved = torch.device(device)
    if parallel is None or resolved.type != "cuda" or resolved.index is not None:
        return device
    return f"cuda:{parallel.local_rank}"


def shard_bounds(n_rows: int, parallel: DataParallel) -> tuple[int, int]:
    """``(start, stop)`` of this process's contiguous shard of ``n_rows`` rows.

    The first ``n_rows % world_size`` shards have one row more, as
    ``torch.tensor_split`` cuts; a shard is empty when the batch has fewer rows
    than there are processes.
    """
    size, extra = divmod(n_rows, parallel.world_size)
    start = parallel.rank * size + min(parallel.rank, extra)
    return start, start + size + (parallel.rank < extra)


def global_batch_rows(batch: int, n_rows: int, batch_size: int) -> int:
    """The rows of global batch ``batch`` (from 0) of an epoch over ``n_rows``."""
    if batch_size == -1:
        batch_size = n_rows
    return min(batch_size, n_rows - batch * batch_size)


def check_shardable(n_rows: int, batch_size: int, drop_last: bool, world_size: int):
    """Raise a ValueError, before training, when a global batch would leave a
    process without rows (the last one, with fewer rows than processes)."""
    size = n_rows if batch_size == -1 else batch_size
    if min(size, n_rows) < world_size:
        raise ValueError(
            f"batch_size={batch_size} gives batches of {min(size, n_rows)} row(s), "
            f"too few to give each of the {world_size} processes one; batch_size "
            "is the global batch, split over the processes."
        )
    last = n_rows % size
    if last and not drop_last and last < world_size:
        raise ValueError(
            f"The last batch of each epoch has {last} row(s) ({n_rows} rows, "
            f"batch_size={batch_size}), too few to give each of the "
            f"{world_size} processes one. Choose another batch_size, or pass "
            "iterator_train__drop_last=True."
        )


class ShardedBatchSampler:
    """This process's shard of every global batch, for a ``DataLoader``.

    It draws the index stream a one-process ``DataLoader`` draws (the same
    sampler on the same generator, seeded alike on every process) and cuts
    each batch to the process's shard: the global batches are those of a
    one-process fit, and no row is repeated.

    Parameters
    ----------
    n_rows : int
        Rows of the dataset.
    batch_size : int
        Rows per global batch (-1: all).
    shuffle, drop_last : bool
        As for ``DataLoader``.
    generator : torch.Generator or None
        The data order's generator (the loader keeps it too, for its workers'
        base seed, as a one-process loader does).
    parallel : DataParallel
        This process's place.
    """

    def __init__(self, n_rows, batch_size, shuffle, drop_last, generator, parallel):
        rows = range(n_rows)
        sampler = (
            RandomSampler(rows, generator=generator)
            if shuffle
            else SequentialSampler(rows)
        )
        size = n_rows if batch_size == -1 else batch_size
        self.batches = BatchSampler(sampler, size, drop_last)
        self.parallel = parallel

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for rows in self.batches:
            start, stop = shard_bounds(len(rows), self.parallel)
            yield rows[start:stop]


def check_same_fit(n_rows: int, labels: torch.Tensor, params: int, device) -> None:
    """Raise a ValueError unless every process fits the same parameters
    (``params``, a digest) on the same number of rows and the same labels."""
    labels = labels.long().cpu()
    positions = torch.arange(len(labels)) % 1_000_003 + 1
    signature = torch.tensor(
        [n_rows, int(((labels + 1) * positions).sum()), params],
        dtype=torch.long,
        device=device,
    )
    gathered = [torch.zeros_like(signature) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, signature)
    differ = [
        what
        for k, what in enumerate(("rows", "labels", "parameters"))
        if len({int(g[k]) for g in gathered}) > 1
    ]
    if differ:
        raise ValueError(
            "The processes of a data-parallel fit passed different data or "
            f"parameters to fit: their {' and '.join(differ)} differ. Every process "
            "must call fit on the same estimator with the same X and y."
        )


def combine_rows(state: torch.Tensor, mine: torch.Tensor, touched: torch.Tensor):
    """Every row's state from the process that updated it, in place.

    Parameters
    ----------
    state : Tensor of shape (n_samples, ...)
        This process's copy: its own rows updated in the epoch, the others as
        they were at its start (the same on every process).
    mine : Tensor of bool, shape (n_samples,)
        The rows this process trained on in the epoch.
    touched : Tensor of bool, shape (n_samples,)
        The rows any process trained on (each by exactly one).
    """
    mask = mine.view(-1, *([1] * (state.ndim - 1)))
    dtype = state.dtype
    # gloo reduces neither bools nor integers narrower than 32 bits.
    narrow = (torch.bool, torch.int8, torch.uint8, torch.int16)
    work = state.to(torch.int32) if dtype in narrow else state
    owned = torch.where(mask, work, torch.zeros((), dtype=work.dtype))
    dist.all_reduce(owned)
    untouched = ~touched.view_as(mask)
    combined = torch.where(untouched, work, owned)
    state.copy_(combined.to(dtype))


def all_rows_touched(mine: torch.Tensor) -> torch.Tensor:
    """The rows any process trained on in the epoch (one collective)."""
    count = mine.to(torch.int32)
    dist.all_reduce(count)
    return count > 0


def sum_over_processes(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum over the processes (in place; returned)."""
    dist.all_reduce(tensor)
    return tensor


def broadcast_buffers(module: torch.nn.Module) -> None:
    """Rank 0's buffers (BatchNorm's running statistics), on every process."""
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def broadcast_seed(seed: int, device) -> int:
    """Rank 0's seed, on every process (a seed drawn afresh differs per rank)."""
    value = torch.tensor([seed], dtype=torch.long, device=device)
    dist.broadcast(value, src=0)
    return int(value.item())


def gathered(value: int, device) -> list[int]:
    """``value`` of every process, by rank."""
    mine = torch.tensor([value], dtype=torch.long, device=device)
    every = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(every, mine)
    return [int(v.item()) for v in every]
