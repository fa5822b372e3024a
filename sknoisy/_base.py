"""The scikit-learn shell that every sknoisy estimator stands on.

:class:`NoisyLabelClassifier` is a ``ClassifierMixin, BaseEstimator`` that
*contains* a private skorch net (``net_``) instead of subclassing one. It owns what
all methods share:

* the estimator contract: ``__init__`` stores parameters; ``fit`` validates them
  and the data (float32 cast, finite values, at least two classes) before any
  training; fitted state ends in ``_``;
* label encoding (strings, non-contiguous ints, pandas categories), ``classes_``;
* seeding from ``random_state`` without touching global random states;
* building the skorch net (default MLP or the user's module, skorch's prefixed
  parameters) and the fitted-attribute contract (``noise_scores_``,
  ``refined_labels_``).

A method subclasses it and sets ``_net_class`` (an :class:`~sknoisy._net.IndexedNet`
subclass with the method's loss and epoch logic), ``_method_net_params`` (the
method's parameters for that net) and ``_collect_fitted_state`` (the per-sample
results it exposes).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import Callback

from ._data import is_dataset_input, item_input
from ._net import IndexedNet
from .modules import MLP, SmallCNN

NET_PARAM_PREFIXES = (
    "module__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
)
"""skorch parameter prefixes that pass through to the net."""

UNIDENTIFIABLE_FLAG_SHARE = 0.75
"""Warn when at least this share of the random-label error rate is flagged."""

UNIDENTIFIABLE_KAPPA = 0.1
"""Warn when predictions agree with the given labels with a kappa below this."""


def resolve_seed(random_state) -> int:
    """An int seed from ``random_state``, leaving global random states untouched."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    rng = check_random_state(random_state)
    return int(rng.randint(np.iinfo(np.int32).max))


def _accepted_arguments(module_class) -> set[str]:
    try:
        return set(inspect.signature(module_class).parameters)
    except (TypeError, ValueError):
        return set()


