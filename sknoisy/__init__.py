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

from ._alr.classifier import ALRClassifier
from ._ido.classifier import WrongEventClassifier
from ._plain import CrossEntropyClassifier

__version__ = "0.1.0"
"""The version of sknoisy, as in its package metadata."""

__all__ = [
    "ALRClassifier",
    "CrossEntropyClassifier",
    "WrongEventClassifier",
    "__version__",
]
