"""IDO's weak and strong views (sknoisy.views)."""

import pytest
import torch

import sknoisy.mixture
import sknoisy.views
from sknoisy._ido import mixture, views
from sknoisy.views import ImageViews, TabularViews


def test_public_modules_are_the_implementations():
    assert sknoisy.views.ImageViews is views.ImageViews
    assert sknoisy.mixture.WrongEventMixture is mixture.WrongEventMixture
    assert set(sknoisy.views.__all__) == {"ImageViews", "TabularViews"}


def test_tabular_views_without_noise_or_corruption_are_the_identity():
    x = torch.randn(20, 5)
    weak, strong = TabularViews(noise_scale=0, corruption_rate=0).fit(x)(x)
    assert torch.equal(weak, x) and torch.equal(strong, x)


def test_tabular_weak_view_adds_noise_scaled_per_feature():
    torch.manual_seed(0)
    x = torch.randn(4000, 3) * torch.tensor([1.0, 10.0, 0.1])
    views = TabularViews(noise_scale=0.2, corruption_rate=0).fit(x)
    weak, _ = views(x)
    ratio = (weak - x).std(0) / x.std(0)
    torch.testing.assert_close(ratio, torch.full((3,), 0.2), rtol=0.08, atol=0)


def test_tabular_strong_view_replaces_a_count_by_the_column_s_values():
    torch.manual_seed(0)
    # Column j holds only the values row + 100000 j, so a donated value is
    # recognisable and must come from its own column.
    data = torch.arange(500.0)[:, None] + 100 * torch.arange(4.0) * 1000
    views = TabularViews(noise_scale=0, corruption_rate=0.3).fit(data)
    x = torch.full((2000, 4), -1.0)
    weak, strong = views(x)
    assert torch.equal(weak, x)
    replaced = strong != -1
    assert (replaced.sum(1) == 1).all(), "int(0.3 * 4) features of every row"
    columns = torch.arange(4.0).expand_as(strong)
    donors = strong[replaced] - 100 * columns[replaced] * 1000
    assert ((donors >= 0) & (donors < 500)).all(), "values of the same column"


def test_tabular_strong_view_replaces_int_rate_times_features_per_row():
    # SCARF's count: int(rate * n_features) per row, a uniform subset of them.
    torch.manual_seed(0)
    data = torch.arange(1.0, 1001.0)[:, None].expand(-1, 5).contiguous()
    views = TabularViews(noise_scale=0, corruption_rate=0.4).fit(data)
    assert views.n_replaced_ == 2
    x = torch.zeros(5000, 5)
    replaced = views(x)[1] != 0
    assert (replaced.sum(1) == 2).all()
    torch.testing.assert_close(
        replaced.float().mean(0), torch.full((5,), 0.4), atol=0.02, rtol=0
    )
    # 0.3 of 10 features is 3, not 2 (0.3 * 10 is 3.0000000000000004).
    assert TabularViews(corruption_rate=0.3).fit(torch.zeros(4, 10)).n_replaced_ == 3
    # Too few features for the rate: the strong view replaces none.
    few = TabularViews(noise_scale=0, corruption_rate=0.3).fit(torch.randn(50, 2))
    x = torch.randn(100, 2)
    assert few.n_replaced_ == 0 and torch.equal(few(x)[1], x)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"corruption_rate": 1.5}, "corruption_rate"), ({"noise_scale": -1}, "noise")],
)
def test_tabular_views_check_their_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        TabularViews(**params).fit(torch.zeros(3, 2))


def test_image_views_draw_per_sample():
    torch.manual_seed(0)
    images = torch.rand(1, 3, 16, 16).expand(32, -1, -1, -1).contiguous()
    weak, strong = ImageViews(padding=2)(images)
    assert weak.shape == strong.shape == images.shape
    distinct_weak = {tuple(w.flatten().tolist()) for w in weak}
    assert len(distinct_weak) > 8, "crops and flips differ between samples"
    assert not torch.equal(weak, strong)


def test_strong_view_ends_with_the_official_grey_cutout():
    # RandAugment off: the strong view is a weak draw plus a 0.5-grey square of
    # int(0.15 * 32) = 4 pixels, painted inclusively as PIL does (up to 5 x 5).
    torch.manual_seed(0)
    images = torch.zeros(64, 3, 32, 32)
    _, strong = ImageViews(padding=0, flip=False, randaugment_ops=0)(images)
    grey = (strong == 0.5).all(dim=1).flatten(1).sum(1)
    assert (grey > 0).all() and (grey <= 25).all()
    assert grey.float().mean() > 12


def test_train_view_pads_with_zeros_and_weak_view_reflects():
    torch.manual_seed(0)
    images = torch.ones(256, 1, 8, 8)
    views = ImageViews(padding=2, flip=False, randaugment_ops=0, cutout=0)
    assert (views.train_view(images) == 0).any(), "zero padding shows"
    weak, strong = views(images)
    assert torch.equal(weak, images) and torch.equal(strong, images)


def test_image_views_are_reproducible_and_handle_any_channels():
    views = ImageViews()
    for channels in (1, 3, 5):
        x = torch.rand(4, channels, 8, 8)
        torch.manual_seed(1)
        first = views(x)
        torch.manual_seed(1)
        second = views(x)
        assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    with pytest.raises(ValueError, match="channels"):
        views(torch.randn(4, 8))


