"""Stochastic views of a batch for IDO's stage 2 (methods.md §1.4).

A *views* object turns a batch ``x`` into a pair ``(weak, strong)`` of randomly
perturbed copies, drawn independently per sample, on ``x``'s device. Any callable
``views(x) -> (weak, strong)`` works; if it has a ``fit(X)`` method it is cloned and
fitted on the training features (a tensor on the model's device) before training.

:class:`TabularViews` is the default, for generic feature vectors:

* weak: ``x`` plus Gaussian noise of ``noise_scale`` times each feature's standard
  deviation;
* strong: a ``corruption_rate`` fraction of each row's features replaced by values
  drawn from that feature's empirical distribution in the training data (SCARF,
  Bahri et al. 2022), plus the same kind of noise.
"""

from __future__ import annotations

import torch
from sklearn.base import BaseEstimator
from torch import Tensor


class TabularViews(BaseEstimator):
    """Weak and strong views of tabular rows.

    Parameters
    ----------
    noise_scale : float, default=0.1
        Standard deviation of the Gaussian noise, in units of each feature's
        standard deviation. 0 makes the weak view the identity.
    corruption_rate : float, default=0.3
        Fraction of each row's features replaced in the strong view.

    Attributes
    ----------
    data_ : Tensor of shape (n_samples, n_features)
        Training features, the source of replacement values.
    scale_ : Tensor of shape (n_features,)
        Standard deviation of each feature.
    noise_std_ : Tensor of shape (n_features,)
        Standard deviation of the added noise, per feature.
    """

    def __init__(self, noise_scale: float = 0.1, corruption_rate: float = 0.3):
        self.noise_scale = noise_scale
        self.corruption_rate = corruption_rate

    def fit(self, X: Tensor, y=None) -> TabularViews:
        """Remember the training features (not copied) and their spread."""
        if not 0 <= self.corruption_rate <= 1:
            raise ValueError(
                f"corruption_rate must be in [0, 1], got {self.corruption_rate!r}."
            )
        if self.noise_scale < 0:
            raise ValueError(f"noise_scale must be >= 0, got {self.noise_scale!r}.")
        self.data_ = X.flatten(1)
        if len(self.data_) > 1:
            self.scale_ = self.data_.std(0)
        else:
            self.scale_ = torch.ones_like(self.data_[0])
        self.noise_std_ = self.noise_scale * self.scale_
        return self

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        flat = x.flatten(1)
        replace = torch.rand(flat.shape, device=flat.device) < self.corruption_rate
        donors = torch.randint(len(self.data_), flat.shape, device=flat.device)
        # gather along rows: donated[i, j] = data_[donors[i, j], j]
        views = torch.stack(
            [flat, torch.where(replace, self.data_.gather(0, donors), flat)]
        )
        if self.noise_scale:
            views = torch.addcmul(views, self.noise_std_, torch.randn_like(views))
        weak, strong = views.unbind(0)
        return weak.view_as(x), strong.view_as(x)
