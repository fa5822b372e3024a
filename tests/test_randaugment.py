"""IDO's batched RandAugmentwogeo (sknoisy._ido.randaugment) against PIL."""

import numpy as np
import pytest
import torch

PIL = pytest.importorskip("PIL")
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

from sknoisy._ido import randaugment  # noqa: E402


@pytest.fixture(scope="module")
def images():
    """Four smooth 16x16 RGB images as uint8 (PIL) and pixel tensors."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (4, 16, 16, 3))
    arrays = (np.cumsum(noise, axis=1) // 16 % 256).astype(np.uint8)
    pixels = torch.tensor(arrays).permute(0, 3, 1, 2).float() / 255
    return arrays, pixels


def _pil(arrays, transform):
    out = np.stack([np.asarray(transform(Image.fromarray(a))) for a in arrays])
    return torch.tensor(out).permute(0, 3, 1, 2).float()


CASES = [
    ("auto_contrast", ImageOps.autocontrast, 0.0),
    ("brightness", lambda im: ImageEnhance.Brightness(im).enhance(0.46), 0.46),
    ("color", lambda im: ImageEnhance.Color(im).enhance(0.64), 0.64),
    ("contrast", lambda im: ImageEnhance.Contrast(im).enhance(0.28), 0.28),
    ("sharpness", lambda im: ImageEnhance.Sharpness(im).enhance(0.82), 0.82),
    ("equalize", ImageOps.equalize, 0.0),
    ("invert", ImageOps.invert, 0.0),
    ("posterize", lambda im: ImageOps.posterize(im, 5), 5),
    ("solarize", lambda im: ImageOps.solarize(im, 180), 180),
    ("rotate", lambda im: im.rotate(9), 9.0),
    (
        "shear_x",
        lambda im: im.transform(im.size, Image.AFFINE, (1, 0.04, 0, 0, 1, 0)),
        0.04,
    ),
    (
        "shear_y",
        lambda im: im.transform(im.size, Image.AFFINE, (1, 0, 0, -0.04, 1, 0)),
        -0.04,
    ),
]


@pytest.mark.parametrize("name, reference, value", CASES, ids=[c[0] for c in CASES])
def test_operations_match_pil(images, name, reference, value):
    arrays, pixels = images
    want = _pil(arrays, reference)
    got = getattr(randaugment, name)(pixels, torch.full((4,), float(value))) * 255
    # PIL rounds to 8 bits inside the enhancers; 1.5 levels covers it.
    assert (got - want).abs().max() <= 1.5


def test_pool_is_the_official_sixteen_with_their_value_ranges():
    assert len(randaugment.POOL) == 16
    levels = torch.arange(1, 5)  # RandAugmentwogeo(n=2, m=5): levels 1..4
    by_name = {spec[0].__name__: spec for spec in randaugment.POOL}
    brightness = randaugment._values(by_name["brightness"], levels)
    assert torch.allclose(brightness, torch.tensor([0.28, 0.46, 0.64, 0.82]))
    posterize = randaugment._values(by_name["posterize"], levels)
    assert posterize.tolist() == [4, 4, 5, 5]
    solarize = randaugment._values(by_name["solarize"], levels)
    assert solarize.tolist() == [231, 205, 180, 154]
    torch.manual_seed(0)
    rotate = randaugment._values(by_name["rotate"], levels.repeat(50))
    assert set(rotate.abs().tolist()) == {3, 6, 9, 12} and (rotate < 0).any()


def test_rand_augment_draws_per_image_and_applies_with_probability():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 16, 16).expand(200, -1, -1, -1).contiguous()
    out = randaugment.rand_augment(image, n_ops=2, magnitude=5, prob=0.5)
    changed = (out != image).flatten(1).any(1).float().mean()
    # P(neither op applied, or only no-op draws) is about 1/4.
    assert 0.55 < changed < 0.9
    distinct = {tuple(o.flatten().round(decimals=4).tolist()) for o in out}
    assert len(distinct) > 20
    assert torch.equal(randaugment.rand_augment(image, prob=0.0), image)
    with pytest.raises(ValueError, match="magnitude"):
        randaugment.rand_augment(image, magnitude=11)


def test_cutout_paints_inclusive_grey_squares_clipped_to_the_image():
    torch.manual_seed(0)
    x = torch.zeros(500, 1, 8, 8)
    out = randaugment.cutout(x, torch.full((500,), 4.0))
    painted = (out == 0.5).flatten(1).sum(1)
    assert painted.max() == 25 and painted.min() >= 1
    assert randaugment.cutout_side(32, 0.15) == 4
