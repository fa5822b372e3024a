"""Stochastic views of a batch for IDO's stage 2 (method specification §1.4).

A *views* object turns a batch ``x`` into a pair ``(weak, strong)`` of randomly
perturbed copies, drawn independently per sample, on ``x``'s device. Any callable
``views(x) -> (weak, strong)`` works; if it has a ``fit`` method it is cloned and
fitted on the training features (a tensor on the model's device) before training.

:class:`TabularViews` is the default for feature vectors:

* weak: ``x`` plus Gaussian noise of ``noise_scale`` times each feature's standard
  deviation;
* strong: ``int(corruption_rate * n_features)`` of each row's features, a random
  subset per row, replaced by values drawn from that feature's empirical
  distribution in the training data (SCARF, Bahri et al. 2022), plus the same
  kind of noise. With ``class_conditional=True`` (the default) the values come
  from rows of the class the caller names for each row (``WrongEventClassifier``
  names the class its network last predicted for the row), so that the strong
  view stays among that class's rows.

:class:`ImageViews` is the default for images: the official code's stage-1 view
(flip, zero-padded crop), weak view (flip, reflect-padded crop) and strong view
(weak, ``RandAugmentwogeo``, cutout), drawn per sample on pixel values in [0, 1].

A views object may also have ``train_view(x) -> x``, the one augmented view of
stage 1; without it stage 1 trains on ``x`` as it is. One whose
``class_conditional`` attribute is true and whose call takes ``classes`` is
called as ``views(x, classes=...)``, with a class code per row (-1: none) for
its draws to stay in, and fitted as ``fit(X, y)`` with the given labels of
``X`` if its ``fit`` takes ``y`` (``takes_classes``).
"""

from __future__ import annotations

import inspect

import torch
from sklearn.base import BaseEstimator
from torch import Tensor

from .randaugment import cutout, cutout_side, rand_augment


def takes_classes(views) -> bool:
    """Whether ``views`` is class-conditional: its ``class_conditional``
    attribute is true and its call takes ``classes`` (a subclass of
    :class:`TabularViews` that overrides ``__call__(x)`` is not)."""
    return bool(getattr(views, "class_conditional", False)) and accepts_keyword(
        views, "classes"
    )


