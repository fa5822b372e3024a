"""IDO's internals (``WrongEventClassifier``): the estimator, its training loop,
the Beta mixture over wrong events, and the weak/strong views.

Zhang et al., "Handling Label Noise via Instance-Level Difficulty Modeling and
Dynamic Optimization", NeurIPS 2025, arXiv 2505.00812. The public names are
:class:`sknoisy.WrongEventClassifier`, :mod:`sknoisy.mixture` and
:mod:`sknoisy.views`.
"""
