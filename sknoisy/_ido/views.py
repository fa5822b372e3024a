"""Stochastic views of a batch for IDO's stage 2 (methods.md §1.4).

A *views* object turns a batch ``x`` into a pair ``(weak, strong)`` of randomly
perturbed copies, drawn independently per sample, on ``x``'s device. Any callable
``views(x) -> (weak, strong)`` works; if it has a ``fit(X)`` method it is cloned and
fitted on the training features (a tensor on the model's device) before training.

:class:`TabularViews` is the default for feature vectors:

* weak: ``x`` plus Gaussian noise of ``noise_scale`` times each feature's standard
  deviation;
* strong: a ``corruption_rate`` fraction of each row's features replaced by values
  drawn from that feature's empirical distribution in the training data (SCARF,
  Bahri et al. 2022), plus the same kind of noise.

:class:`ImageViews` is the default for images: the paper's weak (crop and flip) and
strong (crop, flip, RandAugment, cutout) augmentations, drawn per sample.
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


class ImageViews(BaseEstimator):
    """Weak and strong views of image batches, as in IDO's paper.

    For a batch of shape ``(n, channels, height, width)``, every draw is made per
    sample, on the batch's device:

    * weak: random crop after ``padding`` pixels of reflection padding, and a
      horizontal flip with probability 0.5;
    * strong: an independent weak draw, then RandAugment (``randaugment_ops`` ops
      of ``randaugment_magnitude``; 1- or 3-channel images only) and cutout (a
      square of side ``cutout`` times the image side set to 0).

    RandAugment's operations are defined on 8-bit images, so each image is mapped
    to ``[0, 255]`` by its own range for them and mapped back afterwards; inputs can
    be standardised floats.

    Parameters
    ----------
    padding : int or None, default=None
        Crop padding in pixels; None uses 1/8 of the smaller side (4 for 32 px).
    flip : bool, default=True
        Random horizontal flips (turn off for digits or text).
    randaugment_ops : int, default=2
        RandAugment operations per strong view; 0 disables RandAugment.
    randaugment_magnitude : int, default=9
        RandAugment magnitude, 0-30.
    cutout : float, default=0.5
        Side of the cutout square, as a fraction of the image side; 0 disables it.
    """

    def __init__(
        self,
        padding: int | None = None,
        flip: bool = True,
        randaugment_ops: int = 2,
        randaugment_magnitude: int = 9,
        cutout: float = 0.5,
    ):
        self.padding = padding
        self.flip = flip
        self.randaugment_ops = randaugment_ops
        self.randaugment_magnitude = randaugment_magnitude
        self.cutout = cutout

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.ndim != 4:
            raise ValueError(
                f"ImageViews needs batches of shape (n, channels, height, width), "
                f"got {tuple(x.shape)}."
            )
        weak = self._crop_and_flip(x)
        strong = self._cutout(self._randaugment(self._crop_and_flip(x)))
        return weak, strong

    def _crop_and_flip(self, x: Tensor) -> Tensor:
        n, _, height, width = x.shape
        pad = self.padding if self.padding is not None else min(height, width) // 8
        pad = min(pad, height - 1, width - 1)
        if pad > 0:
            padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
            top = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
            left = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
            rows = top + torch.arange(height, device=x.device)
            cols = left + torch.arange(width, device=x.device)
            batch = torch.arange(n, device=x.device)[:, None, None]
            # channels last for the gather: (n, height, width, channels)
            x = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
            x = x.permute(0, 3, 1, 2)
        if self.flip:
            flipped = torch.rand(n, device=x.device) < 0.5
            x = torch.where(flipped[:, None, None, None], x.flip(-1), x)
        return x.contiguous()

    def _randaugment(self, x: Tensor) -> Tensor:
        if not self.randaugment_ops or x.shape[1] not in (1, 3):
            return x
        from torchvision.transforms import v2

        augment = v2.RandAugment(
            num_ops=self.randaugment_ops, magnitude=self.randaugment_magnitude
        )
        low = x.amin(dim=(1, 2, 3), keepdim=True)
        span = (x.amax(dim=(1, 2, 3), keepdim=True) - low).clamp_min(1e-12)
        images = ((x - low) / span * 255).round().to(torch.uint8)
        if hasattr(augment, "_apply_image_or_video_transform"):
            images = _grouped_randaugment(augment, images)
        else:  # pragma: no cover - other torchvision versions
            images = torch.stack([augment(image) for image in images])
        return images.to(x.dtype) / 255 * span + low

    def _cutout(self, x: Tensor) -> Tensor:
        if not self.cutout:
            return x
        n, _, height, width = x.shape
        half = self.cutout * min(height, width) / 2
        centre_y = torch.randint(0, height, (n, 1), device=x.device)
        centre_x = torch.randint(0, width, (n, 1), device=x.device)
        inside_y = (torch.arange(height, device=x.device) - centre_y).abs() < half
        inside_x = (torch.arange(width, device=x.device) - centre_x).abs() < half
        hole = inside_y[:, :, None] & inside_x[:, None, :]
        return x.masked_fill(hole[:, None], 0.0)


def _grouped_randaugment(augment, images: Tensor) -> Tensor:
    """torchvision's RandAugment with independent draws per image, batched by op.

    Each image draws its own operation and sign for every one of the
    ``num_ops`` rounds, as a per-image call would; the images that drew the same
    (operation, sign) are then transformed in one batched call with torchvision's
    own operation table and magnitudes, instead of one call per image.
    """
    space = augment._AUGMENTATION_SPACE
    names = list(space)
    height, width = images.shape[-2:]
    n_images = len(images)
    images = images.clone()
    for _ in range(augment.num_ops):
        drawn = torch.randint(len(names), (n_images,))
        negative = torch.rand(n_images) <= 0.5
        for op in drawn.unique().tolist():
            magnitudes_fn, signed = space[names[op]]
            magnitudes = magnitudes_fn(augment.num_magnitude_bins, height, width)
            magnitude = (
                0.0 if magnitudes is None else float(magnitudes[augment.magnitude])
            )
            chosen = drawn == op
            groups = [(chosen, magnitude)]
            if signed and magnitudes is not None:
                groups = [
                    (chosen & ~negative, magnitude),
                    (chosen & negative, -magnitude),
                ]
            for mask, value in groups:
                rows = mask.nonzero().squeeze(1).to(images.device)
                if len(rows) == 0:
                    continue
                images[rows] = augment._apply_image_or_video_transform(
                    images[rows],
                    names[op],
                    value,
                    interpolation=augment.interpolation,
                    fill=augment._fill,
                )
    return images
