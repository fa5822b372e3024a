"""The default networks."""

import torch
from torch import nn

from sknoisy.modules import MLP, SmallCNN


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
