"""The scikit-learn shell that every sknoisy estimator stands on.

:class:`NoisyLabelClassifier` is a ``ClassifierMixin, BaseEstimator`` that
*contains* a private skorch net (``net_``) instead of subclassing one. It holds
the estimator contract and the fit template:

* ``__init__`` stores parameters; ``fit`` validates them and the data before any
  training; fitted state ends in ``_``;
* labels are encoded (strings, non-contiguous ints, pandas categories) into
  ``classes_``;
* ``fit`` builds the skorch net (default MLP or CNN, or the user's module, with
  skorch's prefixed parameters), trains it under a seeded RNG and a pinned
  thread count (:mod:`sknoisy._runtime`), and sets the fitted attributes every
  method shares (``noise_scores_``, ``refined_labels_``, ``label_issues_``).

Input handling (arrays or Datasets, float32, row indices) is :mod:`sknoisy._data`.
A method subclasses the shell and sets ``_net_class`` (an
:class:`~sknoisy._net.IndexedNet` subclass with the method's loss and epoch
logic), ``_method_net_params`` (its parameters for that net) and
``_collect_fitted_state`` (the per-sample results it exposes).
"""

from __future__ import annotations

import copy
import difflib
import inspect
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import cohen_kappa_score
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback, LRScheduler
from torch.utils.data import DataLoader