def test_randaugment_draws_per_sample():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 16, 16)
    views = ImageViews(padding=0, flip=False, cutout=0.0, randaugment_ops=2)
    _, strong = views(image.expand(64, -1, -1, -1).contiguous())
    distinct = {tuple(s.flatten().round(decimals=4).tolist()) for s in strong}
    assert len(distinct) > 10, "operations drawn per image, not once per batch"


def _class_coded_rows(n_per_class=200, n_classes=3, n_features=6):
    """Rows whose every feature is ``1000 * class + row``: a donated value tells
    the class of the row it came from (``value // 1000``)."""
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    data = (1000 * y + torch.arange(len(y)) % 1000)[:, None].float()
    return data.expand(-1, n_features).contiguous(), y


def test_class_conditional_strong_view_draws_from_the_named_class():
    torch.manual_seed(0)
    data, y = _class_coded_rows()
    views = TabularViews(noise_scale=0, corruption_rate=0.5).fit(data, y)
    x = torch.full((3000, 6), -1.0)
    classes = torch.tensor([0, 2, 1]).repeat(1000)
    weak, strong = views(x, classes=classes)
    assert torch.equal(weak, x)
    replaced = strong != -1
    assert (replaced.sum(1) == 3).all(), "the count does not depend on the classes"
    donor_class = (strong // 1000).long()
    assert torch.equal(donor_class[replaced], classes[:, None].expand_as(x)[replaced])
    # Every row of the class donates, not just one.
    assert len(torch.unique(strong[replaced & (classes[:, None] == 1)])) > 150


def test_unnamed_rows_and_unfitted_classes_draw_from_every_row():
    torch.manual_seed(0)
    data, y = _class_coded_rows()
    x = torch.full((3000, 6), -1.0)
    fitted = TabularViews(noise_scale=0, corruption_rate=0.5).fit(data, y)
    for fitted_views, classes in [
        (fitted, torch.full((3000,), -1)),  # -1: no class
        (fitted, torch.full((3000,), 7)),  # a class the pools do not hold
        (fitted, None),
        (TabularViews(noise_scale=0, corruption_rate=0.5).fit(data), y.repeat(5)),
        (
            TabularViews(
                noise_scale=0, corruption_rate=0.5, class_conditional=False
            ).fit(data, y),
            y.repeat(5),
        ),
    ]:
        strong = fitted_views(x, classes=classes)[1]
        donated = (strong[strong != -1] // 1000).long()
        shares = torch.bincount(donated, minlength=3) / len(donated)
        torch.testing.assert_close(shares, torch.full((3,), 1 / 3), atol=0.03, rtol=0)


def test_a_class_without_rows_draws_from_every_row():
    data, y = _class_coded_rows(n_classes=3)
    y = torch.where(y == 1, 2, y)  # class 1 has no rows now
    views = TabularViews(noise_scale=0, corruption_rate=0.5).fit(data, y)
    assert views.class_size_.tolist() == [200, 600, 400]
    torch.manual_seed(0)
    strong = views(torch.full((3000, 6), -1.0), classes=torch.ones(3000).long())[1]
    donated = (strong[strong != -1] // 1000).long()
    assert set(donated.unique().tolist()) == {0, 1, 2}


def test_the_random_draws_do_not_depend_on_the_classes():
    # A data-parallel fit draws a whole batch's views on every process, with
    # class -1 on the rows of the others, and keeps its own rows' draws.
    data, y = _class_coded_rows()
    classes = torch.arange(64) % 3
    others = torch.where(torch.arange(64) < 32, classes, -1)
    for noise_scale in (0.1, 0.0):
        views = TabularViews(noise_scale=noise_scale, corruption_rate=0.5)
        views.fit(data, y)
        x = torch.full((64, 6), -1.0)
        torch.manual_seed(3)
        mine = views(x, classes=classes)
        torch.manual_seed(3)
        theirs = views(x, classes=others)
        for a, b in zip(mine, theirs):
            assert torch.equal(a[:32], b[:32])
        if not noise_scale:  # the same features replaced in the other rows
            assert torch.equal(mine[1][32:] != -1, theirs[1][32:] != -1)


def test_class_pools_check_y():
    data, y = _class_coded_rows()
    with pytest.raises(ValueError, match="one class per row"):
        TabularViews().fit(data, y[:10])
    with pytest.raises(ValueError, match=">= 0"):
        TabularViews().fit(data, y - 1)


def test_int8_class_codes_reach_every_pool():
    # Compact labels are int8 up to 127 classes; the pools are compared in
    # int64 so that codes are never wrapped or cut.
    y = torch.arange(200).repeat_interleave(2)
    data = (1000 * y)[:, None].float().expand(-1, 4).contiguous()
    views = TabularViews(noise_scale=0, corruption_rate=0.5).fit(data, y)
    classes = torch.full((500,), 120, dtype=torch.int8)
    strong = views(torch.full((500, 4), -1.0), classes=classes)[1]
    assert ((strong[strong != -1] // 1000) == 120).all()
    assert views.donor_order_.dtype == torch.int32


def test_subclasses_with_the_older_protocol_are_not_class_conditional():
    class WeakTwice(TabularViews):
        def __call__(self, x):
            weak, _ = super().__call__(x)
            return weak, super().__call__(x)[0]

    class FitWithoutLabels(TabularViews):
        def fit(self, X):
            return super().fit(X)

    assert views.takes_classes(TabularViews())
    assert not views.takes_classes(TabularViews(class_conditional=False))
    assert not views.takes_classes(WeakTwice())
    assert views.takes_classes(FitWithoutLabels())
    assert not views.takes_classes(lambda x: (x, x))
