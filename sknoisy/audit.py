"""Find, filter and fix label errors with any fitted sknoisy estimator.

* :func:`find_label_issues` turns a fitted estimator into a ranked report: per
  training row the given label, the refined label, the noise score and the issue
  flag, plus an estimate of the data set's noise rate.
* :class:`LabelNoiseFilter` removes or relabels likely-mislabelled rows *only while
  fitting*: an imbalanced-learn sampler (``fit_resample``) for
  ``imblearn.pipeline.Pipeline``, so ``cross_val_score`` and ``GridSearchCV`` apply
  it to training folds only.
* :class:`NoiseFilteredClassifier` does the same around any classifier without
  imbalanced-learn, and can also down-weight instead of removing.

Each estimator flags a row by its own rule (``label_issues_``): IDO when the
mixture's posterior of a clean label is below 0.5; ALR when the refined soft
label gives the given label less than half of its mass; plain training when its
prediction differs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import _safe_indexing, assert_all_finite
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._base import _check_label_types
from ._ido.classifier import WrongEventClassifier


@dataclass
class LabelIssueReport:
    """Per-row label audit, ranked from the most to the least suspicious.

    Made by :func:`find_label_issues`; its parameters are its attributes.

    Parameters
    ----------
    table : pandas.DataFrame or numpy structured array
        Columns ``row`` (position in the training data), ``given_label``,
        ``refined_label``, ``noise_score`` and ``label_issue`` (one row of the
        estimator's ``refined_labels_``, ``noise_scores_`` and
        ``label_issues_``), sorted by ``noise_score``, highest first (ties:
        the lowest ``given_label_proba_`` first, then by row), and
        ``suggestion``: ``"relabel"`` where the refined label differs from the
        given one, ``"review"`` for a flagged row whose model is unsure which
        label is right (its refined label is the given one: look at it by
        eye), ``"keep"`` for the rest. A pandas DataFrame.
    noise_rate : float
        Estimated fraction of wrong labels: the fraction of rows flagged.
    n_issues : int
        Number of rows flagged.
    """

    table: object
    noise_rate: float
    n_issues: int

    def issues(self):
        """Return only the flagged rows, still ranked.

        Returns
        -------
        pandas.DataFrame or numpy structured array
            The rows of ``table`` whose ``label_issue`` is true.
        """
        return self.table[self.table["label_issue"]]

    def __str__(self) -> str:
        n_rows = len(self.table)
        review = int(np.sum(np.asarray(self.table["suggestion"]) == "review"))
        split = (
            f": {self.n_issues - review} to relabel, {review} to review (the model "
            "is unsure of the right label)"
            if review
            else ""
        )
        return (
            f"{self.n_issues} of {n_rows} labels flagged as wrong "
            f"(estimated noise rate {self.noise_rate:.1%}){split}"
        )


def find_label_issues(estimator, y) -> LabelIssueReport:
    """Rank the training rows of a fitted sknoisy estimator by label suspicion.

    Parameters
    ----------
    estimator : fitted sknoisy estimator
        E.g. a fitted :class:`~sknoisy.WrongEventClassifier`, or a ``Pipeline``
        ending in one.
    y : array-like of shape (n_samples,)
        The labels the estimator was fitted on.

    Returns
    -------
    LabelIssueReport
        Every training row ranked by its noise score, and the estimated noise
        rate.
    """
    estimator = _scoring_estimator(estimator)
    y = column_or_1d(np.asarray(y), warn=True)
    check_consistent_length(y, estimator.noise_scores_)
    known = set(estimator.classes_.tolist())
    unknown = [value for value in np.unique(y).tolist() if value not in known]
    if unknown:
        raise ValueError(
            f"y has labels the estimator was not fitted on ({unknown[:5]}); pass "
            "the labels it was fitted on."
        )
    if (estimator.classes_[estimator.given_codes_] != y).any():
        raise ValueError(
            "y differs from the labels the estimator was fitted on (same length, "
            "other values or order); pass the labels it was fitted on."
        )
    # Ties in the score (IDO's saturate at 1) go to the rows whose given label
    # the fitted model believes least, then to file order.
    given_proba = getattr(estimator, "given_label_proba_", np.zeros(len(y)))
    order = np.lexsort((np.arange(len(y)), given_proba, -estimator.noise_scores_))
    refined = estimator.refined_labels_[order]
    issues = np.asarray(estimator.label_issues_)[order]
    columns = {
        "row": order,
        "given_label": y[order],
        "refined_label": refined,
        "noise_score": estimator.noise_scores_[order],
        "label_issue": issues,
        "suggestion": np.where(
            refined != y[order], "relabel", np.where(issues, "review", "keep")
        ),
    }
    try:
        import pandas as pd

        table = pd.DataFrame(columns).reset_index(drop=True)
    except ImportError:  # pragma: no cover - pandas is optional
        table = _structured_array(columns)
    return LabelIssueReport(table, float(np.mean(issues)), int(np.sum(issues)))


def _structured_array(columns: dict) -> np.ndarray:
    dtype = [(name, np.asarray(values).dtype) for name, values in columns.items()]
    table = np.empty(len(columns["row"]), dtype=dtype)
    for name, values in columns.items():
        table[name] = values
    return table


def _final_step(estimator):
    """The last step of a pipeline, or the estimator itself."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _scoring_estimator(estimator):
    """The fitted sknoisy estimator that holds the per-row scores.

    Looks through a ``Pipeline`` (its last step), a fitted search
    (``best_estimator_``) and a :class:`NoiseFilteredClassifier` (its
    ``detector_``).
    """
    found = _final_step(estimator)
    for attribute in ("best_estimator_", "detector_"):
        inner = getattr(found, attribute, None)
        if inner is not None:
            found = _final_step(inner)
    if not hasattr(found, "given_codes_"):
        check_is_fitted(found)  # an unfitted estimator says so first
        raise TypeError(
            f"find_label_issues needs a fitted sknoisy estimator (or a Pipeline, "
            f"search or NoiseFilteredClassifier around one); got "
            f"{type(found).__name__}, which has no per-row label scores."
        )
    return found


