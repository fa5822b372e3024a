"""IDO's training loop: wrong events, a Label Wave base model, the dynamic loss.

:class:`WrongEventNet` runs both stages of IDO in one skorch fit (see
:class:`sknoisy.WrongEventClassifier` and ``docs/methods.md``). Per batch, in
:meth:`WrongEventNet.training_loss`:

* stage 1: one forward pass on the views' ``train_view`` (if they have one),
  cross-entropy on the given labels; the batch's wrong events are counted and
  its online predictions followed (Label Wave);
* stage 2: a weak and a strong view in one forward pass; the wrong events of
  both views are counted, then the mixture's outputs at the updated counts are
  gathered from the device lookup table and weigh :func:`sknoisy.losses.ido_loss`.
  Class-conditional views (the default ``TabularViews``) draw each row's views
  within the class the weak view last predicted for it (``view_classes_``).

Per epoch: stage 1 records prediction changes and keeps the model of their first
local minimum; at its end the base model is restored, the mixture fitted and the
optimizer restarted; in stage 2 the learning rate follows a cosine and the
mixture is refitted after every epoch.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone

from .._data import as_pixels
from .._label_wave import LabelWavePhase
from .._net import IndexedNet, call_views
from ..losses import ido_loss
from .mixture import WrongEventMixture
from .views import accepts_keyword, takes_classes

VIEW_FIT_SAMPLE = 4096
"""Items of a streamed Dataset that fitted views (``TabularViews``) are fitted
on: their donors and feature spread."""

DECLARED_STAGE2_COST = 2.0
"""A stage-2 epoch's cost relative to a stage-1 epoch until it is measured: two
views of each row in every forward and backward pass."""


def count_wrong_events(
    wrong_events: torch.Tensor,
    rows: torch.Tensor,
    predictions: torch.Tensor,
    targets: torch.Tensor,
) -> torch.Tensor:
    """Add each view's wrong predictions to the rows' counters, in place.

    A wrong event is a training-mode forward pass whose prediction differs from
    the given label (method specification §1.1): one view per sample in stage 1, two
    in stage 2.

    Parameters
    ----------
    wrong_events : Tensor of shape (n_samples,), int16 or int32
        The counters, updated in place.
    rows : Tensor of shape (batch_size,)
        The batch's rows (distinct).
    predictions : Tensor of shape (n_views, batch_size)
        The predicted class of each view of each sample.
    targets : Tensor of shape (batch_size,)
        The given labels.

    Returns
    -------
    Tensor of shape (batch_size,)
        The rows' updated counts.
    """
    wrong = (predictions != targets).sum(0, dtype=wrong_events.dtype)
    counts = wrong_events[rows] + wrong
    wrong_events[rows] = counts
    return counts


class WrongEventNet(IndexedNet):
    """skorch net running IDO's two stages; see :class:`WrongEventClassifier`.

    Parameters
    ----------
    stage1_epochs : int
        Epochs of stage 1 (plain training and counting).
    views : callable
        ``views(x) -> (weak, strong)``; fitted on the training features first if
        it has ``fit``.
    per_class_mixture : bool
        One Beta mixture per given class.
    mixture_iter, mixture_refit_iter : int
        EM iterations of the first fit and of each warm-started refit.
    label_wave_window : int
        Moving-average window of the prediction changes.
    entropy_term : {"per_sample", "official"}
        How the entropy term is reduced (see :func:`sknoisy.losses.ido_loss`).
    lr_schedule : {"cosine", "constant"}
        The learning rate in stage 2: a cosine from ``lr`` to 0 over its epochs
        (:meth:`IndexedNet.anneal_lr`), or left as stage 1 left it.
    """

    print_log_hidden = (
        *IndexedNet.print_log_hidden,
        "mixture",
        "prediction_changes",
        "base_epoch",
    )

    def __init__(
        self,
        *args,
        stage1_epochs,
        views,
        per_class_mixture,
        mixture_iter,
        mixture_refit_iter,
        label_wave_window,
        entropy_term,
        lr_schedule,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.stage1_epochs = stage1_epochs
        self.views = views
        self.per_class_mixture = per_class_mixture
        self.mixture_iter = mixture_iter
        self.mixture_refit_iter = mixture_refit_iter
        self.label_wave_window = label_wave_window
        self.entropy_term = entropy_term
        self.lr_schedule = lr_schedule

    # -- per-sample state ------------------------------------------------------
    def sample_state(self, targets, dataset):
        n_samples = len(targets)
        views = self._fitted_views(dataset, targets)
        # The class each row's class-conditional views stay in: the weak view's
        # prediction at the row's latest stage-2 step, -1 ("none") before it.
        view_classes = None
        if takes_classes(views):
            view_classes = torch.full_like(targets, -1)
        return {
            "wrong_events_": torch.zeros(
                n_samples, dtype=self._count_dtype(), device=self.device
            ),
            "clean_proba_": np.ones(n_samples),
            "stage1_": LabelWavePhase(
                targets,
                length=self.stage1_epochs,
                window=self.label_wave_window,
                snapshot=self._snapshot,
            ),
            "table_": None,
            "views_": views,
            "view_classes_": view_classes,
        }

    def epoch_state(self):
        state = [*super().epoch_state(), self.wrong_events_]
        if self.stage_ == 1:
            state.append(self.stage1_.tracker.current)
        elif self.view_classes_ is not None:
            state.append(self.view_classes_)
        return state

    def _count_dtype(self) -> torch.dtype:
        """int16 while every count fits (at most two per epoch), else int32."""
        fits = 2 * int(self.max_epochs) <= torch.iinfo(torch.int16).max
        return torch.int16 if fits else torch.int32

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self.data_parallel is not None and self.entropy_term == "official":
            raise ValueError(
                'entropy_term="official" multiplies two batch means, which a '
                "data-parallel fit cannot split over its processes; use the "
                'default entropy_term="per_sample", or distributed=False.'
            )
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.mixture_ = WrongEventMixture(
            len(self.classes), per_class=self.per_class_mixture
        )
        self.stage_ = 1
        self.base_epoch_ = None
        self.stage2_step_seconds_ = None
        self._cost_probe = None

    def _fitted_views(self, dataset, targets):
        """The views, checked, and cloned and fitted on the training features if
        they fit: all of them in memory, or ``VIEW_FIT_SAMPLE`` items spread
        evenly over a streamed Dataset (its empirical distribution, estimated
        without reading it whole). Class-conditional views are fitted with the
        given labels of those rows too."""
        check = getattr(self.views, "check_params", None)
        if check is not None:
            check()
        if not hasattr(self.views, "fit"):
            return self.views
        features = getattr(dataset, "features", None)
        rows = slice(None)
        if features is None:
            picks = np.linspace(0, len(dataset) - 1, min(len(dataset), VIEW_FIT_SAMPLE))
            rows = np.unique(picks.round()).astype(np.int64)
            features = as_pixels(dataset.inputs_at(rows))
        views = clone(self.views)
        if takes_classes(views) and accepts_keyword(views.fit, "y"):
            return views.fit(features.to(self.device), y=targets[rows])
        return views.fit(features.to(self.device))

    def epoch_plan(self) -> list[tuple[str, float]]:
        """Each epoch's phase and relative cost, for progress estimates.

        A stage-2 step trains on two views of each row, a stage-1 step on one:
        stage 2 costs ``DECLARED_STAGE2_COST`` until the end of the first
        epoch, then a stage-1 epoch plus the extra seconds of a stage-2 step
        (:meth:`_time_steps`) in each of its batches.
        """
        stage1 = min(int(self.stage1_epochs), int(self.max_epochs))
        return [("stage 1", 1.0)] * stage1 + [("stage 2", self._stage2_cost())] * (
            int(self.max_epochs) - stage1
        )

    def _stage2_cost(self) -> float:
        """A stage-2 epoch's cost in stage-1 epochs: ``1 + batches * (t2 - t1) / T1``
        with ``t1``, ``t2`` one step of each stage and ``T1`` the latest stage-1
        epoch's duration (the first one's only while it is the only one: it
        pays torch's first calls). Per-batch costs outside the step (loading,
        bookkeeping) are the same in both stages."""
        steps = getattr(self, "stage2_step_seconds_", None)
        stage1_epochs = [
            row
            for row in self.history
            if row.get("stage") == 1 and "dur" in row and "train_batch_count" in row
        ]
        if steps is None or not stage1_epochs:
            return DECLARED_STAGE2_COST
        latest = stage1_epochs[-1]
        extra = latest["train_batch_count"] * (steps[1] - steps[0])
        return max(1.0, 1.0 + extra / max(latest["dur"], 1e-9))

    def _time_steps(self, x, rows, y) -> tuple[float, float]:
        """Seconds of a stage-1 and of a stage-2 step on one batch.

        Each step runs its views, a training-mode forward pass and the
        gradients; the stage-2 step runs once untimed first (its first calls),
        the stage-1 step has run all epoch. Nothing the fit uses changes: the
        random draws are forked, the gradients are returned rather than
        accumulated, and the module's buffers (BatchNorm statistics) are put
        back. One host synchronisation per run, once per fit.
        """
        params = [p for p in self.module_.parameters() if p.requires_grad]
        buffers = [b.detach().clone() for b in self.module_.buffers()]
        train_view = getattr(self.views_, "train_view", None)

        def stage1_step():
            logits = self.infer(x if train_view is None else train_view(x))
            return F.cross_entropy(logits, y)

        # The shard's own rows, outside draw_views: its global batch is the
        # epoch's last, not this probe's.
        classes = self._view_classes_at(rows)

        def stage2_step():
            logits = self.infer(torch.cat(call_views(self.views_, x, classes)))
            return F.cross_entropy(logits, y.repeat(2))

        device = torch.device(self.device)
        forked = [device.index or 0] if device.type == "cuda" else []
        seconds = []
        with torch.random.fork_rng(devices=forked):
            for step in (stage1_step, stage2_step, stage2_step):
                _synchronize(device)
                start = time.perf_counter()
                torch.autograd.grad(step(), params, allow_unused=True)
                _synchronize(device)
                seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            for buffer, saved in zip(self.module_.buffers(), buffers):
                buffer.copy_(saved)
        return seconds[0], seconds[2]

    # -- the training step -----------------------------------------------------
    def training_loss(self, x, rows, y, **fit_params):
        x = as_pixels(x)  # the views work on pixel values; infer standardises
        if self.stage_ == 1:
            train_view = getattr(self.views_, "train_view", None)
            logits = self.infer(
                x if train_view is None else self.draw_views(train_view, x),
                **fit_params,
            )
            if self._cost_probe is None and self.stage2_step_seconds_ is None:
                self._cost_probe = (x, rows, y)  # timed at the end of the first epoch
            predictions = logits.detach().argmax(dim=1)
            count_wrong_events(self.wrong_events_, rows, predictions[None], y)
            self.stage1_.observe(rows, predictions)
            return self.get_loss(logits, y, training=True), logits
        weak, strong = self._draw_stage2_views(x, rows)
        logits = self.infer(torch.cat([weak, strong]), **fit_params)
        logits_weak, logits_strong = logits.chunk(2)
        predictions = logits.detach().argmax(dim=1).view(2, -1)
        if self.view_classes_ is not None:
            self.view_classes_[rows] = predictions[0].to(self.view_classes_.dtype)
        counts = count_wrong_events(self.wrong_events_, rows, predictions, y)
        counts = counts.clamp(max=self.table_.shape[1] - 1).long()
        clean_proba, noisy_proba, clean_cdf, noisy_cdf = self.table_[y, counts].unbind(
            1
        )
        loss = ido_loss(
            logits_weak,
            logits_strong,
            y,
            clean_proba,
            noisy_proba,
            clean_cdf,
            noisy_cdf,
            entropy_broadcast=self.entropy_term == "official",
        )
        return loss, logits_weak

    def _draw_stage2_views(self, x, rows):
        """The weak and strong view of a batch; class-conditional views stay in
        the class each row's weak view last predicted (``view_classes_``)."""
        return self.draw_views(self.views_, x, classes=self._view_classes_at(rows))

    def _view_classes_at(self, rows):
        """The rows' ``view_classes_``, or None for views that take no classes."""
        return None if self.view_classes_ is None else self.view_classes_[rows]

    # -- epochs -----------------------------------------------------------------
    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        if self.stage_ == 2 and self.lr_schedule == "cosine":
            self.anneal_lr(self.stage1_epochs)
        self.history.record("stage", self.stage_)
        self.history.record("lr", self.optimizer_.param_groups[0]["lr"])

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        if self.stage_ == 2:
            self._fit_mixture(self.mixture_refit_iter)
            return
        if self._cost_probe is not None:
            self.stage2_step_seconds_ = self._time_steps(*self._cost_probe)
            self._cost_probe = None
        self.stage1_.close_epoch(self.history)
        if not self.stage1_.running:
            self._start_stage2()
        else:  # no mixture yet; recorded so that the verbose table keeps its columns
            self.history.record("noisy_fraction", float("nan"))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        if self.stage_ == 1:  # stopped early, or no epoch left for stage 2
            phase = self.stage1_
            self.base_epoch_ = phase.minimum_epoch or len(self.history)
            phase.release()
            self._fit_mixture(self.mixture_iter)

    def _start_stage2(self) -> None:
        """Restore the base model, fit the mixture, start a fresh optimizer."""
        phase = self.stage1_
        if phase.minimum_epoch is None:  # PC kept falling: the last stage-1 epoch
            self.base_epoch_ = phase.end_epoch
        else:
            self.base_epoch_ = phase.minimum_epoch
            self.module_.load_state_dict(phase.minimum_state)
        phase.release()
        self.history.record("base_epoch", self.base_epoch_)
        self._fit_mixture(self.mixture_iter)
        self.restart_optimizer()
        self.stage_ = 2

    def _fit_mixture(self, n_iter: int) -> None:
        """Refit the mixture on the current counts; rebuild the device lookup table."""
        # One transfer per epoch: the counts and the given labels together, in
        # the narrowest type that holds both.
        common = torch.promote_types(self.wrong_events_.dtype, self.targets_.dtype)
        counts, labels, trained = (
            torch.stack(
                [self.wrong_events_, self.targets_.to(common), self.trained_.to(common)]
            )
            .cpu()
            .numpy()
        )
        trained = trained.astype(bool)
        epochs = len(self.history)
        passes = min(epochs, self.stage1_epochs) + 2 * max(
            0, epochs - self.stage1_epochs
        )
        # Rows never trained on (held out by train_split) have no wrong events
        # to tell; the mixture is fitted on the trained rows only.
        self.mixture_.fit(counts[trained], labels[trained], n_iter, passes=passes)
        self.table_ = torch.as_tensor(
            self.mixture_.loss_table(), dtype=torch.float32, device=self.device
        )
        table = self.mixture_.table()
        self.clean_proba_ = table[labels, np.minimum(counts, len(table[0]) - 1), 0]
        self.history.record("mixture", self.mixture_.params())
        self.history.record("noisy_fraction", float(np.mean(self.clean_proba_ < 0.5)))


def _synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (for a timing; a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