class NoisyLabelClassifier(ClassifierMixin, BaseEstimator):
    """Base class of sknoisy's classifiers; not for direct use.

    See :class:`sknoisy.WrongEventClassifier` for the parameters.
    """

    _net_class = IndexedNet

    _parameter_constraints: dict = {
        "module": [None, callable],
        "hidden_layer_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            Options(Integral, {-1}),
        ],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "device": [str, torch.device],
        "mixed_precision": ["boolean"],
        "n_threads": [
            StrOptions({"auto"}),
            None,
            Interval(Integral, 1, None, closed="left"),
        ],
        "callbacks": [list, None],
        "train_split": [None, callable],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        module=None,
        hidden_layer_sizes=(256, 256),
        dropout=0.0,
        max_epochs=60,
        batch_size=128,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        device="cpu",
        mixed_precision=False,
        n_threads="auto",
        callbacks=None,
        train_split=None,
        verbose=0,
        random_state=None,
        **net_params,
    ):
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.mixed_precision = mixed_precision
        self.n_threads = n_threads
        self.callbacks = callbacks
        self.train_split = train_split
        self.verbose = verbose
        self.random_state = random_state
        vars(self).update(net_params)

    # -- parameters -------------------------------------------------------------
    def _net_params(self) -> dict:
        """The extra keyword parameters (skorch's prefixed ones) on this estimator."""
        named = set(self._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if k not in named and not k.endswith("_") and not k.startswith("_")
        }

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._net_params())
        return params

    def set_params(self, **params):
        net_params = {
            k: v for k, v in params.items() if k.startswith(NET_PARAM_PREFIXES)
        }
        vars(self).update(net_params)
        rest = {k: v for k, v in params.items() if k not in net_params}
        return super().set_params(**rest) if rest else self

    def _check_params(self) -> None:
        """The checks ``_parameter_constraints`` cannot express (run by ``fit``)."""
        _check_net_param_names(self._net_params())
        _check_hidden_layer_sizes(self.hidden_layer_sizes)
        _check_callbacks(self.callbacks)
        _check_device(self.device)

    def _torch_thread_count(self) -> int | None:
        """torch's intra-op threads for ``fit`` and ``predict``; None: leave as is.

        On CPU, results are bit-identical only at equal thread counts, and joblib's
        workers run fewer threads than the main process. So ``"auto"`` pins one
        thread for a seeded fit on CPU, whose results then do not depend on where
        it runs.
        """
        if self.n_threads != "auto":
            return self.n_threads
        seeded = isinstance(self.random_state, Integral)
        on_cpu = torch.device(self.device).type == "cpu"
        return 1 if seeded and on_cpu else None

    # -- fit ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on ``(X, y)`` and score every training label.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), or Dataset
            Training features: a numpy array or DataFrame, an image array
            ``(n_samples, channels, height, width)``, or a torch ``Dataset``
            (e.g. ``ImageFolder``, skorch's ``SliceDataset``) whose items are
            ``(x, y)`` pairs or bare tensors ``x``, streamed from disk.
        y : array-like of shape (n_samples,), default=None
            Given labels, possibly wrong; any label type. Required for arrays;
            for a Dataset, None takes its ``targets`` attribute or its items'
            labels.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_params()
        X, y_encoded = self._validate_training_data(X, y)
        seed = resolve_seed(self.random_state)
        with self._seeded(seed), _torch_threads(self._torch_thread_count()):
            self.net_ = self._build_net(len(self.classes_), seed).initialize()
            self._check_module_output(X)
            self.net_.partial_fit(X, y_encoded)
            # The fitted model's view of its own training rows, computed once.
            train_proba = self._predict_proba_float32(X)
            self._collect_fitted_state(X, y_encoded, train_proba)
        self._warn_if_unidentifiable(y_encoded, train_proba.argmax(axis=1))
        return self

    def _warn_if_unidentifiable(self, y_encoded, predictions) -> None:
        """Warn when the given labels carry too little signal to find the noise.

        A heuristic with two signals, calibrated on digits and breast_cancer
        (random labels vs 40-60% symmetric noise): the method flags at least
        ``UNIDENTIFIABLE_FLAG_SHARE`` of the ``(C - 1) / C`` that random labels
        would get wrong, or the model's predictions agree with the given labels
        hardly better than chance (Cohen's kappa below ``UNIDENTIFIABLE_KAPPA``).
        """
        random_rate = 1 - 1 / len(self.classes_)
        flagged = float(np.mean(self.label_issues_))
        kappa = _cohen_kappa(y_encoded, predictions, len(self.classes_))
        if flagged >= UNIDENTIFIABLE_FLAG_SHARE * random_rate or (
            kappa < UNIDENTIFIABLE_KAPPA
        ):
            warnings.warn(
                f"{type(self).__name__} flags {flagged:.0%} of the labels (random "
                f"labels over {len(self.classes_)} classes would be {random_rate:.0%} "
                f"wrong) and its predictions agree with them with kappa "
                f"{kappa:.2f}: the labels may carry too little signal for the noise "
                "to be identified; treat noise_scores_ and refined_labels_ with "
                "caution.",
                UserWarning,
                stacklevel=4,
            )

    def _validate_training_data(self, X, y):
        """Validate and encode; return float32 array (or the Dataset) and codes."""
        if is_dataset_input(X):
            y = _dataset_targets(X, y)
            self.input_shape_ = _dataset_sample_shape(X)
            self.n_features_in_ = self.input_shape_[0]
        else:
            X, y = validate_data(
                self,
                X,
                y,
                dtype=(np.float32, np.float64),
                ensure_min_samples=2,
                allow_nd=True,
            )
            X = _as_float32(X)
            self.input_shape_ = X.shape[1:]
        _check_label_types(y)
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to tell wrong "
                f"labels from right ones; y has only one: {classes.tolist()}."
            )
        self.classes_ = classes
        return X, y_encoded.astype(np.int64)

    @property
    def _image_input(self) -> bool:
        """Whether the fitted samples are images ``(channels, height, width)``."""
        return len(self.input_shape_) == 3

    def _seeded(self, seed: int):
        """Fork the global torch RNG (CPU and the fit's CUDA device) and seed it."""
        device = torch.device(self.device)
        devices = []
        if device.type == "cuda":
            devices = [
                device.index
                if device.index is not None
                else torch.cuda.current_device()
            ]
        return _SeededRNG(seed, devices)

    def _module_params(self, n_classes: int) -> dict:
        """``module`` and ``module__*`` arguments of the net."""
        user_params = {
            k: v for k, v in self._net_params().items() if k.startswith("module__")
        }
        if self.module is None and self._image_input:
            default = {
                "module": SmallCNN,
                "module__in_channels": self.input_shape_[0],
                "module__dropout": self.dropout,
            }
        elif self.module is None:
            default = {
                "module": MLP,
                "module__n_features": int(np.prod(self.input_shape_)),
                "module__hidden_layer_sizes": tuple(self.hidden_layer_sizes),
                "module__dropout": self.dropout,
            }
        if self.module is None:
            return {**default, "module__n_classes": n_classes, **user_params}
        if isinstance(self.module, torch.nn.Module):
            return {"module": copy.deepcopy(self.module), **user_params}
        sizes = {
            "n_features": self.input_shape_[0],
            "in_channels": self.input_shape_[0],
            "n_classes": n_classes,
            "num_classes": n_classes,
        }
        accepted = _accepted_arguments(self.module)
        filled = {f"module__{k}": v for k, v in sizes.items() if k in accepted}
        return {"module": self.module, **filled, **user_params}

    def _check_module_output(self, X) -> None:
        """One forward pass on two samples: the module must return class logits."""
        if is_dataset_input(X):
            sample = torch.stack([item_input(X[i]) for i in range(2)])
        else:
            sample = torch.as_tensor(X[:2])
        module = self.net_.module_
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                logits = self.net_.infer(sample.to(self.net_.device))
        except Exception as error:
            raise ValueError(
                f"The module failed on a batch of the training data "
                f"(shape {tuple(sample.shape)}): {error}"
            ) from error
        finally:
            module.train(was_training)
        n_classes = len(self.classes_)
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (
            len(sample),
            n_classes,
        ):
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else "?"
            raise ValueError(
                f"The module must return logits of shape (n_samples, n_classes) = "
                f"({len(sample)}, {n_classes}) for y's {n_classes} classes; it "
                f"returned {shape}. Size its output layer to the classes, e.g. "
                f"module__num_classes={n_classes} for a torchvision model."
            )

    def _method_net_params(self) -> dict:
        """Method parameters for ``_net_class`` (hook)."""
        return {}

    def _build_net(self, n_classes: int, seed: int) -> IndexedNet:
        other_params = {
            k: v for k, v in self._net_params().items() if not k.startswith("module__")
        }
        params = {
            "criterion": torch.nn.CrossEntropyLoss,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "device": self.device,
            "callbacks": clone(self.callbacks, safe=False) if self.callbacks else None,
            "train_split": self.train_split,
            "verbose": self.verbose,
            "classes": list(range(n_classes)),
            "iterator_train__shuffle": True,
            "seed": seed,
            "mixed_precision": self.mixed_precision,
            **self._module_params(n_classes),
            **other_params,
            **self._method_net_params(),
        }
        return self._net_class(**params)

    def _collect_fitted_state(self, X, y_encoded, train_proba) -> None:
        """Set ``noise_scores_``, ``refined_labels_`` and ``label_issues_`` (hook).

        ``train_proba`` holds the fitted model's probabilities on the training
        rows ``X``, shape (n_samples, n_classes).
        """
        raise NotImplementedError

    # -- predict -----------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        # Set last by fit: a fit that failed part-way leaves the estimator unfitted.
        return hasattr(self, "noise_scores_")

    def _validate_inference_data(self, X):
        check_is_fitted(self)
        if is_dataset_input(X):
            if len(X) == 0:
                raise ValueError("X is an empty dataset.")
            self._check_sample_shape(_dataset_sample_shape(X))
            return X
        X = validate_data(
            self, X, reset=False, dtype=(np.float32, np.float64), allow_nd=True
        )
        self._check_sample_shape(X.shape[1:])
        return _as_float32(X)

    def _check_sample_shape(self, shape) -> None:
        if tuple(shape) != tuple(self.input_shape_):
            raise ValueError(
                f"X's samples have shape {tuple(shape)}, but {type(self).__name__} "
                f"was fitted on samples of shape {tuple(self.input_shape_)}."
            )

    def _predict_proba_float32(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of the fitted net on validated float32 data."""
        proba = self.net_.predict_proba(X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        X = self._validate_inference_data(X)
        with _torch_threads(self._torch_thread_count()):
            return self._predict_proba_float32(X)

    def predict(self, X):
        """Predicted class labels, in the label space of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _check_hidden_layer_sizes(hidden_layer_sizes) -> None:
    sizes = list(hidden_layer_sizes)
    if not all(
        isinstance(size, Integral) and not isinstance(size, bool) and size > 0
        for size in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold one positive int per hidden layer, e.g. "
            f"(256, 256); got {hidden_layer_sizes!r}."
        )


def _check_callbacks(callbacks) -> None:
    """skorch's callbacks: Callback instances, or (name, Callback) pairs."""
    for item in callbacks or []:
        callback = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must be skorch Callback instances or (name, Callback) "
                f"pairs; got {item!r}."
            )


