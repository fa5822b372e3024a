"""Test modules with known outputs."""

import torch
from torch import nn


class InputLogits(nn.Module):
    """Logits are the input's first ``n_classes`` columns: predictions are known.

    A dummy weight (multiplied by 0) gives the optimizer something to hold, so
    training never changes the outputs.
    """

    def __init__(self, n_classes=3):
        super().__init__()
        self.n_classes = n_classes
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x[:, : self.n_classes] + 0 * self.dummy


def identity_views(x):
    """Two identical views: stage 2 then sees exactly the stage-1 predictions."""
    return x, x
