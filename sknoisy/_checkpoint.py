"""A fit's checkpoint: its whole training state after every epoch, for resuming.

A long fit (CIFAR-scale, or on a GPU that is lent for a while) must survive an
interrupt. skorch's own ``Checkpoint`` saves the module, the optimizer and the
history, but none of what a sknoisy method keeps per sample (wrong-event counts,
the Label Wave tracker and its saved model, the mixture, soft labels, the phase)
nor the random state, so a run resumed from it is a different run.

With ``checkpoint_dir`` set, :class:`FitCheckpoint` pickles the estimator's net
whole after every epoch, once every callback has run, together with torch's
global RNG and the data order's generator. A later ``fit`` of the same
estimator (the same parameters, the same data, the same package versions) finds
the file by its key, restores all of it and trains only the epochs left, and so
ends bit-identical to an uninterrupted fit on CPU. The file is written
atomically (a crash while saving keeps the previous epoch's) and removed when
the fit succeeds.

A checkpoint is a pickle, like a pickled estimator: load only your own.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import joblib
import numpy as np
import torch

from ._distributed import gathered

CHECKPOINT_FORMAT = 2
"""Bumped when what a checkpoint holds changes; part of the key."""

UNKEYED_PARAMETERS = ("verbose", "checkpoint_dir")
"""Parameters that do not change the training run, so not part of the key."""


class FitCheckpoint:
    """The checkpoint file of one fit: where it is, and the key it must match.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    key : str
        The fit's key (:func:`fit_key`), stored in the file and checked on load.
    """

    def __init__(self, path: Path, key: str):
        self.path = path
        self.key = key

    @classmethod
    def for_fit(cls, estimator, data, y_encoded, parallel=None) -> FitCheckpoint:
        """The checkpoint of this fit in ``estimator.checkpoint_dir``.

        Checked before any training: the directory is created if needed and
        must be writable, and every parameter must be picklable. In a
        data-parallel fit (``parallel``) every process has a file of its own.
        """
        if not os.fspath(estimator.checkpoint_dir):
            raise ValueError(
                "checkpoint_dir='' names no directory; pass a directory, or None "
                "to save nothing."
            )
        directory = Path(os.fspath(estimator.checkpoint_dir)).expanduser()
        if directory.exists() and not directory.is_dir():
            raise ValueError(
                f"checkpoint_dir={str(directory)!r} is a file; it must be a "
                "directory (created if missing)."
            )
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=directory):
                pass
        except OSError as error:
            raise ValueError(
                f"checkpoint_dir={str(directory)!r} cannot be written to: "
                f"{error.strerror or error}."
            ) from None
        world = "" if parallel is None else f"{parallel.world_size}"
        key = fit_key(estimator, data, y_encoded, world)
        name = f"{type(estimator).__name__}-{key[:20]}"
        if parallel is not None:
            name += f"-rank{parallel.rank}of{parallel.world_size}"
        return cls(directory / f"{name}.ckpt", key)

    def load(self, parallel=None, device="cpu") -> dict | None:
        """The saved state of this fit, or None if there is none.

        In a data-parallel fit every process must hold the same epoch's state;
        otherwise (a crash between two processes' saves) this raises.

        Returns
        -------
        dict or None
            ``net`` (the net as it was after ``epoch``), ``epoch``, ``torch_rng``,
            ``cuda_rng`` (or None) and ``generator`` (the data order's state, or
            None).
        """
        state = self._read()
        if parallel is not None:
            epochs = gathered(-1 if state is None else state["epoch"], device)
            if len(set(epochs)) > 1:
                raise ValueError(
                    "The processes' checkpoints are of different epochs (by rank: "
                    f"{epochs}, -1 for none) in {str(self.path.parent)!r}; delete "
                    "them to train from the start."
                )
        return state

    def _read(self) -> dict | None:
        if not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as file:
                state = pickle.load(file)
        except Exception as error:  # unpickling raises many types
            raise ValueError(
                f"The checkpoint {str(self.path)!r} could not be read ({error}); "
                "delete it to train from the start."
            ) from error
        if not isinstance(state, dict) or state.get("key") != self.key:
            raise ValueError(
                f"The checkpoint {str(self.path)!r} belongs to another fit; delete "
                "it to train from the start."
            )
        return state

    def save(self, net) -> None:
        """Write the net's state after its latest epoch, replacing the previous."""
        device = torch.device(net.device)
        cuda_rng = None
        if device.type == "cuda":
            cuda_rng = torch.cuda.get_rng_state(device)
        generator = getattr(net, "_train_generator", None)
        state = {
            "key": self.key,
            "epoch": len(net.history),
            "net": net,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": cuda_rng,
            "generator": None if generator is None else generator.get_state(),
        }
        temporary = self.path.with_name(self.path.name + ".partial")
        try:
            with open(temporary, "wb") as file:
                _NetPickler(file, net).dump(state)
            os.replace(temporary, self.path)
        except BaseException as error:  # a full disk, state that cannot pickle
            temporary.unlink(missing_ok=True)
            if not isinstance(error, Exception):  # an interrupt while saving
                raise
            failure = OSError if isinstance(error, OSError) else RuntimeError
            raise failure(
                f"The training state after epoch {state['epoch']} could not be "
                f"saved to {str(self.path)!r}: {error}"
            ) from error

    def remove(self) -> None:
        """Delete the file (the fit it served has finished)."""
        self.path.unlink(missing_ok=True)


class _NetPickler(pickle.Pickler):
    """Pickles the net in one stream.

    skorch's own pickling writes the module, the optimizer and the criterion
    into a stream of their own, so a callback's reference to the optimizer
    (``LRScheduler``'s, say) would come back as a copy, and a resumed fit would
    schedule an optimizer that no longer trains.
    """

    def __init__(self, file, net):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.net = net

    def reducer_override(self, obj):
        if obj is not self.net:
            return NotImplemented
        state = {
            name: value
            for name, value in vars(obj).items()
            if name not in obj.transient_state
        }
        return (_new_net, (type(obj),), state, None, None, _set_net_state)


def _new_net(cls):
    return cls.__new__(cls)


def _set_net_state(net, state: dict) -> None:
    vars(net).update(state)


def restore_random_state(state: dict, net) -> None:
    """Put back torch's global RNG and the data order as they were at the save."""
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None:
        torch.cuda.set_rng_state(state["cuda_rng"], torch.device(net.device))
    net._resumed_generator_state = state["generator"]


def fit_key(estimator, data, y_encoded, world: str = "") -> str:
    """A digest of everything that decides a fit's training run.

    The estimator's parameters (but ``verbose`` and ``checkpoint_dir``), the
    training features (for in-memory data; a streamed Dataset by its type and
    length), the encoded labels and classes, the versions of sknoisy, torch
    and the checkpoint format, and the number of processes of a data-parallel
    fit. Equal keys mean that a saved run can be
    continued as this fit.
    """
    from . import __version__  # the package's, defined after its imports

    params = {
        name: value
        for name, value in estimator.get_params(deep=False).items()
        if name not in UNKEYED_PARAMETERS
    }
    for name, value in params.items():
        try:
            pickle.dumps(value)  # joblib.hash tolerates some that cannot be saved
        except Exception as error:  # pickling raises many types
            raise ValueError(
                "checkpoint_dir needs every parameter of the estimator to be "
                f"picklable, to save the training state; {name} is not: {error}"
            ) from error
    params_digest = joblib.hash(params)
    digest = hashlib.blake2b(digest_size=20)
    for part in (
        type(estimator).__qualname__,
        params_digest,
        __version__,
        torch.__version__,
        str(CHECKPOINT_FORMAT),
        world,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    features = data.features
    if features is None:  # streamed: its items cannot be read without a pass
        digest.update(f"{type(data.dataset).__qualname__}:{len(data)}".encode())
    else:
        array = np.ascontiguousarray(features.cpu().numpy())
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(memoryview(array).cast("B"))
    digest.update(np.ascontiguousarray(y_encoded, dtype=np.int64).tobytes())
    digest.update(joblib.hash(estimator.classes_).encode())
    return digest.hexdigest()