def _check_device(device) -> None:
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


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Pin torch's intra-op threads (if given) and restore them afterwards."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _SeededRNG:
    """Context manager: fork torch's global RNG, seed it, restore on exit."""

    def __init__(self, seed: int, cuda_devices: list[int]):
        self.seed = seed
        self.fork = torch.random.fork_rng(devices=cuda_devices)

    def __enter__(self):
        self.fork.__enter__()
        torch.manual_seed(self.seed)
        return self

    def __exit__(self, *exc):
        return self.fork.__exit__(*exc)


def _as_float32(X: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        X32 = np.asarray(X, dtype=np.float32)
    if not np.isfinite(X32).all():
        raise ValueError(
            "X has values too large for float32 (the network's precision); "
            "rescale the features, e.g. with sklearn.preprocessing.StandardScaler."
        )
    return X32


def _check_net_param_names(net_params: dict) -> None:
    unknown = sorted(k for k in net_params if not k.startswith(NET_PARAM_PREFIXES))
    if unknown:
        raise TypeError(
            f"Unexpected keyword argument(s) {unknown}; besides the named "
            f"parameters only skorch's prefixed ones are accepted: "
            f"{', '.join(p + '*' for p in NET_PARAM_PREFIXES)}."
        )


def _dataset_targets(dataset, y) -> np.ndarray:
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


def _dataset_sample_shape(dataset) -> tuple[int, ...]:
    """Shape of one input of a Dataset, which must be a tensor."""
    x = item_input(dataset[0])
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"The dataset's inputs must be tensors, got {type(x).__name__}; add a "
            "transform that converts them (e.g. torchvision.transforms.ToTensor())."
        )
    if x.ndim == 0:
        raise ValueError("The dataset's inputs are scalars; they need a feature axis.")
    return tuple(x.shape)


def _cohen_kappa(given, predicted, n_classes: int) -> float:
    """Cohen's kappa between two label codings (0 = chance agreement)."""
    agreement = float(np.mean(given == predicted))
    p_given = np.bincount(given, minlength=n_classes) / len(given)
    p_predicted = np.bincount(predicted, minlength=n_classes) / len(predicted)
    chance = float(p_given @ p_predicted)
    return 1.0 if chance >= 1 else (agreement - chance) / (1 - chance)


def _check_label_types(y) -> None:
    """Reject labels that mix strings with numbers, naming what was found."""
    if np.asarray(y).dtype != object:
        return
    kinds = {"string" if isinstance(v, str) else type(v).__name__ for v in y}
    if "string" in kinds and len(kinds) > 1:
        raise ValueError(
            f"y mixes strings with other label types ({sorted(kinds)}); use one "
            "type for all labels, e.g. y.astype(str)."
        )