class LabelNoiseFilter(BaseEstimator):
    """Drop or relabel likely-mislabelled rows while fitting; an imblearn sampler.

    In an ``imblearn.pipeline.Pipeline``, ``fit_resample`` runs during ``fit`` only:
    predictions and scores on test folds go through untouched.

    Parameters
    ----------
    detector : sknoisy estimator or None, default=None
        Scores the labels; cloned and fitted on every ``fit_resample``. None uses
        ``WrongEventClassifier()``.
    action : {"remove", "relabel"}, default="remove"
        Remove the flagged rows, or replace their labels by the refined ones. A
        class that the cleaning would eliminate (every row flagged, or no refined
        label left in it) keeps its rows as given, with a warning: a classifier
        could never predict it again.

    Attributes
    ----------
    detector_ : fitted sknoisy estimator
        The detector fitted on the last data resampled.
    label_issues_ : ndarray of bool, shape (n_samples,)
        The rows removed or relabelled in the last data resampled: the detector's
        flags, less the rows of any class kept whole.

    Examples
    --------
    >>> from imblearn.pipeline import make_pipeline          # doctest: +SKIP
    >>> from sklearn.linear_model import LogisticRegression  # doctest: +SKIP
    >>> pipe = make_pipeline(LabelNoiseFilter(), LogisticRegression())  # doctest: +SKIP
    """

    _parameter_constraints = {
        "detector": [None, HasMethods(["fit"])],
        "action": [StrOptions({"remove", "relabel"})],
    }

    def __init__(self, detector=None, action="remove"):
        self.detector = detector
        self.action = action

    def fit_resample(self, X, y):
        """Fit the detector on ``(X, y)`` and return the cleaned ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features, in any form the detector accepts.
        y : array-like of shape (n_samples,)
            Given labels, possibly wrong.

        Returns
        -------
        X_resampled : array-like of shape (n_kept, n_features)
            ``X`` without the removed rows (all rows for ``"relabel"``).
        y_resampled : ndarray of shape (n_kept,)
            The labels of those rows, refined for ``"relabel"``.
        """
        self._validate_params()
        self.detector_, scorer = _fitted_detector(self.detector, X, y)
        y = np.asarray(y)
        refined = scorer.refined_labels_
        self.label_issues_ = _spare_vanishing_classes(
            y, scorer.label_issues_, refined, self.action
        )
        if self.action == "relabel":
            return X, np.where(self.label_issues_, refined, y)
        keep = np.flatnonzero(~self.label_issues_)
        return _safe_indexing(X, keep), y[keep]


def _spare_vanishing_classes(y, issues, refined, action) -> np.ndarray:
    """The flags to act on, after sparing every class the cleaning would eliminate.

    A class of ``y`` whose rows are all flagged (``"remove"``), or that no label
    keeps after relabelling (``"relabel"``), would be missing from the cleaned
    data: the classifier could never predict it, and with one class left could
    not be fitted. Such a class keeps its rows as given.
    """
    classes = np.unique(y)
    spared = np.zeros(0, dtype=y.dtype)
    while True:
        if action == "remove":
            remaining = y[~issues]
        else:
            remaining = np.where(issues, refined, y)
        vanishing = np.setdiff1d(classes, remaining)
        if len(vanishing) == 0:
            break
        spared = np.union1d(spared, vanishing)
        issues = issues & ~np.isin(y, vanishing)
    if len(spared):
        warnings.warn(
            f"The detector flags every row of class(es) {spared.tolist()}; their "
            "rows are kept as given so that no class disappears from the cleaned "
            "data.",
            UserWarning,
            stacklevel=3,
        )
    return issues


class NoiseFilteredClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Train any classifier on data cleaned by a sknoisy detector.

    ``fit`` scores the labels with ``detector``, then fits ``classifier`` after
    removing the flagged rows, relabelling them, or weighting every row by
    ``1 - noise_score``. Predictions come from the fitted classifier. Use it where
    imbalanced-learn is not installed; within ``cross_val_score`` or
    ``GridSearchCV`` the cleaning sees training folds only.

    Parameters
    ----------
    classifier : scikit-learn classifier
        The final model; cloned.
    detector : sknoisy estimator or None, default=None
        Scores the labels; cloned. None uses ``WrongEventClassifier()``.
    action : {"remove", "relabel", "weight"}, default="remove"
        How flagged rows are handled; ``"weight"`` needs a classifier whose
        ``fit`` takes ``sample_weight``.

    Attributes
    ----------
    detector_ : fitted sknoisy estimator
    classifier_ : fitted classifier
    classes_ : ndarray of shape (n_classes,)
    label_issues_ : ndarray of bool, shape (n_samples,)
        The rows removed or relabelled (see :class:`LabelNoiseFilter`); for
        ``"weight"``, the detector's flags.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    """

    _parameter_constraints = {
        "classifier": [HasMethods(["fit", "predict"])],
        "detector": [None, HasMethods(["fit"])],
        "action": [StrOptions({"remove", "relabel", "weight"})],
    }

    def __init__(self, classifier, detector=None, action="remove"):
        self.classifier = classifier
        self.detector = detector
        self.action = action

    def fit(self, X, y):
        """Score the labels, clean the data, fit the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features, in any form the detector and the classifier
            accept.
        y : array-like of shape (n_samples,)
            Given labels, possibly wrong.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X = self._validate_features(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        assert_all_finite(y, input_name="y")
        _check_label_types(y)
        check_classification_targets(y)
        classifier = clone(self.classifier)
        if self.action == "weight" and not _accepts_sample_weight(classifier):
            raise TypeError(
                f"action='weight' needs a classifier whose fit takes sample_weight; "
                f"{type(classifier).__name__}.fit does not."
            )
        if self.action == "weight":
            self.detector_, scorer = _fitted_detector(self.detector, X, y)
            weights = 1.0 - scorer.noise_scores_
            self.classifier_ = classifier.fit(X, y, sample_weight=weights)
            self.label_issues_ = scorer.label_issues_
        else:
            sampler = LabelNoiseFilter(self.detector, self.action)
            X_clean, y_clean = sampler.fit_resample(X, y)
            self.detector_ = sampler.detector_
            self.classifier_ = classifier.fit(X_clean, y_clean)
            self.label_issues_ = sampler.label_issues_
        self.classes_ = self.classifier_.classes_
        return self

    def _validate_features(self, X, reset):
        """Check ``X`` and record or compare its features; DataFrames stay as they
        are, for pipelines that select columns by name."""
        if hasattr(X, "iloc"):
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=None,
            accept_sparse=True,
            ensure_all_finite=False,
            allow_nd=True,
        )

    def predict(self, X):
        """Predict class labels with the fitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            The classifier's predictions.
        """
        check_is_fitted(self)
        return self.classifier_.predict(self._validate_features(X, reset=False))

    def _classifier_has(attr):
        def check(self):
            return hasattr(getattr(self, "classifier_", self.classifier), attr)

        return check

    @available_if(_classifier_has("predict_proba"))
    def predict_proba(self, X):
        """Predict class probabilities with the fitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The classifier's probabilities; columns follow ``classes_``.
        """
        check_is_fitted(self)
        return self.classifier_.predict_proba(self._validate_features(X, reset=False))


def _detector_or_default(detector):
    """The detector to clone: the user's, or ``WrongEventClassifier()``."""
    return WrongEventClassifier() if detector is None else detector


def _fitted_detector(detector, X, y):
    """A fitted clone of the detector, and the estimator that scores its rows.

    The detector may be a ``Pipeline``; its last step must set
    ``label_issues_``, ``refined_labels_`` and ``noise_scores_`` when fitted,
    as every sknoisy estimator does.
    """
    detector = clone(_detector_or_default(detector)).fit(X, y)
    scorer = _final_step(detector)
    missing = [
        name
        for name in ("label_issues_", "refined_labels_", "noise_scores_")
        if not hasattr(scorer, name)
    ]
    if missing:
        raise TypeError(
            "detector must be a sknoisy estimator, or a Pipeline ending in one, to "
            f"score the labels; the fitted {type(scorer).__name__} has no "
            f"{', '.join(missing)}."
        )
    return detector, scorer


def _accepts_sample_weight(estimator) -> bool:
    from sklearn.utils.validation import has_fit_parameter

    return has_fit_parameter(estimator, "sample_weight")
