"""Simulated label noise with an exact number of flips.

Every function returns ``(y_noisy, flipped)``: the corrupted labels, in the label
type of ``y``, and the boolean mask of the rows whose label changed. Asking for a
rate gives exactly ``round(rate * n_samples)`` flips (distributed over the classes
in proportion to their sizes, by largest remainder), not a binomial draw around it.
``random_state`` makes every draw reproducible; ``y`` itself is never modified.

Conventions
-----------
A class-conditional *transition matrix* ``T`` has ``T[i, j] = P(noisy = j | true
= i)``, over the classes in sorted order (``np.unique(y)``): **each row sums to
1**, and the diagonal is the probability of keeping the label.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

NOISE_KINDS = ("symmetric", "pair", "instance")
"""The kinds of noise :func:`flip_labels` injects by name."""


def _encode(y):
    y = column_or_1d(np.asarray(y), warn=True)
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"Label noise needs at least 2 classes; y has {len(classes)}: "
            f"{classes.tolist()}."
        )
    return y, classes, codes


def _check_rate(rate) -> float:
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be in [0, 1], got {rate!r}.")
    return float(rate)


def allocate(total: int, weights) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights``.

    Largest-remainder rounding: the parts sum to exactly ``total``.

    Parameters
    ----------
    total : int
        What to split.
    weights : array-like of shape (n_parts,)
        Non-negative weights of the parts.

    Returns
    -------
    ndarray of int, shape (n_parts,)
        The parts; all 0 when ``total`` or every weight is 0.
    """
    weights = np.asarray(weights, dtype=float)
    if total == 0 or weights.sum() == 0:
        return np.zeros(len(weights), dtype=int)
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    remainder = total - parts.sum()
    parts[np.argsort(-(exact - parts), kind="stable")[:remainder]] += 1
    return parts


def _rows_to_flip(codes, n_classes, rate, rng) -> np.ndarray:
    """Exactly ``round(rate * n)`` rows, allocated to classes by size."""
    sizes = np.bincount(codes, minlength=n_classes)
    per_class = np.minimum(allocate(round(rate * len(codes)), sizes), sizes)
    rows = [
        rng.choice(np.flatnonzero(codes == c), size=k, replace=False)
        for c, k in enumerate(per_class)
    ]
    return np.sort(np.concatenate(rows)).astype(int)


def _decode(y, classes, codes, noisy_codes):
    y_noisy = classes[noisy_codes].astype(y.dtype, copy=False)
    return y_noisy, noisy_codes != codes


def symmetric_noise(y, rate, random_state=None):
    """Flip ``round(rate * n)`` labels, each to a uniformly chosen *other* class.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    rate : float in [0, 1]
        Fraction of labels to flip.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw; an int makes it reproducible.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The corrupted labels, in the label type of ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Whether each row's label changed.
    """
    y, classes, codes = _encode(y)
    rng = check_random_state(random_state)
    rows = _rows_to_flip(codes, len(classes), _check_rate(rate), rng)
    noisy = codes.copy()
    shift = rng.randint(1, len(classes), size=len(rows))  # never 0: a new class
    noisy[rows] = (codes[rows] + shift) % len(classes)
    return _decode(y, classes, codes, noisy)


def pair_noise(y, rate, mapping=None, random_state=None):
    """Flip ``round(rate * n)`` labels to a paired class (class ``c`` -> ``c + 1``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    rate : float in [0, 1]
        Fraction of the labels of mapped classes to flip (all classes by default).
    mapping : dict or None, default=None
        ``{label: noisy label}``; None pairs each class with the next one in
        sorted order, the last with the first. Classes missing from the mapping
        are never flipped.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw; an int makes it reproducible.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The corrupted labels, in the label type of ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Whether each row's label changed.
    """
    y, classes, codes = _encode(y)
    n_classes = len(classes)
    if mapping is None:
        target = (np.arange(n_classes) + 1) % n_classes
    else:
        target = _mapping_codes(mapping, classes)
    rng = check_random_state(random_state)
    eligible = np.flatnonzero(target[codes] != codes)
    rows = eligible[_rows_to_flip(codes[eligible], n_classes, _check_rate(rate), rng)]
    noisy = codes.copy()
    noisy[rows] = target[codes[rows]]
    return _decode(y, classes, codes, noisy)


def _mapping_codes(mapping: Mapping, classes) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes.tolist())}
    target = np.arange(len(classes))
    for source, dest in mapping.items():
        if source not in index or dest not in index:
            unknown = source if source not in index else dest
            raise ValueError(
                f"mapping names {unknown!r}, which is not a class of y "
                f"({classes.tolist()})."
            )
        target[index[source]] = index[dest]
    return target


