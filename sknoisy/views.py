"""Weak and strong views of a batch, for IDO's stage 2 (specification §1.4).

The public home of the views :class:`sknoisy.WrongEventClassifier` trains on;
implemented in ``sknoisy/_ido/views.py`` beside the rest of IDO. Any callable
``views(x) -> (weak, strong)`` can replace them.
"""

from ._ido.views import ImageViews, TabularViews

__all__ = ["ImageViews", "TabularViews"]