from ._checkpoint import FitCheckpoint, restore_random_state
from ._data import channel_statistics, compact_codes, validate_input
from ._distributed import broadcast_seed, data_parallel, process_device
from ._net import IndexedNet, TrainingInterrupted
from ._predictions import odds_refined_codes, row_predictions
from ._runtime import (
    check_device,
    resolve_seed,
    seeded_torch,
    thread_count,
    torch_threads,
)
from .exceptions import ShortTrainingWarning, UnidentifiableNoiseWarning
from .modules import MLP, CifarResNet18, SmallCNN

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
        "normalize_images": ["boolean"],
        "n_threads": [
            StrOptions({"auto"}),
            None,
            Interval(Integral, 1, None, closed="left"),
        ],
        "callbacks": [list, None],
        "train_split": [None, callable],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "checkpoint_dir": [None, str, os.PathLike],
        "distributed": [StrOptions({"auto"}), Options(bool, {False})],
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
        normalize_images=True,
        n_threads="auto",
        callbacks=None,
        train_split=None,
        verbose=0,
        random_state=None,
        checkpoint_dir=None,
        distributed="auto",
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
        self.normalize_images = normalize_images
        self.n_threads = n_threads
        self.callbacks = callbacks
        self.train_split = train_split
        self.verbose = verbose
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.distributed = distributed
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
        _check_batch_sizes(self._net_params())
        _check_hidden_layer_sizes(self.hidden_layer_sizes)
        _check_callbacks(self.callbacks)
        self._check_own_lr_schedule()
        check_device(self.device)

    _annealed_phase: str | None = None
    """The phase whose learning rate ``lr_schedule="cosine"`` sets (a method's
    second, ``"stage-2"`` or ``"refinement"``; ``"training"`` for plain
    training's every epoch); None where there is none."""

    def _check_own_lr_schedule(self) -> None:
        """Refuse an ``LRScheduler`` in ``callbacks`` where the method sets the
        learning rate itself (``lr_schedule="cosine"``)."""
        if getattr(self, "lr_schedule", None) != "cosine" or not self._annealed_phase:
            return
        for _, callback in _unpacked_callbacks(self.callbacks):
            if isinstance(callback, LRScheduler):
                raise ValueError(
                    "callbacks include an LRScheduler, but lr_schedule='cosine' "
                    f"sets the learning rate of every {self._annealed_phase} "
                    "epoch itself. Pass lr_schedule='constant' to schedule the "
                    "rate with your LRScheduler, or leave the scheduler out."
                )

    def _thread_count(self) -> int | None:
        """torch's threads for ``fit`` and ``predict`` (see ``n_threads``)."""
        return thread_count(self.n_threads, self.random_state, self.device)

    # -- fit ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on ``(X, y)`` and score every training label.

        ``fit`` is atomic: if it fails or is interrupted (``KeyboardInterrupt``),
        the estimator is left as it was before the call, with its previous fit
        intact, or unfitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), or Dataset
            Training features: a numpy array or DataFrame, an image array
            ``(n_samples, channels, height, width)`` of pixel values (uint8, or
            floats in [0, 1]), or a torch ``Dataset`` (e.g. ``ImageFolder``,
            skorch's ``SliceDataset``) whose items are ``(x, y)`` pairs or bare
            tensors ``x``, streamed from disk.
        y : array-like of shape (n_samples,), default=None
            Given labels, possibly wrong; any label type. Required for arrays;
            for a Dataset, None takes its ``targets`` attribute or its items'
            labels.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        previous = _fitted_attributes(self)
        # A fit starts from a clean slate: nothing of the previous fit leaks into
        # the new one, and a failure puts the previous fit back whole.
        _restore_fitted_attributes(self, {})
        try:
            self._fit(X, y)
        except TrainingInterrupted:
            _restore_fitted_attributes(self, previous)
            raise KeyboardInterrupt(
                f"{type(self).__name__}.fit was interrupted; the estimator is as it "
                "was before fit."
            ) from None
        except BaseException:
            _restore_fitted_attributes(self, previous)
            raise
        return self

    def _fit(self, X, y) -> None:
        """The fit itself; :meth:`fit` undoes what it set if it raises."""
        self._check_params()
        data, y_encoded = self._validate_training_data(X, y)
        self._check_training_setup(data, y_encoded)
        self._check_prefixed_params(len(self.classes_))
        self._warn_if_budget_short()
        parallel = data_parallel(self.distributed, self.device)
        device = process_device(self.device, parallel)
        checkpoint = saved = None
        if self.checkpoint_dir is not None:
            checkpoint = FitCheckpoint.for_fit(self, data, y_encoded, parallel)
            saved = checkpoint.load(parallel, device)
        seed = resolve_seed(self.random_state) if saved is None else saved["net"].seed
        if parallel is not None and saved is None:
            seed = broadcast_seed(seed, device)  # one data order for all
        with seeded_torch(seed, device), torch_threads(self._thread_count()):
            if saved is None:
                net = self._build_net(len(self.classes_), seed, device, parallel)
                self.net_ = net.initialize()
                _check_callback_names(self._net_params(), self.net_)
            else:
                self.net_ = saved["net"]
                # Not part of the key: this fit's, not the saved one's.
                self.net_.verbose, self.net_.data_parallel = self.verbose, parallel
                restore_random_state(saved, self.net_)
            self.net_.checkpoint = checkpoint
            try:
                if saved is None:
                    self._check_module_output(data)
                    self.net_.partial_fit(data, y_encoded)
                else:
                    self.net_.resume(data, y_encoded)
                self.trained_rows_ = self.net_.trained_.cpu().numpy()
                if not self.trained_rows_.any():
                    raise ValueError(
                        "No row reached a training batch: with "
                        "iterator_train__drop_last=True every epoch was shorter "
                        "than one batch. Lower batch_size or keep the last batch."
                    )
                # The fitted model's view of its own training rows, computed once.
                predictions = row_predictions(self.net_, data, y_encoded)
                self._collect_fitted_state(y_encoded, predictions)
                self.given_codes_ = y_encoded
                self.given_label_proba_ = predictions.given_proba
            finally:  # also when training fails: no per-sample state is kept
                self.net_.release_sample_state()
                self.net_.detach_checkpoint()
        self._warn_if_unidentifiable(y_encoded, predictions.predicted)
        if checkpoint is not None:  # the fit it would resume has finished
            checkpoint.remove()

    def _check_prefixed_params(self, n_classes: int) -> None:
        """Name a misspelled ``module__``/``optimizer__``/``iterator_*__``
        parameter before training, with the closest one its target takes."""
        module = self._module_params(n_classes)["module"]
        targets = {"optimizer__": self.optimizer}
        if not isinstance(module, torch.nn.Module):
            targets["module__"] = module
        # skorch's default iterators; sknoisy offers no way to replace them.
        targets["iterator_train__"] = targets["iterator_valid__"] = DataLoader
        _check_prefixed_names(self._net_params(), targets)

    def _check_training_setup(self, data, y_encoded) -> None:
        """Refuse, before training, the skorch settings that cannot work here."""
        for _, callback in _unpacked_callbacks(self.callbacks):
            monitor = getattr(callback, "monitor", None)
            if (
                self.train_split is None
                and isinstance(monitor, str)
                and monitor.startswith("valid_")
            ):
                raise ValueError(
                    f"{type(callback).__name__} monitors {monitor!r}, which needs a "
                    "validation split, but train_split=None trains on every row. "
                    "Pass e.g. train_split=skorch.dataset.ValidSplit(5), or monitor "
                    "'train_loss'."
                )
        params = self._net_params()
        batch_size = params.get("iterator_train__batch_size", self.batch_size)
        if params.get("iterator_train__drop_last") and batch_size != -1:
            n_train = len(data)
            held_out = ""
            if self.train_split is not None:
                # The split skorch will make (index arithmetic, no training).
                n_train = len(self.train_split(data, y_encoded)[0])
                held_out = f" of {len(data)} (train_split holds out the rest)"
            if n_train < batch_size:
                raise ValueError(
                    f"iterator_train__drop_last=True drops every batch: the "
                    f"{n_train} training rows{held_out} are fewer than "
                    f"batch_size={batch_size}. Lower batch_size or keep the last "
                    "batch."
                )

    def _warn_if_budget_short(self) -> None:
        """Warn when ``max_epochs`` is too short for the method (hook)."""

    def _warn_short_training(self, message: str) -> None:
        # stacklevel: the user's fit call, above fit, _fit_context and _fit.
        warnings.warn(message, ShortTrainingWarning, stacklevel=6)

    def _warn_ended_early(self, phase: str, outcome: str) -> None:
        """Warn that training ended in an early phase of the method, and what
        the fit then holds."""
        how = ", by early stopping" if self.net_.stopped_early_ else ""
        self._warn_short_training(
            f"{type(self).__name__}'s training ended {phase} (epoch "
            f"{len(self.net_.history)}{how}); {outcome}."
        )

    def _refined_codes(self, y_encoded, predictions, candidates, proposals):
        """Refined labels (class indices): where the model's evidence clears the bar.

        ``relabel="odds"`` keeps the given label unless the row is a
        ``candidate`` for relabelling and the final model's posterior odds for
        its most likely other class ``j`` beat the given label ``y`` under
        uniform label noise at the method's own noise-rate estimate ``r``
        (:meth:`_relabel_noise_rate`)::

            p_j * r / (C - 1) > p_y * (1 - r)

        so a model that is unsure, or a data set the method finds nearly clean,
        keeps the given labels. ``relabel="always"`` gives every candidate the
        method's own proposal (``proposals``, class indices), as the papers'
        rules do.
        """
        if self.relabel == "always":
            return np.where(candidates, proposals, y_encoded)
        rate = self._relabel_noise_rate(candidates, y_encoded, predictions)
        return odds_refined_codes(predictions, y_encoded, candidates, rate)

    def _relabel_noise_rate(self, candidates, y_encoded, predictions) -> float:
        """The noise rate the odds rule assumes: the share of candidates (hook)."""
        return float(np.mean(candidates))

    def _final_model_scores(self, y_encoded, predictions):
        """Scores from the final model alone, as confident learning reads it.

        The fallback for rows a method never trained on (held out by
        ``train_split``) and for training that ended before a method's own
        scores exist: ``noise = 1 - p(given label)``, the refined label the
        predicted class, an issue where the two labels differ.

        Returns
        -------
        noise_scores, refined, label_issues : ndarray of shape (n_samples,)
            ``refined`` as class indices.
        """
        refined = predictions.predicted
        return 1.0 - predictions.given_proba, refined, refined != y_encoded

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
        kappa = cohen_kappa_score(y_encoded, predictions)
        doubtful = self._doubtful_class_share()
        if (
            flagged >= UNIDENTIFIABLE_FLAG_SHARE * random_rate
            or kappa < UNIDENTIFIABLE_KAPPA
            or doubtful >= 0.5
        ):
            why = (
                f"; {doubtful:.0%} of the rows are in classes whose labels it "
                "could not tell apart (not learnt, or mostly called wrong)"
                if doubtful
                else ""
            )
            warnings.warn(
                f"{type(self).__name__} flags {flagged:.0%} of the labels (random "
                f"labels over {len(self.classes_)} classes would be {random_rate:.0%} "
                f"wrong) and its predictions agree with them with kappa "
                f"{kappa:.2f}{why}: the labels may carry too little signal for the "
                "noise to be identified; treat noise_scores_ and refined_labels_ with "
                "caution.",
                UnidentifiableNoiseWarning,
                stacklevel=5,
            )

    def _doubtful_class_share(self) -> float:
        """Share of the rows in classes whose labels the method could not tell
        apart (hook; see :class:`WrongEventClassifier`)."""
        return 0.0

    def _validate_training_data(self, X, y):
        """Validate ``(X, y)`` and encode ``y``; return the indexed data and codes."""
        data, y = validate_input(self, X, y, reset=True)
        self.input_shape_ = data.sample_shape
        self.n_features_in_ = self.input_shape_[0]
        _check_label_types(y)
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to tell wrong "
                f"labels from right ones; y has only one: {classes.tolist()}."
            )
        self.classes_ = classes
        self._fit_channel_statistics(data)
        y_encoded = compact_codes(y_encoded, len(classes))
        return data.with_targets(y_encoded), y_encoded

    def _fit_channel_statistics(self, data) -> None:
        """``channel_mean_``/``channel_std_`` of image input; checks pixel range.

        Without ``normalize_images`` the images pass as they are, but whether
        they are pixel values is kept for the method (``_pixel_images``): IDO's
        default views need them.
        """
        self._pixel_images = False
        if not self._image_input:
            return
        mean, std, low, high = channel_statistics(data)
        self._pixel_images = low >= 0 and high <= 1
        if self.normalize_images:
            _check_pixel_range(low, high, "the training images")
            self.channel_mean_, self.channel_std_ = mean, std

    @property
    def _image_input(self) -> bool:
        """Whether the fitted samples are images ``(channels, height, width)``."""
        return len(self.input_shape_) == 3

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

    def _check_module_output(self, data) -> None:
        """One forward pass on two samples: the module must return class logits."""
        sample = data.first_inputs(2)
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

    def _build_net(
        self, n_classes: int, seed: int, device=None, parallel=None
    ) -> IndexedNet:
        other_params = {
            k: v for k, v in self._net_params().items() if not k.startswith("module__")
        }
        params = {
            "criterion": torch.nn.CrossEntropyLoss,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "device": self.device if device is None else device,
            "data_parallel": parallel,
            "callbacks": _copied_callbacks(self.callbacks),
            "train_split": self.train_split,
            "verbose": self.verbose,
            "classes": list(range(n_classes)),
            "iterator_train__shuffle": True,
            "seed": seed,
            "mixed_precision": self.mixed_precision,
            "channel_mean": getattr(self, "channel_mean_", None),
            "channel_std": getattr(self, "channel_std_", None),
            "channels_last": self._image_input and _is_own_image_module(self.module),
            **self._module_params(n_classes),
            **other_params,
            **self._method_net_params(),
        }
        return self._net_class(**params)

    def _collect_fitted_state(self, y_encoded, predictions) -> None:
        """Set ``noise_scores_``, ``refined_labels_`` and ``label_issues_`` (hook).

        Called after training, while the net still holds its per-sample state
        (released afterwards). ``y_encoded`` holds the training rows' given
        labels as class indices; ``predictions`` the fitted model's
        :class:`~sknoisy._predictions.RowPredictions` on them.
        """
        raise NotImplementedError

    # -- predict -----------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        # fit is atomic: noise_scores_ exists exactly when a fit has completed.
        return hasattr(self, "noise_scores_")

    def _predicted_proba(self, data) -> np.ndarray:
        """The fitted net's probabilities on indexed data, in float64, rows summing
        to 1."""
        proba = self.net_.predict_proba(data).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def _prediction_data(self, X):
        """``X`` checked against the fit, as the net's indexed data."""
        check_is_fitted(self)
        data, _ = validate_input(self, X, reset=False)
        if hasattr(self, "channel_mean_") and data.features is not None:
            pixels = data.features
            if pixels.dtype != torch.uint8 and len(pixels):
                _check_pixel_range(float(pixels.min()), float(pixels.max()), "X")
        return data

    def predict_proba(self, X):
        """Predict class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), or Dataset
            Samples, in the form the estimator was fitted on (see ``fit``).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        data = self._prediction_data(X)
        with torch_threads(self._thread_count()):
            return self._predicted_proba(data)

    def predict(self, X):
        """Predict class labels for ``X``, in the label space of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), or Dataset
            Samples, in the form the estimator was fitted on (see ``fit``).

        Returns
        -------
        ndarray of shape (n_samples,)
            The most probable class of each sample, from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _fitted_attributes(estimator) -> dict:
    """The estimator's fitted state: every attribute whose name ends in ``_``."""
    return {k: v for k, v in vars(estimator).items() if k.endswith("_")}


