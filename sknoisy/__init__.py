"""sknoisy: learning from noisily labelled data with neural networks.

Estimators
----------
WrongEventClassifier
    IDO (arXiv 2505.00812): wrong events, Label Wave, Beta-mixture dynamic loss.
ALRClassifier
    ALR (arXiv 2502.00386): soft labels by temporal ensembling, entropy hardening.
CrossEntropyClassifier
    Plain cross-entropy training, the baseline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._alr.classifier import ALRClassifier
    from ._ido.classifier import WrongEventClassifier
    from ._plain import CrossEntropyClassifier

__version__ = "0.1.0"
"""The version of sknoisy, as in its package metadata."""

# The estimators are imported on first use (PEP 562): ``import sknoisy`` and
# its light modules (``sknoisy.noise``, the command line's entry point) do not
# wait for torch.
_ESTIMATORS = {
    "ALRClassifier": "._alr.classifier",
    "CrossEntropyClassifier": "._plain",
    "WrongEventClassifier": "._ido.classifier",
}


def __getattr__(name: str):
    if name in _ESTIMATORS:
        value = getattr(importlib.import_module(_ESTIMATORS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_ESTIMATORS})


__all__ = [
    "ALRClassifier",
    "CrossEntropyClassifier",
    "WrongEventClassifier",
    "__version__",
]
