"""IDO's strong-view RandAugment, batched: ``RandAugmentwogeo`` on pixel tensors.

The official code (``dataloader/randaugment.py``, class ``RandAugmentwogeo``,
used as ``RandAugmentwogeo(n=2, m=5)`` for CIFAR) draws, per image, ``n``
operations from a pool of 16 with replacement; each is applied with probability
0.5, at a level drawn uniformly from ``1 .. m - 1`` (``np.random.randint(1, m)``)
on a scale of 10. It works on PIL images, one at a time.

Here every draw is made per sample as there, but the images are a batch tensor
``(n, channels, height, width)`` of pixel values in ``[0, 1]``, on any device:
each operation runs once per round on the images that drew it, with one value
per image (no per-image Python calls, only public torch operations). The draws
are made on the CPU, so a GPU batch does not wait for the host.

The operations follow PIL's definitions (``ImageOps``, ``ImageEnhance``,
``Image.transform``); on float pixels they are exact up to PIL's rounding to 8
bits between operations, which is kept where an operation depends on it
(posterize, equalize, solarize).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LEVEL_SCALE = 10
"""The official pool's magnitude scale (``PARAMETER_MAX``)."""

_LUMA = (0.299, 0.587, 0.114)
"""PIL's RGB to grey weights (``convert("L")``)."""


def _grey(x: Tensor) -> Tensor:
    """PIL's luminance, shape (n, 1, h, w); grey images are their own."""
    if x.shape[1] != 3:
        return x.mean(1, keepdim=True)
    weights = torch.tensor(_LUMA, dtype=x.dtype, device=x.device)
    return (x * weights[:, None, None]).sum(1, keepdim=True)


def _blend(degenerate: Tensor, x: Tensor, factor: Tensor) -> Tensor:
    """``ImageEnhance``: ``degenerate + factor (x - degenerate)``, clipped."""
    factor = factor.to(x.device, x.dtype)[:, None, None, None]
    return (degenerate + factor * (x - degenerate)).clamp(0, 1)


def _to_levels(x: Tensor) -> Tensor:
    """Pixel values in [0, 1] as the 8-bit levels 0..255 (float)."""
    return (x * 255).round()


def auto_contrast(x: Tensor, value: Tensor) -> Tensor:
    """Stretch each channel's range to [0, 1] (channels without spread kept)."""
    low = x.amin(dim=(2, 3), keepdim=True)
    high = x.amax(dim=(2, 3), keepdim=True)
    span = high - low
    stretched = (x - low) / span.clamp_min(1e-12)
    return torch.where(span > 0, stretched, x)


def brightness(x: Tensor, factor: Tensor) -> Tensor:
    return _blend(torch.zeros_like(x), x, factor)


def color(x: Tensor, factor: Tensor) -> Tensor:
    return _blend(_grey(x).expand_as(x), x, factor)


def contrast(x: Tensor, factor: Tensor) -> Tensor:
    mean = _to_levels(_grey(x)).mean(dim=(1, 2, 3), keepdim=True)
    return _blend((mean.round() / 255).expand_as(x), x, factor)


def sharpness(x: Tensor, factor: Tensor) -> Tensor:
    """Blend with PIL's SMOOTH filter (centre 5, neighbours 1); borders kept."""
    channels = x.shape[1]
    kernel = torch.ones(3, 3, dtype=x.dtype, device=x.device)
    kernel[1, 1] = 5
    kernel = (kernel / kernel.sum()).expand(channels, 1, 3, 3)
    smooth = F.conv2d(x, kernel, groups=channels)
    degenerate = x.clone()
    degenerate[:, :, 1:-1, 1:-1] = smooth
    return _blend(degenerate, x, factor)


def cutout(x: Tensor, size: Tensor, fill: float = 0.5) -> Tensor:
    """``CutoutAbs``: a ``size`` x ``size`` grey square at a uniform position.

    As the official code, the square's corner is the drawn centre minus half the
    size, clipped to the image, so squares at the border are smaller.
    """
    n, _, height, width = x.shape
    device = x.device
    size = size.to(device=device, dtype=torch.float32)
    centre_x = torch.rand(n, device=device) * width
    centre_y = torch.rand(n, device=device) * height
    x0 = (centre_x - size / 2).clamp_min(0).floor()
    y0 = (centre_y - size / 2).clamp_min(0).floor()
    x1 = (x0 + size).clamp_max(width).floor()
    y1 = (y0 + size).clamp_max(height).floor()
    cols = torch.arange(width, device=device)
    rows = torch.arange(height, device=device)
    inside_x = (cols >= x0[:, None]) & (cols <= x1[:, None])
    inside_y = (rows >= y0[:, None]) & (rows <= y1[:, None])
    # PIL's rectangle includes its far corner (a size of 0 paints one pixel).
    hole = inside_y[:, :, None] & inside_x[:, None, :]
    return x.masked_fill(hole[:, None], fill)