def _restore_fitted_attributes(estimator, fitted: dict) -> None:
    """Put back a fitted state saved by :func:`_fitted_attributes`."""
    for name in _fitted_attributes(estimator):
        delattr(estimator, name)
    vars(estimator).update(fitted)


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


def _check_batch_sizes(net_params: dict) -> None:
    for name in ("iterator_train__batch_size", "iterator_valid__batch_size"):
        value = net_params.get(name, 1)
        valid = isinstance(value, Integral) and not isinstance(value, bool)
        if not valid or (value < 1 and value != -1):
            raise ValueError(
                f"{name} must be a positive int, or -1 for the whole data set; got "
                f"{value!r}."
            )


def _copied_callbacks(callbacks) -> list | None:
    """Fresh copies of the user's callbacks for one fit.

    A callback that cannot be copied (one holding an open file, say) is used as
    it is, as skorch itself uses callbacks.
    """
    if not callbacks:
        return None
    copies = []
    for item in callbacks:
        try:
            copies.append(copy.deepcopy(item))
        except Exception:  # copy and pickle raise many types for such objects
            copies.append(item)
    return copies


def _unpacked_callbacks(callbacks):
    """Each item of ``callbacks`` with its callback: ``(item, callback)``, the
    callback being a ``(name, Callback)`` pair's second element or the item."""
    for item in callbacks or []:
        yield item, item[1] if isinstance(item, tuple) and len(item) == 2 else item


