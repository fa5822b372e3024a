"""Network modules that sknoisy builds when the user gives none.

All return logits: :class:`MLP` for tables, :class:`SmallCNN` (the default for
images) and :class:`CifarResNet18` for small images. For other architectures
pass any ``torch.nn.Module``, e.g. a torchvision model:
``module=torchvision.models.resnet18, module__num_classes=10,
module__weights=None``; nothing is ever downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


class MLP(nn.Sequential):
    """Multi-layer perceptron returning logits: Linear-ReLU(-Dropout) blocks.

    The default module for feature vectors, sized from the data by ``fit``. Inputs
    with more than one dimension per sample are flattened.

    Parameters
    ----------
    n_features : int
        Input features (per sample, after flattening).
    n_classes : int
        Output logits.
    hidden_layer_sizes : sequence of int, default=(256, 256)
        Width of each hidden layer; empty for a linear model.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_layer_sizes: Sequence[int] = (256, 256),
        dropout: float = 0.0,
    ):
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_classes))
        super().__init__(*layers)


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class SmallCNN(nn.Sequential):
    """A small convolutional network for images of about 8 to 32 pixels.

    Three stages of 3x3 convolutions with batch norm (``width``, ``2 width``,
    ``4 width`` channels), max-pooling between them, global average pooling and a
    linear classifier: about 0.14 M parameters at ``width=32``. The default module
    for image input ``(n_samples, channels, height, width)``.

    Parameters
    ----------
    in_channels : int
        Image channels (1 for grey, 3 for RGB).
    n_classes : int
        Output logits.
    width : int, default=32
        Channels of the first stage.
    dropout : float, default=0.0
        Dropout before the classifier.
    """

    def __init__(
        self, in_channels: int, n_classes: int, width: int = 32, dropout: float = 0.0
    ):
        super().__init__(
            *_conv_block(in_channels, width),
            *_conv_block(width, width),
            nn.MaxPool2d(2, ceil_mode=True),
            *_conv_block(width, 2 * width),
            *_conv_block(2 * width, 2 * width),
            nn.MaxPool2d(2, ceil_mode=True),
            *_conv_block(2 * width, 4 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(4 * width, n_classes),
        )


class _BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet's basic block)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class CifarResNet18(nn.Module):
    """ResNet-18 for small images: a 3x3 stem without max-pooling.

    The variant the label-noise literature trains on CIFAR (He et al. 2016, as
    in the CIFAR-N benchmark's code): four stages of two basic blocks with
    ``width``, ``2 width``, ``4 width``, ``8 width`` channels, strides 1, 2, 2,
    2, global average pooling and a linear classifier; about 11.2 M parameters
    at ``width=64``. A 32x32 image costs about 0.56 GFLOP per forward pass, so
    on a CPU prefer :class:`SmallCNN` or a smaller ``width``.

    Parameters
    ----------
    in_channels : int
        Image channels.
    n_classes : int
        Output logits.
    width : int, default=64
        Channels of the first stage.
    """

    def __init__(self, in_channels: int, n_classes: int, width: int = 64):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        channels = width
        for stage, stride in enumerate((1, 2, 2, 2)):
            out = width * 2**stage
            layers += [_BasicBlock(channels, out, stride), _BasicBlock(out, out, 1)]
            channels = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, n_classes)

    def forward(self, x):
        return self.classifier(self.features(x))
