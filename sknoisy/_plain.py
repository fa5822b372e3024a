"""Plain cross-entropy training: the baseline every noise-robust method must beat."""

from __future__ import annotations

from ._base import NoisyLabelClassifier
from ._docstrings import substitute_docstring


@substitute_docstring
class CrossEntropyClassifier(NoisyLabelClassifier):
    """Neural-network classifier trained with plain cross-entropy on the given labels.

    No noise handling: the network eventually memorises wrong labels. It is the
    baseline for sknoisy's methods, and a scikit-learn-compatible torch classifier
    in its own right. Its label scores come from the final model, as in
    confident learning: ``noise_scores_ = 1 - p(given label)``.

    Parameters
    ----------
    %(network_parameters)s
    %(net_params_parameter)s

    Attributes
    ----------
    %(fitted_attributes)s

    Notes
    -----
    ``label_issues_`` flags the rows whose predicted class differs from the given
    label.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknoisy import CrossEntropyClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = CrossEntropyClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.noise_scores_.shape
    (150,)
    """

    def _collect_fitted_state(self, y_encoded, predictions):
        self.noise_scores_ = 1.0 - predictions.given_proba
        self.refined_labels_ = self.classes_[predictions.predicted]
        self.label_issues_ = predictions.predicted != y_encoded
