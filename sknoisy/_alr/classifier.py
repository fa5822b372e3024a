"""ALR's estimator: ``ALRClassifier``, adaptive label refinement by temporal
ensembling and entropy hardening.

Zhang, Cheng, Lu, Zhou, Li, Zhang, "Efficient Adaptive Label Refinement for
Label Noise Learning", arXiv 2502.00386. No official code is public; the
specification followed is the reconstruction of ``methods.md`` §2, whose open
choices are settled by measurement (see ``docs/methods.md``). The training loop
is :class:`sknoisy._alr.net.ALRNet`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import NoisyLabelClassifier
from .._docstrings import substitute_docstring
from .net import ALRNet


@substitute_docstring
class ALRClassifier(NoisyLabelClassifier):
    """Neural-network classifier robust to label noise by adaptive label refinement.

    ALR (Zhang et al., arXiv 2502.00386) replaces each hard label with a soft
    label ``S_i`` that follows the model's own predictions by temporal ensembling,
    ``S_i <- momentum * S_i + (1 - momentum) * softmax(z_i)``, so the network
    stops being pulled towards wrong labels; an entropy term hardens the
    predictions of confident samples so clean ones are learnt thoroughly. One
    network, one forward pass per batch, no noise prior.

    After ``warmup_epochs`` of plain cross-entropy, each batch's loss is::

        mean_i( -sum_c S_ic log p_ic ) + entropy_weight * mean_i( w_i H(p_i) )

    with ``p = softmax(z)`` and ``w_i = max_c S_ic`` (``entropy_gating=
    "confidence"``) or 1 (``"uniform"``).

    The paper gives the two mechanisms, no code and no schedule; the defaults
    below (``entropy_weight=1.0``, ``momentum=0.9``, confidence gating, the Label
    Wave warm-up) were chosen by measurement, recorded in ``docs/methods.md``.

    Parameters
    ----------
    %(network_parameters)s
    warmup_epochs : int or "auto", default="auto"
        Epochs of cross-entropy on the given labels before refinement. ``"auto"``
        ends the warm-up at the first local minimum of the per-epoch prediction
        changes (Label Wave, as for :class:`WrongEventClassifier`'s base model),
        at the latest after half of ``max_epochs``.
    momentum : float, default=0.9
        Weight of the old soft label in each update, in [0, 1).
    entropy_weight : float, default=1.0
        Weight of the entropy term; 0 disables hardening.
    entropy_gating : {"confidence", "uniform"}, default="confidence"
        Per-sample weight of the entropy term.
    label_wave_window : int, default=1
        Moving average of the prediction changes for ``warmup_epochs="auto"``.

    Attributes
    ----------
    %(fitted_attributes)s
        Here ``1 - soft_labels_[i, given label]``.
    soft_labels_ : ndarray of shape (n_samples, n_classes)
        The refined soft labels; columns follow ``classes_``.
    warmup_epochs_ : int
        Epochs the warm-up lasted (``max_epochs`` if refinement never started).

    See Also
    --------
    WrongEventClassifier : IDO, per-sample loss weights from wrong events.

    Notes
    -----
    ``label_issues_`` flags the rows whose refined soft label has moved its
    argmax away from the given label.

    The net's history records, per epoch, ``refining``, ``prediction_changes``
    (during the warm-up),
    the mean entropy of the soft labels (``soft_label_entropy``) and the fraction
    of rows whose soft label's argmax differs from the given label
    (``relabelled_fraction``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknoisy import ALRClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ALRClassifier(max_epochs=10, random_state=0).fit(X / 16, y)
    >>> clf.soft_labels_.shape
    (1797, 10)
    """

    _parameter_constraints: dict = {
        **NoisyLabelClassifier._parameter_constraints,
        "warmup_epochs": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "entropy_weight": [Interval(Real, 0, None, closed="left")],
        "entropy_gating": [StrOptions({"confidence", "uniform"})],
        "label_wave_window": [Interval(Integral, 1, None, closed="left")],
    }

    _net_class = ALRNet

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
        warmup_epochs="auto",
        momentum=0.9,
        entropy_weight=1.0,
        entropy_gating="confidence",
        label_wave_window=1,
        **net_params,
    ):
        super().__init__(
            module=module,
            hidden_layer_sizes=hidden_layer_sizes,
            dropout=dropout,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            device=device,
            mixed_precision=mixed_precision,
            n_threads=n_threads,
            callbacks=callbacks,
            train_split=train_split,
            verbose=verbose,
            random_state=random_state,
            **net_params,
        )
        self.warmup_epochs = warmup_epochs
        self.momentum = momentum
        self.entropy_weight = entropy_weight
        self.entropy_gating = entropy_gating
        self.label_wave_window = label_wave_window

    def _method_net_params(self) -> dict:
        return {
            "warmup_epochs": self.warmup_epochs,
            "max_auto_warmup": max(1, self.max_epochs // 2),
            "momentum": self.momentum,
            "entropy_weight": self.entropy_weight,
            "entropy_gating": self.entropy_gating,
            "label_wave_window": self.label_wave_window,
        }

    def _collect_fitted_state(self, y_encoded, train_proba):
        net = self.net_
        self.soft_labels_ = net.soft_labels_.cpu().numpy().astype(np.float64)
        warmup_end = net.warmup_.end_epoch
        self.warmup_epochs_ = self.max_epochs if warmup_end is None else warmup_end
        given = self.soft_labels_[np.arange(len(y_encoded)), y_encoded]
        self.noise_scores_ = np.clip(1.0 - given, 0.0, 1.0)
        refined = self.soft_labels_.argmax(axis=1)
        self.refined_labels_ = self.classes_[refined]
        self.label_issues_ = refined != y_encoded
