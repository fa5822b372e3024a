"""Image inputs: arrays (n, C, H, W), torch Datasets, image views, CNNs."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from skorch.helper import SliceDataset
from torch.utils.data import TensorDataset

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy.modules import MLP, SmallCNN
from sknoisy.noise import symmetric_noise
from sknoisy.views import ImageViews, TabularViews

from .conftest import (
    InputLogits,
    identity_views,
    known_prediction_data,
    write_image_folder,
)

FAST_CNN = {"max_epochs": 3, "batch_size": 64, "module__width": 8}


@pytest.fixture(scope="module")
def digit_images():
    """Digits as (n, 1, 8, 8) images in [0, 1]; 600 rows."""
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).reshape(-1, 1, 8, 8).astype(np.float32), y[:600]


@pytest.mark.parametrize("Estimator", [WrongEventClassifier, ALRClassifier])
def test_estimators_fit_a_cnn_on_image_arrays(Estimator, digit_images):
    X, y = digit_images
    y_noisy, _ = symmetric_noise(y, 0.2, random_state=0)
    clf = Estimator(max_epochs=6, batch_size=64, module__width=16, random_state=0)
    clf.fit(X, y_noisy)
    assert isinstance(clf.net_.module_, SmallCNN)
    assert clf.input_shape_ == (1, 8, 8) and clf.n_features_in_ == 1
    assert clf.noise_scores_.shape == (len(X),)
    assert clf.predict(X).shape == (len(X),)
    # Short training with flips on (flip-sensitive) digits: well above chance.
    assert clf.score(X, y) > 0.3
    with pytest.raises(ValueError, match="shape"):
        clf.predict(X[:, :, :4, :4])


def test_image_input_gets_image_views(digit_images):
    X, y = digit_images
    clf = WrongEventClassifier(**FAST_CNN, stage1_epochs=1, random_state=0).fit(X, y)
    assert isinstance(clf.net_.views, ImageViews)
    assert clf.net_.history[-1, "stage"] == 2
    tabular = WrongEventClassifier(max_epochs=2, random_state=0).fit(
        X.reshape(600, -1), y
    )
    assert isinstance(tabular.net_.module_, MLP)
    assert isinstance(tabular.net_.views, TabularViews)


@pytest.fixture
def image_folder(tmp_path):
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    root = write_image_folder(tmp_path / "images")
    return ImageFolder(root, transform=transforms.ToTensor())


@pytest.mark.parametrize("Estimator", [WrongEventClassifier, ALRClassifier])
def test_estimators_fit_an_image_folder(Estimator, image_folder):
    clf = Estimator(**FAST_CNN, random_state=0).fit(image_folder)
    assert clf.input_shape_ == (3, 16, 16)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.noise_scores_.shape == (len(image_folder),)
    assert clf.predict(image_folder).shape == (len(image_folder),)
    proba = clf.predict_proba(image_folder)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)


def test_slice_dataset_cross_validation(image_folder):
    X = SliceDataset(image_folder, idx=0)
    y = np.array(image_folder.targets)
    clf = CrossEntropyClassifier(**FAST_CNN, random_state=0)
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,)


def test_dataset_rows_stay_aligned_with_the_state():
    X, y = known_prediction_data()
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    clf = WrongEventClassifier(
        module=InputLogits,
        views=identity_views,
        max_epochs=3,
        stage1_epochs=1,
        batch_size=16,
        iterator_train__num_workers=0,
        random_state=0,
    ).fit(dataset)
    wrong = (X.argmax(axis=1) != y).astype(int)
    np.testing.assert_array_equal(clf.wrong_events_, 5 * wrong)


def test_fitted_views_are_fitted_on_a_sample_of_a_streamed_dataset(
    image_folder, monkeypatch
):
    import sknoisy._ido.net as ido_net

    fitted_on = []

    class RecordingViews(TabularViews):
        def fit(self, X, y=None):
            fitted_on.append(tuple(X.shape))
            return super().fit(X, y)

    monkeypatch.setattr(ido_net, "VIEW_FIT_SAMPLE", 10)
    views = RecordingViews()
    clf = WrongEventClassifier(**FAST_CNN, views=views).fit(image_folder)
    assert fitted_on == [(10, 3, 16, 16)]  # 10 of the 36 items, as pixel values
    assert clf.net_.history[-1, "stage"] == 2


def test_dataset_inputs_must_be_tensors(tmp_path):
    from torchvision.datasets import ImageFolder

    folder = ImageFolder(write_image_folder(tmp_path / "raw"))
    with pytest.raises(TypeError, match="ToTensor"):
        CrossEntropyClassifier(max_epochs=1).fit(folder)


def test_torchvision_model():
    from torchvision.models import resnet18

    X = np.random.default_rng(0).random((16, 3, 32, 32), dtype=np.float32)
    y = np.arange(16) % 4
    clf = CrossEntropyClassifier(
        module=resnet18,
        module__weights=None,
        module__num_classes=4,
        max_epochs=1,
        batch_size=8,
    ).fit(X, y)
    assert clf.predict_proba(X).shape == (16, 4)
    forgotten = CrossEntropyClassifier(module=resnet18, module__weights=None)
    with pytest.raises(ValueError, match="module__num_classes=4"):
        forgotten.fit(X, y)
    assert not hasattr(forgotten, "noise_scores_"), "failed before training"


def test_module_that_fails_on_the_data_is_reported():
    X = np.zeros((10, 5), dtype=np.float32)
    y = np.arange(10) % 2
    bad = torch.nn.Linear(7, 2)
    with pytest.raises(ValueError, match="failed on a batch"):
        CrossEntropyClassifier(module=bad).fit(X, y)


@pytest.mark.parametrize("Estimator", [WrongEventClassifier, ALRClassifier])
def test_mixed_precision(Estimator, digit_images):
    X, y = digit_images
    clf = Estimator(**FAST_CNN, mixed_precision=True, random_state=0).fit(X, y)
    assert clf.net_.mixed_precision
    assert np.isfinite(clf.noise_scores_).all()
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and np.isfinite(proba).all()


def test_uint8_images_are_kept_8_bit_and_standardised_per_channel():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (40, 3, 8, 8), dtype=np.uint8)
    X[:, 1] //= 4  # a darker channel
    y = np.arange(40) % 2
    clf = CrossEntropyClassifier(max_epochs=1, module__width=4, random_state=0)
    clf.fit(X, y)
    pixels = X.astype(np.float64) / 255
    np.testing.assert_allclose(clf.channel_mean_, pixels.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(clf.channel_std_, pixels.std(axis=(0, 2, 3)), 1e-6)
    seen = []
    clf.net_.module_.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    proba_uint8 = clf.predict_proba(X)
    batch = seen[-1]
    assert batch.dtype == torch.float32
    means = batch.mean(dim=(0, 2, 3))
    assert torch.allclose(means, torch.zeros(3), atol=1e-4), "standardised"
    # the same images as floats in [0, 1] give the same predictions
    np.testing.assert_allclose(clf.predict_proba(pixels), proba_uint8, atol=1e-5)


def test_images_outside_pixel_range_are_refused_unless_told():
    X = np.random.default_rng(0).normal(size=(20, 1, 8, 8)).astype(np.float32)
    y = np.arange(20) % 2
    clf = CrossEntropyClassifier(max_epochs=1, module__width=4)
    with pytest.raises(ValueError, match=r"normalize_images=False"):
        clf.fit(X, y)
    assert not hasattr(clf, "noise_scores_")
    clf.set_params(normalize_images=False).fit(X, y)
    assert not hasattr(clf, "channel_mean_") and clf.net_.channel_mean is None
    pixels = CrossEntropyClassifier(max_epochs=1, module__width=4).fit(X.clip(0, 1), y)
    with pytest.raises(ValueError, match=r"X has values in"):
        pixels.predict(X)


def test_dataset_images_are_standardised_from_a_sample_of_items():
    X = torch.rand(30, 3, 8, 8)
    y = torch.arange(30) % 3
    clf = CrossEntropyClassifier(max_epochs=1, module__width=4, random_state=0)
    clf.fit(TensorDataset(X, y))
    np.testing.assert_allclose(clf.channel_mean_, X.double().mean((0, 2, 3)), 1e-6)
    with pytest.raises(ValueError, match="ToTensor"):
        clf.fit(TensorDataset(X * 4 - 2, y))


def test_idos_default_views_need_pixels_even_without_normalisation():
    X = np.random.default_rng(0).normal(size=(20, 1, 8, 8)).astype(np.float32)
    y = np.arange(20) % 2
    clf = WrongEventClassifier(max_epochs=2, module__width=4, normalize_images=False)
    with pytest.raises(ValueError, match="default ImageViews"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
    clf.set_params(views=ImageViews(randaugment_ops=0)).fit(X, y)  # the user's own


@pytest.mark.parametrize(
    "params, match",
    [
        ({"randaugment_magnitude": 20}, "must be in 2..10"),
        ({"randaugment_prob": 2.0}, r"randaugment_prob must be in \[0, 1\]"),
        ({"cutout": 3.0}, "fraction of the image side"),
    ],
)
def test_image_view_parameters_are_checked_before_training(params, match):
    X = np.random.default_rng(0).random((20, 1, 8, 8), dtype=np.float32)
    y = np.arange(20) % 2
    clf = WrongEventClassifier(
        max_epochs=2, module__width=4, views=ImageViews(**params)
    )
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_a_fitted_image_estimator_pickles_without_device_caches():
    import pickle

    X = np.random.default_rng(0).integers(0, 256, (20, 1, 8, 8), dtype=np.uint8)
    clf = CrossEntropyClassifier(max_epochs=1, module__width=4).fit(
        X, np.arange(20) % 2
    )
    clf.predict(X)  # builds the device cache of the channel statistics
    assert "_channel_cache" in vars(clf.net_)
    restored = pickle.loads(pickle.dumps(clf))
    assert "_channel_cache" not in vars(restored.net_)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


class FlattenByView(torch.nn.Module):
    """A user's network that flattens with ``view``: a channels-last batch fails."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.linear = torch.nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        x = self.conv(x)
        return self.linear(x.view(len(x), -1))


def test_own_image_networks_train_channels_last_a_users_module_as_it_is(
    digit_images,
):
    X, y = digit_images
    clf = CrossEntropyClassifier(**FAST_CNN, random_state=0).fit(X, y)
    convs = [m for m in clf.net_.module_.modules() if isinstance(m, torch.nn.Conv2d)]
    weight = convs[1].weight  # 8 input channels: the formats differ
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert not weight.is_contiguous()
    rgb = torch.rand(4, 3, 8, 8)
    assert clf.net_.standardize(rgb).is_contiguous(memory_format=torch.channels_last)
    user = CrossEntropyClassifier(
        max_epochs=2, batch_size=64, module=FlattenByView, random_state=0
    ).fit(X, y)
    assert not user.net_.channels_last
    assert user.predict(X).shape == (len(X),)
