"""ALR's training loop: a warm-up, then soft labels refined by temporal ensembling.

:class:`ALRNet` runs ALR in one skorch fit (see :class:`sknoisy.ALRClassifier`).
Per batch, in :meth:`ALRNet.training_loss`: during the warm-up, cross-entropy on
the given labels while the online predictions are followed (Label Wave, for
``warmup_epochs="auto"``); afterwards each row's soft label moves towards the
model's prediction, ``S <- m S + (1 - m) softmax(z)``, and the loss is
:func:`sknoisy.losses.alr_loss`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._data import ROW_CHUNK
from .._label_wave import LabelWavePhase
from .._net import IndexedNet
from ..losses import alr_loss, entropy


class ALRNet(IndexedNet):
    """skorch net running ALR; see :class:`ALRClassifier`.

    Parameters
    ----------
    warmup_epochs : int or "auto"
        Epochs of plain cross-entropy before refinement starts.
    max_auto_warmup : int
        Longest warm-up ``"auto"`` may choose.
    momentum : float
        Temporal-ensembling momentum of the soft labels.
    entropy_weight : float
        Weight of the entropy term.
    entropy_gating : {"confidence", "uniform"}
        Per-sample weight of the entropy term: ``max_c S_ic`` or 1.
    label_wave_window : int
        Moving-average window of the prediction changes (``"auto"`` warm-up).
    lr_schedule : {"cosine", "constant"}
        The learning rate during refinement: a cosine from ``lr`` to 0 over the
        refinement epochs (:meth:`IndexedNet.anneal_lr`), or ``lr`` throughout.
    """

    print_log_hidden = (
        *IndexedNet.print_log_hidden,
        "prediction_changes",
        "warmup_base_epoch",
    )

    def __init__(
        self,
        *args,
        warmup_epochs,
        max_auto_warmup,
        momentum,
        entropy_weight,
        entropy_gating,
        label_wave_window,
        lr_schedule,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.warmup_epochs = warmup_epochs
        self.max_auto_warmup = max_auto_warmup
        self.momentum = momentum
        self.entropy_weight = entropy_weight
        self.entropy_gating = entropy_gating
        self.label_wave_window = label_wave_window
        self.lr_schedule = lr_schedule

    def sample_state(self, targets, dataset):
        auto = self.warmup_epochs == "auto"
        return {
            "soft_labels_": _one_hot(targets, len(self.classes)),
            "warmup_": LabelWavePhase(
                targets,
                length=self.max_auto_warmup if auto else self.warmup_epochs,
                end_at_minimum=auto,
                window=self.label_wave_window,
                snapshot=self._snapshot if auto else None,
            ),
        }

    def epoch_state(self):
        state = [*super().epoch_state(), self.soft_labels_]
        if not self.refining:
            state.append(self.warmup_.tracker.current)
        return state

    @property
    def refining(self) -> bool:
        """Whether the warm-up is over and the soft labels are being refined."""
        return not self.warmup_.running

    def training_loss(self, x, rows, y, **fit_params):
        logits = self.infer(x, **fit_params)
        if not self.refining:
            self.warmup_.observe(rows, logits.detach().argmax(dim=1))
            return self.get_loss(logits, y, training=True), logits
        proba = F.softmax(logits.detach(), dim=1)
        soft = torch.lerp(proba, self.soft_labels_[rows], self.momentum)
        self.soft_labels_[rows] = soft
        gate = soft.max(dim=1).values if self.entropy_gating == "confidence" else None
        return alr_loss(logits, soft, self.entropy_weight, entropy_gate=gate), logits

    def _restore_warmup_base(self) -> None:
        """An ``"auto"`` warm-up restarts refinement from its base model
        (:meth:`LabelWavePhase.base`), with a fresh optimizer, unless that is
        the model as it is: the Label Wave minimum when one was found (the
        rise that reveals it can come a few epochs later, while the network
        starts to memorise), else the epoch of fewest prediction changes
        (where the gates never open, two classes under heavy noise, the capped
        warm-up has memorised the noise)."""
        phase = self.warmup_
        epoch, state = phase.base()
        if state is not None and epoch < phase.end_epoch:
            self.module_.load_state_dict(state)
            self.restart_optimizer()
            self.history.record("warmup_base_epoch", epoch)
        phase.release()

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        if self.refining and self.lr_schedule == "cosine":
            self.anneal_lr(self.warmup_.end_epoch)
        self.history.record("lr", self.optimizer_.param_groups[0]["lr"])

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        self.history.record("refining", self.refining)
        if not self.refining:
            self.warmup_.close_epoch(self.history)
            if self.refining:
                self._restore_warmup_base()
        # Summed over chunks of rows: no (n_samples, n_classes) temporaries.
        figures = torch.zeros(2, device=self.soft_labels_.device)
        for start in range(0, len(self.soft_labels_), ROW_CHUNK):
            soft = self.soft_labels_[start : start + ROW_CHUNK]
            targets = self.targets_[start : start + ROW_CHUNK]
            figures[0] += entropy(soft).sum()
            figures[1] += (soft.argmax(dim=1) != targets).sum()
        soft_entropy, relabelled = (figures / len(self.soft_labels_)).cpu().tolist()
        self.history.record("soft_label_entropy", soft_entropy)
        self.history.record("relabelled_fraction", relabelled)


def _one_hot(targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """One-hot float32 rows of ``targets``, made in chunks of rows (the int64
    index ``scatter_`` needs takes a fixed amount of memory)."""
    soft = torch.zeros(len(targets), n_classes, device=targets.device)
    for start in range(0, len(targets), ROW_CHUNK):
        codes = targets[start : start + ROW_CHUNK].long()[:, None]
        soft[start : start + ROW_CHUNK].scatter_(1, codes, 1.0)
    return soft
