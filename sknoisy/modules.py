"""Network modules that sknoisy builds when the user gives none."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


class MLP(nn.Sequential):
    """Multi-layer perceptron returning logits: Linear-ReLU(-Dropout) blocks.

    The default module of every sknoisy estimator, sized from the data by ``fit``.

    Parameters
    ----------
    n_features : int
        Input features.
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
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_classes))
        super().__init__(*layers)