def transition_noise(y, transition, random_state=None):
    """Corrupt labels by a class-conditional transition matrix.

    Each class ``i`` keeps ``round(T[i, i] * n_i)`` labels and sends the others to
    each class ``j`` in proportion to ``T[i, j]`` (largest remainder): exactly the
    expected counts.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    transition : array-like of shape (n_classes, n_classes)
        ``T[i, j] = P(noisy = j | true = i)``, classes in sorted order; rows sum
        to 1.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw; an int makes it reproducible.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The corrupted labels, in the label type of ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Whether each row's label changed.
    """
    y, classes, codes = _encode(y)
    T = np.asarray(transition, dtype=float)
    n_classes = len(classes)
    if T.shape != (n_classes, n_classes):
        raise ValueError(
            f"transition must have shape ({n_classes}, {n_classes}) for the "
            f"{n_classes} classes of y, got {T.shape}."
        )
    if (T < 0).any() or not np.allclose(T.sum(axis=1), 1):
        raise ValueError("transition must be non-negative with rows summing to 1.")
    rng = check_random_state(random_state)
    noisy = codes.copy()
    for c in range(n_classes):
        rows = rng.permutation(np.flatnonzero(codes == c))
        counts = allocate(len(rows), T[c])
        noisy[rows] = np.repeat(np.arange(n_classes), counts)
    return _decode(y, classes, codes, noisy)


def instance_noise(X, y, rate, random_state=None):
    """Instance-dependent noise in the style of PTD (Xia et al., NeurIPS 2020).

    Each sample gets a flip rate ``q_i`` from a normal distribution around
    ``rate`` (sd 0.1, clipped to [0, 1]) and a projection ``x_i W`` onto the
    classes, with ``W`` drawn once from a standard normal. Exactly
    ``round(rate * n)`` samples are flipped, chosen with probability proportional
    to ``q_i``, each to the other class its features point to most
    (``softmax(x_i W)`` over the other classes, sampled).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features that drive the noise.
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    rate : float in [0, 1]
        Fraction of labels to flip.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw; an int makes it reproducible.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The corrupted labels, in the label type of ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Whether each row's label changed.
    """
    y, classes, codes = _encode(y)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    rate = _check_rate(rate)
    rng = check_random_state(random_state)
    n_samples, n_classes = len(y), len(classes)
    flip_rate = np.clip(rng.normal(rate, 0.1, size=n_samples), 1e-6, 1)
    std = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(std > 0, std, 1)
    scores = Z @ rng.standard_normal((Z.shape[1], n_classes))
    scores[np.arange(n_samples), codes] = -np.inf
    scores -= scores.max(axis=1, keepdims=True)
    proba = np.exp(scores)
    proba /= proba.sum(axis=1, keepdims=True)
    n_flips = round(rate * n_samples)
    rows = rng.choice(
        n_samples, size=n_flips, replace=False, p=flip_rate / flip_rate.sum()
    )
    noisy = codes.copy()
    cumulative = proba[rows].cumsum(axis=1)
    draws = rng.random_sample(len(rows))[:, None]
    noisy[rows] = np.minimum((cumulative < draws).sum(axis=1), n_classes - 1)
    # Guard against rounding sending a row to its own class.
    same = noisy[rows] == codes[rows]
    noisy[rows[same]] = proba[rows[same]].argmax(axis=1)
    return _decode(y, classes, codes, noisy)


def flip_labels(y, rate, kind="symmetric", *, X=None, mapping=None, random_state=None):
    """Corrupt labels with one of the standard kinds of noise.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    rate : float in [0, 1]
        Fraction of labels flipped (exactly ``round(rate * n_samples)``).
    kind : {"symmetric", "pair", "instance"}, default="symmetric"
        See :func:`symmetric_noise`, :func:`pair_noise`, :func:`instance_noise`.
    X : array-like of shape (n_samples, n_features), default=None
        Features, required by ``kind="instance"``.
    mapping : dict, default=None
        Class pairing for ``kind="pair"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw; an int makes it reproducible.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The corrupted labels, in the label type of ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Whether each row's label changed.
    """
    if kind == "symmetric":
        return symmetric_noise(y, rate, random_state=random_state)
    if kind == "pair":
        return pair_noise(y, rate, mapping=mapping, random_state=random_state)
    if kind == "instance":
        if X is None:
            raise ValueError("kind='instance' needs the features X.")
        return instance_noise(X, y, rate, random_state=random_state)
    raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}.")


class LabelNoise(BaseEstimator):
    """Label corruption as a scikit-learn-style object, for evaluation loops.

    Parameters
    ----------
    rate : float, default=0.2
        Fraction of labels flipped.
    kind : {"symmetric", "pair", "instance"}, default="symmetric"
        The kind of noise, as in :func:`flip_labels`.
    mapping : dict or None, default=None
        Class pairing for ``kind="pair"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw; an int makes it reproducible.

    Examples
    --------
    >>> import numpy as np
    >>> from sknoisy.noise import LabelNoise
    >>> y = np.repeat(["cat", "dog", "owl"], 10)
    >>> y_noisy, flipped = LabelNoise(rate=0.2, random_state=0).corrupt(y)
    >>> int(flipped.sum())
    6
    """

    def __init__(self, rate=0.2, kind="symmetric", mapping=None, random_state=None):
        self.rate = rate
        self.kind = kind
        self.mapping = mapping
        self.random_state = random_state

    def corrupt(self, y, X=None):
        """Corrupt the labels ``y`` (with the features ``X`` for instance noise).

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Clean labels, of any type.
        X : array-like of shape (n_samples, n_features), default=None
            Features, required by ``kind="instance"``.

        Returns
        -------
        y_noisy : ndarray of shape (n_samples,)
            The corrupted labels, in the label type of ``y``.
        flipped : ndarray of bool, shape (n_samples,)
            Whether each row's label changed.
        """
        return flip_labels(
            y,
            self.rate,
            self.kind,
            X=X,
            mapping=self.mapping,
            random_state=self.random_state,
        )