def _cutout_op(x: Tensor, fraction: Tensor) -> Tensor:
    side = min(x.shape[-2:])
    return cutout(x, (fraction * side).floor())


def equalize(x: Tensor, value: Tensor) -> Tensor:
    """PIL's ``ImageOps.equalize``, per image and channel, on 8-bit levels."""
    levels = _to_levels(x).long()
    n, channels, height, width = x.shape
    flat = levels.reshape(n * channels, -1)
    hist = torch.zeros(n * channels, 256, device=x.device, dtype=torch.long)
    hist.scatter_add_(1, flat, torch.ones_like(flat))
    # PIL: step = (pixels - count of the last non-empty level) // 255
    last = 255 - (hist.flip(1) > 0).long().argmax(1)
    step = (height * width - hist.gather(1, last[:, None]).squeeze(1)) // 255
    cumulative = hist.cumsum(1) - hist  # pixels below each level
    lut = ((cumulative + (step // 2)[:, None]) // step.clamp_min(1)[:, None]).clamp(
        max=255
    )
    mapped = lut.gather(1, flat).view_as(levels)
    keep = (step == 0).view(n, channels, 1, 1)
    return torch.where(keep, levels, mapped).to(x.dtype) / 255


def invert(x: Tensor, value: Tensor) -> Tensor:
    return 1 - x


def posterize(x: Tensor, bits: Tensor) -> Tensor:
    """Keep the ``bits`` highest bits of each 8-bit level."""
    shift = (8 - bits.to(x.device).long())[:, None, None, None]
    levels = _to_levels(x).long()
    return ((levels >> shift) << shift).to(x.dtype) / 255


def solarize(x: Tensor, threshold: Tensor) -> Tensor:
    """Invert the levels at or above ``threshold`` (0..256)."""
    threshold = threshold.to(x.device, x.dtype)[:, None, None, None]
    levels = _to_levels(x)
    return torch.where(levels >= threshold, 255 - levels, levels) / 255


def solarize_add(x: Tensor, amount: Tensor) -> Tensor:
    """Add ``amount`` levels, clip, then solarize at 128."""
    amount = amount.to(x.device, x.dtype)[:, None, None, None]
    levels = (_to_levels(x) + amount).clamp(0, 255)
    return torch.where(levels >= 128, 255 - levels, levels) / 255


def _affine(x: Tensor, matrices: Tensor) -> Tensor:
    """PIL's ``Image.transform(AFFINE)``: output pixel (u, v) samples the input at
    ``matrices @ (u, v, 1)``, in pixel coordinates; nearest pixel, black fill.
    """
    n, _, height, width = x.shape
    matrices = matrices.to(x.device, x.dtype)
    # normalised coordinates (align_corners=False): u_n = (2u + 1) / W - 1
    to_pixels = torch.tensor(
        [[width / 2, 0, width / 2 - 0.5], [0, height / 2, height / 2 - 0.5], [0, 0, 1]],
        dtype=x.dtype,
        device=x.device,
    )
    # its inverse in closed form (torch.linalg.inv checks for errors on the host)
    to_normal = torch.tensor(
        [[2 / width, 0, 1 / width - 1], [0, 2 / height, 1 / height - 1], [0, 0, 1]],
        dtype=x.dtype,
        device=x.device,
    )
    last_row = torch.tensor([0, 0, 1], dtype=x.dtype, device=x.device)
    full = torch.cat([matrices, last_row.expand(n, 1, 3)], dim=1)
    theta = (to_normal @ full @ to_pixels)[:, :2]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", align_corners=False)


def _matrices(n: int, entries: dict[tuple[int, int], Tensor]) -> Tensor:
    matrices = torch.eye(3)[:2].repeat(n, 1, 1)
    for (row, col), value in entries.items():
        matrices[:, row, col] = value
    return matrices


def rotate(x: Tensor, degrees: Tensor) -> Tensor:
    """PIL's ``rotate``: counter-clockwise about the centre."""
    height, width = x.shape[-2:]
    angle = torch.deg2rad(degrees.float())
    cos, sin = torch.cos(angle), torch.sin(angle)
    cx, cy = (width - 1) / 2, (height - 1) / 2  # PIL's centre, in pixel indices
    # inverse map of a counter-clockwise rotation in image coordinates (y down)
    matrices = _matrices(
        len(x),
        {
            (0, 0): cos,
            (0, 1): -sin,
            (0, 2): cx - cos * cx + sin * cy,
            (1, 0): sin,
            (1, 1): cos,
            (1, 2): cy - sin * cx - cos * cy,
        },
    )
    return _affine(x, matrices)


def shear_x(x: Tensor, amount: Tensor) -> Tensor:
    return _affine(x, _matrices(len(x), {(0, 1): amount.float()}))


def shear_y(x: Tensor, amount: Tensor) -> Tensor:
    return _affine(x, _matrices(len(x), {(1, 0): amount.float()}))


def translate_x(x: Tensor, fraction: Tensor) -> Tensor:
    shift = (fraction * x.shape[-1]).trunc()
    return _affine(x, _matrices(len(x), {(0, 2): shift.float()}))


def translate_y(x: Tensor, fraction: Tensor) -> Tensor:
    shift = (fraction * x.shape[-2]).trunc()
    return _affine(x, _matrices(len(x), {(1, 2): shift.float()}))


# (operation, maximum value, bias, value kind, random sign): the official
# ``new_augment_pool``; a level ``v`` in 1..m-1 gives ``v * max / 10 + bias``,
# truncated to an int for the "int" kinds.
POOL = (
    (auto_contrast, None, None, "none", False),
    (brightness, 1.8, 0.1, "float", False),
    (color, 1.8, 0.1, "float", False),
    (contrast, 1.8, 0.1, "float", False),
    (_cutout_op, 0.1, 0, "float", False),
    (equalize, None, None, "none", False),
    (invert, None, None, "none", False),
    (posterize, 4, 4, "int", False),
    (rotate, 30, 0, "int", True),
    (sharpness, 1.8, 0.1, "float", False),
    (shear_x, 0.1, 0, "float", True),
    (shear_y, 0.1, 0, "float", True),
    (solarize, 256, 0, "solarize", False),
    (solarize_add, 110, 0, "int", True),
    (translate_x, 0.05, 0, "float", True),
    (translate_y, 0.05, 0, "float", True),
)
"""The 16 operations of the official ``RandAugmentwogeo`` pool."""


def _values(spec, levels: Tensor) -> Tensor:
    """Each drawn level's operation value, as the official code computes it."""
    _, max_value, bias, kind, signed = spec
    if kind == "none":
        return torch.zeros(len(levels))
    if kind == "float":
        values = levels.double() * max_value / LEVEL_SCALE + bias
    else:
        values = (levels.double() * max_value / LEVEL_SCALE).trunc() + bias
    if kind == "solarize":  # PIL.ImageOps.solarize(img, 256 - v)
        values = 256 - values
    if signed:
        values = torch.where(torch.rand(len(levels)) < 0.5, -values, values)
    return values.float()


def rand_augment(
    x: Tensor, n_ops: int = 2, magnitude: int = 5, prob: float = 0.5
) -> Tensor:
    """``RandAugmentwogeo(n_ops, magnitude)`` without its closing cutout.

    Parameters
    ----------
    x : Tensor of shape (n, channels, height, width)
        Pixel values in [0, 1].
    n_ops : int, default=2
        Operations drawn per image, with replacement.
    magnitude : int, default=5
        ``m`` of the official code: levels are drawn from ``1 .. m - 1`` of 10.
    prob : float, default=0.5
        Probability that each drawn operation is applied.

    Returns
    -------
    Tensor
        The augmented batch (a new tensor).
    """
    if not 2 <= magnitude <= LEVEL_SCALE:
        raise ValueError(f"magnitude must be in 2..10, got {magnitude!r}.")
    n = len(x)
    x = x.clone()
    for _ in range(n_ops):
        drawn = torch.randint(len(POOL), (n,))
        levels = torch.randint(1, magnitude, (n,))
        applied = torch.rand(n) < prob
        for op_index in drawn[applied].unique().tolist():
            rows = ((drawn == op_index) & applied).nonzero().squeeze(1)
            spec = POOL[op_index]
            values = _values(spec, levels[rows])
            device_rows = rows.to(x.device, non_blocking=True)
            x[device_rows] = spec[0](x[device_rows], values)
    return x


def cutout_side(side: int, fraction: float) -> int:
    """The official closing cutout's side, ``int(side * fraction)``."""
    return math.floor(side * fraction)
