"""ALR's internals (``ALRClassifier``): the estimator and its training loop.

Zhang et al., "Efficient Adaptive Label Refinement for Label Noise Learning",
arXiv 2502.00386. The public name is :class:`sknoisy.ALRClassifier`.
"""