def _check_callbacks(callbacks) -> None:
    """skorch's callbacks: Callback instances, or (name, Callback) pairs."""
    for item, callback in _unpacked_callbacks(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must be skorch Callback instances or (name, Callback) "
                f"pairs; got {item!r}."
            )


def _check_net_param_names(net_params: dict) -> None:
    unknown = sorted(k for k in net_params if not k.startswith(NET_PARAM_PREFIXES))
    if unknown:
        raise TypeError(
            f"Unexpected keyword argument(s) {unknown}; besides the named "
            f"parameters only skorch's prefixed ones are accepted: "
            f"{', '.join(p + '*' for p in NET_PARAM_PREFIXES)}."
        )


def _check_prefixed_names(net_params: dict, targets: dict) -> None:
    """Refuse a prefixed parameter its target does not take, before training.

    ``targets`` maps a prefix (``"optimizer__"``) to what receives its
    parameters (the optimizer class); a target that takes ``**kwargs``, or whose
    signature cannot be read, accepts anything. skorch's own
    ``optimizer__param_groups`` is always accepted.
    """
    for prefix, target in targets.items():
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            continue
        accepted = signature.parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
            continue
        for name in sorted(net_params):
            if not name.startswith(prefix):
                continue
            argument = name[len(prefix) :]
            if argument in accepted or (
                prefix == "optimizer__" and argument == "param_groups"
            ):
                continue
            hint = _did_you_mean(argument, accepted, prefix)
            raise InvalidParameterError(
                f"{name}: {getattr(target, '__name__', target)!s} takes no "
                f"parameter {argument!r}{hint}"
            )