def accepts_keyword(function, name: str) -> bool:
    """Whether ``function`` accepts the keyword argument ``name``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )


class TabularViews(BaseEstimator):
    """Weak and strong views of tabular rows.

    Parameters
    ----------
    noise_scale : float, default=0.1
        Standard deviation of the Gaussian noise, in units of each feature's
        standard deviation. 0 makes the weak view the identity.
    corruption_rate : float, default=0.3
        Fraction of each row's features replaced in the strong view: exactly
        ``int(corruption_rate * n_features)`` of them, as SCARF corrupts a row
        (none for fewer than ``1 / corruption_rate`` features).
    class_conditional : bool, default=True
        Draw the replacement values from training rows of one class per row:
        the class named by ``classes`` when the views are called, among the
        rows that ``fit``'s ``y`` gives that class. Rows named -1, or every row
        when the views are fitted without ``y`` or called without ``classes``,
        draw from all training rows, as SCARF does.

    Attributes
    ----------
    data_ : Tensor of shape (n_samples, n_features)
        Training features, the source of replacement values.
    scale_ : Tensor of shape (n_features,)
        Standard deviation of each feature.
    noise_std_ : Tensor of shape (n_features,)
        Standard deviation of the added noise, per feature.
    n_replaced_ : int
        Features replaced per row in the strong view.
    donor_order_ : Tensor of shape (n_samples,) or None
        The training rows grouped by class (stable), int32 up to 2**31 rows;
        None without class pools.
    class_start_, class_size_ : Tensor of shape (max(y) + 1,) or None
        Where each class's rows begin in ``donor_order_``, and how many there
        are; a class without rows spans all of them.

    Notes
    -----
    Each row loses the same number of features, as in SCARF, rather than each
    feature independently with probability ``corruption_rate``. On low-
    dimensional data the independent draw often replaces most of a row, which
    moves it into another class's region: on three 2-D blobs, every one of
    them one feature away from the middle one, the strong view of an outer
    blob's row replaced a feature half the time and landed in the middle blob
    about a third of the time, and the clean term's cross-entropy on that view
    taught the middle blob the outer labels (``WrongEventClassifier`` then
    flagged 58% and 99% of the middle blob's clean rows at two seeds of 200;
    none are replaced there now, ``int(0.3 * 2) = 0``).

    Values drawn from the whole table mix the evidence of every class into a
    row: on dense numeric tables (satellite's 36 correlated band values) such a
    view often belongs to no class, and the consistency term, which asks the
    network for the same logits on both views, then costs it accuracy (IDO's
    test accuracy fell below plain training's there). Donors from the class the
    network predicts for the row keep the view among that class's rows without
    telling the network the row's given label: donors from the *given* class
    carried a wrong label's class into its strong view and let DNA's pair noise
    be learnt (``docs/methods.md``, "Views for tabular data").
    """

    def __init__(
        self,
        noise_scale: float = 0.1,
        corruption_rate: float = 0.3,
        class_conditional: bool = True,
    ):
        self.noise_scale = noise_scale
        self.corruption_rate = corruption_rate
        self.class_conditional = class_conditional

    def fit(self, X: Tensor, y: Tensor | None = None) -> TabularViews:
        """Remember the training features, their spread and each class's rows.

        The features are referenced, not copied; the class pools need ``y``.

        Parameters
        ----------
        X : Tensor of shape (n_samples, ...)
            The training features, on the training device.
        y : Tensor of shape (n_samples,) or None, default=None
            Class codes (0 .. n_classes - 1) of the rows of ``X``: the pools of
            class-conditional draws. Ignored unless ``class_conditional``.

        Returns
        -------
        self : TabularViews
            The fitted views.
        """
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
        # The tolerance keeps a product like 0.3 * 10 = 3.0000000000000004 (or
        # 2.9999999999999996) at the count it names.
        self.n_replaced_ = int(self.corruption_rate * self.data_.shape[1] + 1e-9)
        self.donor_order_ = self.class_start_ = self.class_size_ = None
        if self.class_conditional and y is not None:
            self._group_donors(torch.as_tensor(y, device=self.data_.device))
        return self

    def _group_donors(self, y: Tensor) -> None:
        """Index the rows of each class: a class's rows are
        ``donor_order_[class_start_[c] : class_start_[c] + class_size_[c]]``."""
        if y.shape != (len(self.data_),):
            raise ValueError(
                f"y must hold one class per row of X ({len(self.data_)}), got "
                f"shape {tuple(y.shape)}."
            )
        if len(y) and int(y.min()) < 0:
            raise ValueError("y must hold class codes >= 0.")
        codes = y.long()
        order = torch.argsort(codes, stable=True)
        # 4 bytes per row instead of 8 where the row numbers fit.
        if len(order) <= torch.iinfo(torch.int32).max:
            order = order.to(torch.int32)
        self.donor_order_ = order
        size = torch.bincount(codes)
        start = torch.cumsum(size, 0) - size
        # A class without rows draws from all of them.
        empty = size == 0
        self.class_start_ = torch.where(empty, 0, start)
        self.class_size_ = torch.where(empty, len(codes), size)

    def __call__(
        self, x: Tensor, classes: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Draw a weak and a strong view of a batch.

        Parameters
        ----------
        x : Tensor of shape (n, ...)
            A batch of rows, on any device.
        classes : Tensor of shape (n,) or None, default=None
            The class whose training rows donate each row's replaced values; -1,
            a class without training rows, or None for all rows draws from every
            training row.

        Returns
        -------
        weak : Tensor of the shape of ``x``
            ``x`` plus Gaussian noise.
        strong : Tensor of the shape of ``x``
            ``x`` with ``n_replaced_`` of each row's features, a random subset
            per row, replaced by the same features of random training rows (of
            the row's class in ``classes``), plus Gaussian noise.
        """
        flat = x.flatten(1)
        # A random permutation per row; the features it sends below n_replaced_
        # are a uniformly drawn subset of that size.
        permutation = torch.rand(flat.shape, device=flat.device).argsort(dim=1)
        replace = permutation < self.n_replaced_
        donors = self._draw_donors(flat.shape, classes, flat.device)
        # gather along rows: donated[i, j] = data_[donors[i, j], j]
        views = torch.stack(
            [flat, torch.where(replace, self.data_.gather(0, donors), flat)]
        )
        if self.noise_scale:
            views = torch.addcmul(views, self.noise_std_, torch.randn_like(views))
        weak, strong = views.unbind(0)
        return weak.view_as(x), strong.view_as(x)

    def _draw_donors(self, shape, classes: Tensor | None, device) -> Tensor:
        """A donor row per entry of ``shape``: uniform over the training rows,
        or over the rows of each row's class."""
        n_rows = len(self.data_)
        if classes is None or self.donor_order_ is None:
            return torch.randint(n_rows, shape, device=device)
        # One uniform draw per entry, scaled into the class's span of
        # donor_order_ (the same number of draws whatever the classes). float32
        # has 2**24 steps in [0, 1): beyond that many rows some could never
        # donate, so larger tables draw in float64.
        dtype = torch.float32 if n_rows <= 2**24 else torch.float64
        uniform = torch.rand(shape, device=device, dtype=dtype)
        classes = classes.long()
        # Codes beyond the pools (a class absent from the rows the views were
        # fitted on) draw from every row, as -1 does.
        named = (classes >= 0) & (classes < len(self.class_size_))
        pool = classes.clamp(0, len(self.class_size_) - 1)
        start = torch.where(named, self.class_start_[pool], 0)
        size = torch.where(named, self.class_size_[pool], n_rows)
        offset = (uniform * size[:, None]).long().clamp(max=size[:, None] - 1)
        return self.donor_order_[start[:, None] + offset].long()


class ImageViews(BaseEstimator):
    """IDO's image views, as the official code draws them for CIFAR.

    For a batch of pixel values in ``[0, 1]``, shape ``(n, channels, height,
    width)``, every draw is made per sample, on the batch's device:

    * :meth:`train_view`, the one view of stage 1: a horizontal flip with
      probability 0.5 and a random crop after ``padding`` pixels of zero padding
      (the official stage-1 loader's ``RandomCrop(32, padding=4)``);
    * weak: the same with reflection padding (``TransformFixMatch_CIFAR10``);
    * strong: an independent weak draw, then ``RandAugmentwogeo(n=2, m=5)``
      (``sknoisy._ido.randaugment.rand_augment``: two operations from the
      official pool of 16, each applied with probability 0.5 at a level of 1-4
      of 10) and a grey cutout square of ``int(cutout * side)`` pixels.

    The estimators hand the views pixel values: they standardise images only
    after the views, inside the network's forward pass (``normalize_images``).

    Parameters
    ----------
    padding : int or None, default=None
        Crop padding in pixels; None uses 1/8 of the smaller side (4 for 32 px).
    flip : bool, default=True
        Random horizontal flips (turn off for digits or text).
    randaugment_ops : int, default=2
        RandAugment operations per strong view; 0 disables RandAugment.
    randaugment_magnitude : int, default=5
        The official ``m``: levels are drawn from ``1 .. m - 1`` of 10.
    randaugment_prob : float, default=0.5
        Probability that each drawn operation is applied.
    cutout : float, default=0.15
        Side of the cutout square, as a fraction of the image side; 0 disables it.
    """

    def __init__(
        self,
        padding: int | None = None,
        flip: bool = True,
        randaugment_ops: int = 2,
        randaugment_magnitude: int = 5,
        randaugment_prob: float = 0.5,
        cutout: float = 0.15,
    ):
        self.padding = padding
        self.flip = flip
        self.randaugment_ops = randaugment_ops
        self.randaugment_magnitude = randaugment_magnitude
        self.randaugment_prob = randaugment_prob
        self.cutout = cutout

    def check_params(self) -> None:
        """Raise a ValueError for parameters the views cannot use.

        :class:`~sknoisy.WrongEventClassifier` calls it before training.
        """
        if not (isinstance(self.randaugment_ops, int) and self.randaugment_ops >= 0):
            raise ValueError(
                f"randaugment_ops must be an int >= 0, got {self.randaugment_ops!r}."
            )
        if self.randaugment_ops and not 2 <= self.randaugment_magnitude <= 10:
            raise ValueError(
                "randaugment_magnitude is the official m, levels 1..m-1 of 10: it "
                f"must be in 2..10, got {self.randaugment_magnitude!r}."
            )
        if not 0 <= self.randaugment_prob <= 1:
            raise ValueError(
                f"randaugment_prob must be in [0, 1], got {self.randaugment_prob!r}."
            )
        if not 0 <= self.cutout <= 1:
            raise ValueError(
                "cutout is a fraction of the image side, in [0, 1]; got "
                f"{self.cutout!r}."
            )
        if self.padding is not None and self.padding < 0:
            raise ValueError(f"padding must be >= 0 or None, got {self.padding!r}.")

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Draw IDO's weak and strong view of a batch of images.

        Parameters
        ----------
        x : Tensor of shape (n, channels, height, width)
            Pixel values in ``[0, 1]``, on any device.

        Returns
        -------
        weak : Tensor of the shape of ``x``
            A flip and a reflect-padded crop.
        strong : Tensor of the shape of ``x``
            An independent weak draw, RandAugment and a cutout.
        """
        _check_image_batch(x)
        weak = self._flip_and_crop(x, "reflect")
        strong = self._flip_and_crop(x, "reflect")
        if self.randaugment_ops and x.shape[1] in (1, 3):
            strong = rand_augment(
                strong,
                self.randaugment_ops,
                self.randaugment_magnitude,
                self.randaugment_prob,
            )
        if self.cutout:
            side = cutout_side(min(x.shape[-2:]), self.cutout)
            strong = cutout(strong, torch.full((len(x),), float(side)))
        return weak, strong

    def train_view(self, x: Tensor) -> Tensor:
        """Draw the single augmented view of plain training (IDO's stage 1).

        Parameters
        ----------
        x : Tensor of shape (n, channels, height, width)
            Pixel values in ``[0, 1]``, on any device.

        Returns
        -------
        Tensor of the shape of ``x``
            A flip and a zero-padded crop.
        """
        _check_image_batch(x)
        return self._flip_and_crop(x, "constant")

    def _flip_and_crop(self, x: Tensor, padding_mode: str) -> Tensor:
        n, _, height, width = x.shape
        if self.flip:
            flipped = torch.rand(n, device=x.device) < 0.5
            x = torch.where(flipped[:, None, None, None], x.flip(-1), x)
        pad = self.padding if self.padding is not None else min(height, width) // 8
        pad = min(pad, height - 1, width - 1)
        if pad <= 0:
            return x.contiguous()
        padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode=padding_mode)
        top = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
        left = torch.randint(0, 2 * pad + 1, (n, 1), device=x.device)
        rows = top + torch.arange(height, device=x.device)
        cols = left + torch.arange(width, device=x.device)
        batch = torch.arange(n, device=x.device)[:, None, None]
        # channels last for the gather: (n, height, width, channels)
        x = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        return x.permute(0, 3, 1, 2).contiguous()


def _check_image_batch(x: Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(
            f"ImageViews needs batches of shape (n, channels, height, width), "
            f"got {tuple(x.shape)}."
        )
