"""IDO's two-component Beta mixture over wrong-event counts (specification §1.3).

The public home of the mixture that :class:`sknoisy.WrongEventClassifier` fits;
implemented in ``sknoisy/_ido/mixture.py`` beside the rest of IDO.
"""

from ._ido.mixture import (
    CREDIBLE_NOISE_RATE,
    EPS,
    SHAPE_FLOOR,
    SHAPE_RESET,
    TABLE_COLUMNS,
    BetaMixture,
    WrongEventMixture,
    normalise_counts,
)

__all__ = [
    "CREDIBLE_NOISE_RATE",
    "EPS",
    "SHAPE_FLOOR",
    "SHAPE_RESET",
    "TABLE_COLUMNS",
    "BetaMixture",
    "WrongEventMixture",
    "normalise_counts",
]
