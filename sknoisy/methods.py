"""The methods sknoisy runs, by the names the command line and benchmarks use.

One table (:data:`METHODS`) for ``sknoisy demo``, ``sknoisy audit``,
``sknoisy benchmark``, :mod:`sknoisy.benchmark` and the scripts in
``benchmarks/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._alr.classifier import ALRClassifier
from ._ido.classifier import WrongEventClassifier
from ._plain import CrossEntropyClassifier


@dataclass(frozen=True)
class Method:
    """A method by its command-line name.

    Parameters
    ----------
    name : str
        The name on the command line, e.g. ``"wrong-event"``.
    estimator : type or None
        The sknoisy estimator; None for a baseline sknoisy does not implement
        (cleanlab's ``CleanLearning``, around the plain estimator).
    robust : bool
        Whether it learns robustly from noisy labels (the methods ``demo`` and
        ``audit`` offer).
    summary : str
        One line for help texts.
    """

    name: str
    estimator: type | None
    robust: bool
    summary: str


METHODS = {
    method.name: method
    for method in (
        Method("plain", CrossEntropyClassifier, False, "plain cross-entropy training"),
        Method("wrong-event", WrongEventClassifier, True, "IDO's wrong events"),
        Method("alr", ALRClassifier, True, "ALR's adaptive label refinement"),
        Method(
            "cleanlab",
            None,
            False,
            "cleanlab's CleanLearning, 5-fold, around plain training",
        ),
    )
}
"""Every method, by name."""

ROBUST_METHODS = tuple(name for name, method in METHODS.items() if method.robust)
"""The noise-robust sknoisy estimators' names: ``("wrong-event", "alr")``."""


def make_estimator(name: str, **params):
    """Make a fresh sknoisy estimator for a method name.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS` with an estimator.
    **params
        Estimator parameters.

    Returns
    -------
    estimator : sknoisy estimator
        An unfitted instance of the method's estimator class.

    Examples
    --------
    >>> from sknoisy.methods import make_estimator
    >>> make_estimator("alr", max_epochs=5)
    ALRClassifier(max_epochs=5)
    """
    method = METHODS.get(name)
    if method is None or method.estimator is None:
        choices = [n for n, m in METHODS.items() if m.estimator is not None]
        raise ValueError(f"No sknoisy estimator {name!r}; choose from {choices}.")
    return method.estimator(**params)
