"""Where and how a fit runs: the device, torch's threads and the random seed.

Each of these is process-wide in torch; the helpers here set them for one fit
and put them back afterwards, so that a seeded fit gives the same results
wherever it runs and leaves the caller's state as it found it.

torch has no per-fit generator for dropout, ``nn.init`` or a user's module, and
one thread count per process. So fits and predictions that run in threads of
one process (joblib's threading backend, a web server) take turns: both
helpers hold :data:`TORCH_STATE_LOCK` while they run, and a threaded
``cross_validate`` gives the same results as a serial one.
"""

from __future__ import annotations

import contextlib
import threading
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_seed(random_state) -> int:
    """An int seed from ``random_state``, leaving global random states untouched."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    rng = check_random_state(random_state)
    return int(rng.randint(np.iinfo(np.int32).max))


def thread_count(n_threads, random_state, device) -> int | None:
    """torch's intra-op threads for a fit and its predictions; None: leave as is.

    On CPU, results are bit-identical only at equal thread counts, and joblib's
    workers run fewer threads than the main process. So ``"auto"`` pins one
    thread for a seeded fit on CPU, whose results then do not depend on where
    it runs.
    """
    if n_threads != "auto":
        return n_threads
    seeded = isinstance(random_state, Integral)
    on_cpu = torch.device(device).type == "cpu"
    return 1 if seeded and on_cpu else None


TORCH_STATE_LOCK = threading.RLock()
"""Held while a fit or prediction owns torch's process-wide RNG and threads."""


@contextlib.contextmanager
def torch_threads(n_threads):
    """Pin torch's intra-op threads (if given) and restore them afterwards.

    Holds :data:`TORCH_STATE_LOCK` throughout.
    """
    with TORCH_STATE_LOCK:
        if n_threads is None:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


@contextlib.contextmanager
def seeded_torch(seed: int, device):
    """Fork torch's global RNG (CPU and the fit's CUDA device) and seed it.

    Inside, dropout, ``nn.init`` and the views draw from a generator seeded by
    ``seed``; on exit the global state is what it was before. Holds
    :data:`TORCH_STATE_LOCK` throughout.
    """
    device = torch.device(device)
    devices = []
    if device.type == "cuda":
        devices = [
            device.index if device.index is not None else torch.cuda.current_device()
        ]
    with TORCH_STATE_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def check_device(device) -> None:
    """Raise a ValueError for a device torch cannot parse or this machine lacks."""
    try:
        device = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"device={device!r} is not a torch device; use e.g. 'cpu', 'cuda' or "
            "'cuda:0'."
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={str(device)!r}, but CUDA is not available to torch on this "
                "machine (torch.cuda.is_available() is False); use device='cpu'."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={str(device)!r}, but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            "device='mps', but MPS is not available to torch on this machine; use "
            "device='cpu'."
        )
