"""The default networks."""

import torch
from torch import nn

from sknoisy.modules import MLP, CifarResNet18, SmallCNN


def test_mlp_layers_and_output():
    mlp = MLP(n_features=6, n_classes=4, hidden_layer_sizes=(16, 8), dropout=0.2)
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (6, 16),
        (16, 8),
        (8, 4),
    ]
    assert sum(isinstance(m, nn.Dropout) for m in mlp) == 2
    assert mlp(torch.randn(5, 6)).shape == (5, 4)
    assert mlp(torch.randn(5, 2, 3)).shape == (5, 4), "inputs are flattened"


def test_mlp_without_hidden_layers_is_linear():
    mlp = MLP(n_features=3, n_classes=2, hidden_layer_sizes=())
    assert [type(m) for m in mlp] == [nn.Flatten, nn.Linear]
    assert not any(isinstance(m, nn.Dropout) for m in MLP(3, 2, dropout=0.0))


def test_small_cnn_shapes_and_size():
    cnn = SmallCNN(in_channels=3, n_classes=10)
    assert cnn(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert SmallCNN(1, 10)(torch.randn(2, 1, 8, 8)).shape == (2, 10), "small images"
    n_parameters = sum(p.numel() for p in cnn.parameters())
    assert 0.1e6 < n_parameters < 0.2e6, "about 0.14 M parameters at width 32"
    assert SmallCNN(3, 10, width=8)(torch.randn(1, 3, 9, 9)).shape == (1, 10)


def test_cifar_resnet18_keeps_resolution_in_its_stem():
    net = CifarResNet18(in_channels=3, n_classes=10)
    n_parameters = sum(p.numel() for p in net.parameters())
    assert 11.1e6 < n_parameters < 11.3e6, "ResNet-18's 11.2 M parameters"
    stem = net.features[:3]
    assert stem(torch.randn(1, 3, 32, 32)).shape == (1, 64, 32, 32), "no max-pool"
    assert not any(isinstance(m, nn.MaxPool2d) for m in net.modules())
    small = CifarResNet18(in_channels=1, n_classes=4, width=8)
    assert small(torch.randn(2, 1, 16, 16)).shape == (2, 4)
