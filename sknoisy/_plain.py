"""Plain cross-entropy training: the baseline every noise-robust method must beat."""

from __future__ import annotations

import torch
from sklearn.utils._param_validation import StrOptions

from ._base import NoisyLabelClassifier
from ._docstrings import substitute_docstring
from ._net import IndexedNet


class CrossEntropyNet(IndexedNet):
    """skorch net of :class:`CrossEntropyClassifier`: cross-entropy, its rate annealed.

    Parameters
    ----------
    *args, **kwargs
        As :class:`~sknoisy._net.IndexedNet`.
    lr_schedule : {"cosine", "constant"}
        The learning rate: a cosine from ``lr`` to 0 over all epochs
        (:meth:`IndexedNet.anneal_lr`), or left to ``lr`` and the callbacks.
    """

    def __init__(self, *args, lr_schedule, **kwargs):
        super().__init__(*args, **kwargs)
        self.lr_schedule = lr_schedule

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        if self.lr_schedule == "cosine":
            self.anneal_lr(0)
        self.history.record("lr", self.optimizer_.param_groups[0]["lr"])


@substitute_docstring
class CrossEntropyClassifier(NoisyLabelClassifier):
    """Neural-network classifier trained with plain cross-entropy on the given labels.

    No noise handling: the network eventually memorises wrong labels. It is the
    baseline for sknoisy's methods, and a scikit-learn-compatible torch classifier
    in its own right. Its label scores come from the final model, as in
    confident learning: ``noise_scores_ = 1 - p(given label)``.

    Parameters
    ----------
    %(network_parameters)s
    lr_schedule : {"cosine", "constant"}, default="cosine"
        The learning rate. ``"cosine"`` anneals it from ``lr`` to 0 over the
        ``max_epochs``, as the methods anneal their second phase, so that the
        baseline trains as well as they do (on CIFAR-10N the cosine was worth
        10 to 25 points of plain training's test accuracy); ``"constant"`` keeps
        ``lr``, skorch's behaviour, and leaves the rate to an ``LRScheduler`` in
        ``callbacks`` (``"cosine"`` refuses one, since it sets the rate itself).
    %(net_params_parameter)s

    Attributes
    ----------
    %(fitted_attributes)s

    Notes
    -----
    ``label_issues_`` flags the rows whose predicted class differs from the given
    label. ``net_.history`` records each epoch's learning rate (``lr``, of the
    first parameter group).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknoisy import CrossEntropyClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = CrossEntropyClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.noise_scores_.shape
    (150,)
    """

    _parameter_constraints: dict = {
        **NoisyLabelClassifier._parameter_constraints,
        "lr_schedule": [StrOptions({"cosine", "constant"})],
    }

    _net_class = CrossEntropyNet
    _annealed_phase = "training"

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
        lr_schedule="cosine",
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
            normalize_images=normalize_images,
            n_threads=n_threads,
            callbacks=callbacks,
            train_split=train_split,
            verbose=verbose,
            random_state=random_state,
            checkpoint_dir=checkpoint_dir,
            distributed=distributed,
            **net_params,
        )
        self.lr_schedule = lr_schedule

    def _method_net_params(self) -> dict:
        return {"lr_schedule": self.lr_schedule}

    def _collect_fitted_state(self, y_encoded, predictions):
        self.noise_scores_ = 1.0 - predictions.given_proba
        self.refined_labels_ = self.classes_[predictions.predicted]
        self.label_issues_ = predictions.predicted != y_encoded
