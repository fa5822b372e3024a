"""Loss functions of the two methods, as pure torch functions.

Every function takes logits of shape ``(n, n_classes)`` and returns per-sample
losses with ``reduction="none"`` or their mean with ``reduction="mean"``.
Targets are class indices of shape ``(n,)``; soft targets are rows of shape
``(n, n_classes)`` that sum to 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

PROBA_CLIP = 1e-4
"""IDO clips averaged probabilities into ``[PROBA_CLIP, 1 - PROBA_CLIP]``."""


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}.")


def entropy(proba: Tensor) -> Tensor:
    """Compute the Shannon entropy ``H(p) = -sum_c p_c log p_c`` of each row.

    Parameters
    ----------
    proba : Tensor of shape (n, n_classes)
        Rows of probabilities.

    Returns
    -------
    Tensor of shape (n,)
        The entropy of each row, in nats (``0 log 0`` counts as 0).
    """
    return -torch.xlogy(proba, proba).sum(1)


def ido_loss(
    logits_weak: Tensor,
    logits_strong: Tensor,
    target: Tensor,
    clean_proba: Tensor,
    noisy_proba: Tensor,
    clean_cdf: Tensor,
    noisy_cdf: Tensor,
    reduction: str = "mean",
    entropy_broadcast: bool = False,
) -> Tensor:
    """Compute IDO's dynamic loss (specification §1.4), all coefficients 1.

    Per sample ``i``, with ``p_bar = clip((softmax(z_w) + softmax(z_s)) / 2)``::

        p * (CE(z_w, y) + CE(z_s, y))                        # clean term
        + (p * F0 + (1 - q) * (1 - F1)) * mean_c (z_w - z_s)^2  # consistency
        + (1 - p) * max_c p_bar * H(p_bar)                   # entropy

    Parameters
    ----------
    logits_weak, logits_strong : Tensor of shape (n, n_classes)
        Train-mode logits of the weak and the strong view.
    target : Tensor of shape (n,)
        Given labels (class indices).
    clean_proba, noisy_proba : Tensor of shape (n,)
        Posteriors ``p`` (clean) and ``q`` (noisy) of the wrong-event mixture.
    clean_cdf, noisy_cdf : Tensor of shape (n,)
        The mixture's component CDFs ``F0``, ``F1`` at each sample's count.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.
    entropy_broadcast : bool, default=False
        Reproduce the official code, whose entropy term broadcasts into an
        ``n x n`` matrix: its mean is ``mean(max p_bar) * mean((1 - p) H(p_bar))``.
        Only meaningful with ``reduction="mean"``.

    Returns
    -------
    Tensor
        Per-sample losses of shape (n,) or their reduction.
    """
    # The mixture outputs are constants: no gradient flows into them.
    p, q = clean_proba.detach(), noisy_proba.detach()
    f0, f1 = clean_cdf.detach(), noisy_cdf.detach()
    # Both views at once: fewer, larger kernels than two separate passes.
    log_proba = F.log_softmax(torch.stack([logits_weak, logits_strong]), dim=2)
    ce = -log_proba.gather(2, target.expand(2, -1).unsqueeze(2)).sum(dim=(0, 2))
    clean_term = p * ce
    consistency_weight = p * f0 + (1 - q) * (1 - f1)
    consistency_term = consistency_weight * (logits_weak - logits_strong).pow(2).mean(1)
    proba_mean = log_proba.exp().mean(0).clamp(PROBA_CLIP, 1 - PROBA_CLIP)
    confidence = proba_mean.amax(dim=1)
    doubt_entropy = (1 - p) * entropy(proba_mean)
    if entropy_broadcast:
        if reduction != "mean":
            raise ValueError("entropy_broadcast=True needs reduction='mean'.")
        return (clean_term + consistency_term).mean() + confidence.mean() * (
            doubt_entropy.mean()
        )
    return _reduce(
        clean_term + consistency_term + confidence * doubt_entropy, reduction
    )


def alr_loss(
    logits: Tensor,
    soft_targets: Tensor,
    entropy_weight: float,
    entropy_gate: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Compute ALR's loss (specification §2.1): soft-label CE, gated entropy hardening.

    Per sample: ``-sum_c S_c log p_c + entropy_weight * w * H(p)`` with
    ``p = softmax(z)``.

    Parameters
    ----------
    logits : Tensor of shape (n, n_classes)
        Train-mode logits ``z`` of the batch.
    soft_targets : Tensor of shape (n, n_classes)
        The refined soft labels ``S`` of the batch's rows.
    entropy_weight : float
        Weight of the entropy term.
    entropy_gate : Tensor of shape (n,) or None, default=None
        Per-sample weight ``w`` of the entropy term (e.g. ``max_c S_c``); None
        weights every sample by 1. Treated as a constant.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced.

    Returns
    -------
    Tensor
        The mean or sum of the per-sample losses, or the losses, shape ``(n,)``.
    """
    log_proba = F.log_softmax(logits, dim=1)
    loss = -(soft_targets.detach() * log_proba).sum(1)
    if entropy_weight:
        hardening = -(log_proba.exp() * log_proba).sum(1)
        if entropy_gate is not None:
            hardening = entropy_gate.detach() * hardening
        loss = loss + entropy_weight * hardening
    return _reduce(loss, reduction)