def _check_callback_names(net_params: dict, net) -> None:
    """Refuse a ``callbacks__NAME__param`` whose NAME is no callback of the net
    (skorch ignores it), with the closest name; before training."""
    names = [name for name, _ in net.callbacks_]
    for key in sorted(net_params):
        if not key.startswith("callbacks__"):
            continue
        name = key[len("callbacks__") :].split("__")[0]
        if name in names:
            continue
        raise InvalidParameterError(
            f"{key}: the net has no callback {name!r} (its callbacks: "
            f"{', '.join(names)}){_did_you_mean(name, names, 'callbacks__')}"
        )


def _did_you_mean(wrong: str, choices, prefix: str) -> str:
    """The end of an error message: the closest of ``choices`` to ``wrong``."""
    close = difflib.get_close_matches(wrong, list(choices), n=1)
    return f"; did you mean {prefix}{close[0]}?" if close else "."


def _check_pixel_range(low: float, high: float, what: str) -> None:
    """Images to standardise must be pixel values: uint8, or floats in [0, 1]."""
    if low < 0 or high > 1:
        raise ValueError(
            f"{what} {'have' if what.endswith('images') else 'has'} values in "
            f"[{low:.3g}, {high:.3g}], but images are "
            "standardised per channel from pixel values: uint8, or floats in [0, 1] "
            "(e.g. torchvision's ToTensor() without Normalize). Pass pixel values, "
            "or normalize_images=False to feed the module the values as they are."
        )


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


def _is_own_image_module(module) -> bool:
    """Whether ``module`` is one of sknoisy's convolutional networks (None: the
    default SmallCNN), which train in channels-last memory format: 1.2-1.4x
    faster for SmallCNN on 32x32 images on 2 CPU cores. A user's module keeps
    its own format (a ``view`` on a channels-last batch can fail)."""
    own = (SmallCNN, CifarResNet18)
    if module is None:
        return True
    if isinstance(module, type):
        return issubclass(module, own)
    return isinstance(module, own)
