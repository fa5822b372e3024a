"""Two-component Beta mixture over wrong-event counts (IDO, specification §1.3).

Conventions
-----------
* Component 0 is *clean* (initial Beta(1, 2), density falling towards 1);
  component 1 is *noisy* (initial Beta(2, 1), density falling towards 0).
* Counts are normalised per fit, ``x = (count - min) / (max - min)``, and
  squeezed into ``[EPS, 1 - EPS]``. A count outside the fitted range is clipped
  into it (the official code returns a zero posterior there instead).
* Responsibilities are normalised in log space (the official code floors the
  densities at ``EPS``, which gives the most extreme counts a posterior of 0.5).
* A mixture whose noisy component describes samples that were wrong in fewer
  than half of the passes counted so far (``CREDIBLE_NOISE_RATE``) finds no
  credible noise, and calls every sample of its group clean. Min-max normalisation
  otherwise stretches a clean class's narrow range of counts (say 2 to 4) to
  [0, 1] and always splits it; IDO's own premise is that a wrong label is one the
  model contradicts in most passes.
* A given class whose every row was predicted wrong in most passes (its lowest
  count at least ``CREDIBLE_NOISE_RATE`` of the passes) is one the network has
  not learnt yet, not one whose labels are all wrong: its samples are called
  clean, so that the loss teaches the class instead of giving it up (seen on
  clean blobs, where a class the base model had not learnt lost all its rows
  to the noisy component and was never predicted). A class with some rows
  predicted right is learnt, however many of its labels are wrong: symmetric
  noise floods a rare class with the rows of frequent ones (on shuttle at 40%,
  over 90% of a rare class's labels are wrong), and a rule on a quantile of
  the counts (the 10% quantile, before) called all those labels clean. So
  does a support of 2% of the rows: measured on the defaults suite, it ranked
  shuttle's wrong labels at AUROC 0.27 with pair noise, against 0.68 for the
  lowest count.
* In a class the table calls mostly noisy (or whose own mixture is
  degenerate), the loss's table (:meth:`WrongEventMixture.loss_table`) weighs
  as clean a sample predicted right in most passes or whose count is at most
  the class's median; the scores keep the posterior. A class learnt late has
  counts that rise together, and the mixture then took its rows one epoch
  after another.
* The clean posterior in the table never rises with the count
  (:func:`_non_increasing`): where one component's density vanishes at an end
  of the range and the other's does not, the raw posterior called rows never
  predicted wrong noisy (seen on digits with pair noise, and on blobs with 10%
  noise: counts 0-3 got 0.0), or rows wrong in every pass clean. The official
  code uses the raw posterior.
* Wrong-event counts are small integers, so EM runs on the histogram of distinct
  counts (weighted by frequency), which equals EM over samples, and the outputs
  are precomputed as a lookup table over counts ``0..max_count``.

:class:`BetaMixture` is one mixture; :class:`WrongEventMixture` holds one per
given class (or one global) and builds the table that the training loop gathers
from on the model's device.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

EPS = 1e-6
"""Clip of normalised counts and floor of the Beta parameters."""

SHAPE_FLOOR = 1.02
"""A clean ``beta`` or noisy ``alpha`` below this is reset to SHAPE_RESET."""

SHAPE_RESET = 1.1
"""The value a shape parameter below SHAPE_FLOOR is reset to."""

TABLE_COLUMNS = ("clean_proba", "noisy_proba", "clean_cdf", "noisy_cdf")
"""What each column of a lookup table holds."""

CREDIBLE_NOISE_RATE = 0.5
"""A noisy component must describe samples predicted wrong in most passes."""


def normalise_counts(counts, low: float, high: float) -> np.ndarray:
    """Map counts into ``[EPS, 1 - EPS]`` by ``(count - low) / (high - low)``.

    With ``high == low`` every count maps to ``EPS`` (no spread: no evidence of
    noise).

    Parameters
    ----------
    counts : array-like
        Wrong-event counts.
    low, high : float
        The counts that map to 0 and 1 (a fit's minimum and maximum).

    Returns
    -------
    ndarray of float, shape of ``counts``
        The normalised counts.
    """
    counts = np.asarray(counts, dtype=float)
    if high <= low:
        return np.full(counts.shape, EPS)
    return np.clip((counts - low) / (high - low), EPS, 1 - EPS)


@dataclass
class BetaMixture:
    """Two-component Beta mixture on ``[0, 1]`` fitted by EM.

    Its parameters are its attributes, updated in place by :meth:`fit`.

    Parameters
    ----------
    alphas, betas : ndarray of shape (2,), default=[1, 2] and [2, 1]
        Beta parameters of the clean (0) and noisy (1) component.
    weights : ndarray of shape (2,), default=[0.5, 0.5]
        Mixing weights.
    """

    alphas: np.ndarray = field(default_factory=lambda: np.array([1.0, 2.0]))
    betas: np.ndarray = field(default_factory=lambda: np.array([2.0, 1.0]))
    weights: np.ndarray = field(default_factory=lambda: np.array([0.5, 0.5]))

    def log_weighted_likelihood(self, x: np.ndarray) -> np.ndarray:
        """Compute ``log(w_k * pdf_k(x))`` for both components.

        Parameters
        ----------
        x : ndarray of shape (n,)
            Points in ``(0, 1)``.

        Returns
        -------
        ndarray of shape (2, n)
            Row ``k`` for component ``k``.
        """
        a, b = self.alphas[:, None], self.betas[:, None]
        # The Beta log-density, written out: scipy.stats' dispatch costs more
        # than the arithmetic on these small arrays.
        log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b)
        return np.log(self.weights)[:, None] + log_pdf

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """Compute the responsibilities of the two components at ``x``.

        Normalised in log space: near 0 or 1 both densities can underflow, and
        flooring them (as the official code does) would give such a count a
        posterior of 0.5 however extreme it is.

        Parameters
        ----------
        x : array-like of shape (n,)
            Points in ``(0, 1)``.

        Returns
        -------
        ndarray of shape (2, n)
            Posterior of the clean (row 0) and noisy (row 1) component; columns
            sum to 1.
        """
        log_lik = self.log_weighted_likelihood(np.asarray(x, float))
        return special.softmax(log_lik, axis=0)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Compute the CDF of each component at ``x``.

        Parameters
        ----------
        x : array-like of shape (n,)
            Points in ``[0, 1]``.

        Returns
        -------
        ndarray of shape (2, n)
            Row ``k`` for component ``k``.
        """
        x = np.asarray(x, float)
        return special.betainc(self.alphas[:, None], self.betas[:, None], x[None, :])

    def fit(self, x, n_iter: int, sample_weight=None) -> BetaMixture:
        """Run ``n_iter`` EM iterations from the current parameters.

        Parameters
        ----------
        x : array-like of shape (n,)
            Normalised counts in ``(0, 1)``.
        n_iter : int
            EM iterations (20 from the initial parameters, 1-2 to warm-start).
        sample_weight : array-like of shape (n,) or None
            Frequency of each ``x`` (EM over a histogram).

        Returns
        -------
        self : BetaMixture
            The mixture, with its parameters updated.
        """
        x = np.asarray(x, float)
        freq = np.ones_like(x) if sample_weight is None else np.asarray(sample_weight)
        for _ in range(n_iter):
            resp = self.posterior(x) * freq[None, :]  # E-step
            for k in range(2):  # M-step: weighted method of moments
                total = max(resp[k].sum(), EPS)
                mean = np.clip((resp[k] * x).sum() / total, EPS, 1 - EPS)
                var = max((resp[k] * (x - mean) ** 2).sum() / total, EPS)
                alpha = mean * (mean * (1 - mean) / var - 1)
                self.alphas[k] = max(alpha, EPS)
                self.betas[k] = max(alpha * (1 - mean) / mean, EPS)
            # Keep each density falling away from its own end of [0, 1].
            if self.betas[0] < SHAPE_FLOOR:
                self.betas[0] = SHAPE_RESET
            if self.alphas[1] < SHAPE_FLOOR:
                self.alphas[1] = SHAPE_RESET
            self.weights = np.maximum(resp.sum(1) / resp.sum(), EPS)
        return self

    def outputs(self, x) -> np.ndarray:
        """Compute the lookup-table columns at ``x``.

        Parameters
        ----------
        x : array-like of shape (n,)
            Normalised counts.

        Returns
        -------
        ndarray of shape (n, 4)
            The columns of ``TABLE_COLUMNS``: both posteriors, both CDFs.
        """
        post = self.posterior(x)
        cdf = self.cdf(x)
        return np.stack([post[0], post[1], cdf[0], cdf[1]], axis=1)

    def params(self) -> dict[str, list[float]]:
        """Return the parameters as plain lists, for the training history.

        Returns
        -------
        dict of str to list of float
            ``alphas``, ``betas`` and ``weights``.
        """
        return {
            "alphas": self.alphas.tolist(),
            "betas": self.betas.tolist(),
            "weights": self.weights.tolist(),
        }


@dataclass
class _CountGroup:
    """One mixture and the count range it was last fitted on."""

    mixture: BetaMixture = field(default_factory=BetaMixture)
    low: float = 0.0
    high: float = 0.0
    median: float = 0.0

    def refit(self, counts: np.ndarray, n_iter: int) -> None:
        self.low, self.high = float(counts.min()), float(counts.max())
        self.median = float(np.median(counts))
        if self.high > self.low:
            values, freq = np.unique(counts, return_counts=True)
            x = normalise_counts(values, self.low, self.high)
            self.mixture.fit(x, n_iter, sample_weight=freq)

    def table(self, max_count: int) -> np.ndarray:
        counts = np.arange(max_count + 1)
        rows = self.mixture.outputs(normalise_counts(counts, self.low, self.high))
        rows[:, 0] = _non_increasing(rows[:, 0], self.median)
        rows[:, 1] = 1.0 - rows[:, 0]
        return rows

    def noise_credible(self, passes: int) -> bool:
        """Whether the noisy component's mean count is most of the passes counted."""
        a, b = self.mixture.alphas[1], self.mixture.betas[1]
        mean_count = self.low + a / (a + b) * (self.high - self.low)
        return bool(mean_count >= CREDIBLE_NOISE_RATE * passes)

    def plausible(self) -> bool:
        """Whether the fit calls at least half of the group's samples clean.

        Judged at the group's median count: a fit that calls it noisy either
        claims most of the group's labels are wrong (which no noise model can
        tell from a hard class) or has collapsed, its clean component a spike
        at the lowest count.
        """
        x_median = normalise_counts([self.median], self.low, self.high)
        return bool(self.mixture.posterior(x_median)[0, 0] >= 0.5)


def _non_increasing(clean: np.ndarray, median: float) -> np.ndarray:
    """The clean posterior over counts ``0..n-1``, made never to rise with the count.

    Fewer wrong events never make a label more likely wrong, but the raw
    posterior can say so at the ends of the range, where one component's
    density vanishes and the other's does not: a clean component with
    ``alpha > 1`` vanishes at the lowest count (rows never predicted wrong were
    called noisy), a noisy one with ``beta > 1`` at the highest (rows wrong in
    every pass were called clean). From the most clean count at or below the
    group's median count (a median row is clean: :meth:`_CountGroup.plausible`),
    lower counts get at least its posterior and higher counts at most the lowest
    posterior before them; between the ends the posterior is unchanged.
    """
    top = int(np.clip(np.floor(median), 0, len(clean) - 1))
    peak = int(np.argmax(clean[: top + 1]))
    below = np.maximum.accumulate(clean[: peak + 1][::-1])[::-1]
    above = np.minimum.accumulate(clean[peak:])
    return np.concatenate([below, above[1:]])


class WrongEventMixture:
    """Beta mixtures over wrong-event counts, one per given class or one global.

    A class with fewer than ``min_class_size`` samples, or whose counts are all
    equal, uses the global mixture instead (the official code divides by zero
    there). So does a class whose fitted mixture calls at least half of its own
    samples noisy (clean posterior below 0.5 at the class's median count): EM has
    then let the noisy component absorb the class, its clean component a spike at
    the lowest count, which would keep the class from being learnt (seen on
    clean data where one class is hard early in training, and on blobs with 10%
    noise). Its own mixture is kept and refitted, and used again once it is
    plausible.

    Parameters
    ----------
    n_classes : int
        Number of classes.
    per_class : bool, default=True
        One mixture per given class (``mixture="class"``); False fits one global
        mixture (``mixture="global"``).
    min_class_size : int, default=10
        Smallest class that gets its own mixture.
    """

    def __init__(self, n_classes: int, per_class: bool = True, min_class_size=10):
        self.n_classes = n_classes
        self.per_class = per_class
        self.min_class_size = min_class_size
        self.global_group = _CountGroup()
        self.class_groups: dict[int, _CountGroup] = {}
        self.degenerate_classes: list[int] = []
        self.unlearnt_classes: list[int] = []
        self.class_medians: dict[int, int] = {}
        self.initial_iter = None
        self.passes = None
        self.max_count = 0

    def fit(self, counts, labels, n_iter: int, passes=None) -> WrongEventMixture:
        """(Re)fit every mixture on the current counts, warm-starting EM.

        Parameters
        ----------
        counts : array-like of int, shape (n_samples,)
            Wrong events per sample.
        labels : array-like of int, shape (n_samples,)
            Given (encoded) label per sample.
        n_iter : int
            EM iterations for each mixture.
        passes : int or None, default=None
            Forward passes counted per sample so far. When given, a mixture whose
            noisy component's mean count is below ``CREDIBLE_NOISE_RATE`` of them
            describes no credible noise: its samples are all called clean.

        Returns
        -------
        self : WrongEventMixture
            The fitted mixtures.
        """
        counts = np.asarray(counts)
        labels = np.asarray(labels)
        self.max_count = int(counts.max()) if len(counts) else 0
        if self.initial_iter is None:
            self.initial_iter = n_iter
        self.global_group.refit(counts, n_iter)
        self.passes = passes
        self.unlearnt_classes = []
        if passes is not None:
            bar = CREDIBLE_NOISE_RATE * passes
            self.unlearnt_classes = [
                c
                for c in np.unique(labels).tolist()
                if counts[labels == c].min() >= bar
            ]
        # An unlearnt class's counts describe no noise: its mixture starts afresh
        # (with the first fit's iterations) once the class is learnt.
        previous = self.class_groups
        self.class_groups = {}
        for c in self._own_classes(counts, labels):
            if c in self.unlearnt_classes:
                continue
            group = previous.get(c)
            fresh = group is None
            group = _CountGroup() if fresh else group
            group.refit(counts[labels == c], self.initial_iter if fresh else n_iter)
            self.class_groups[c] = group
        self.degenerate_classes = sorted(
            c for c, group in self.class_groups.items() if not group.plausible()
        )
        self.class_medians = {
            c: int(np.median(counts[labels == c])) for c in np.unique(labels).tolist()
        }
        return self

    def doubtful_classes(self) -> list[int]:
        """The given classes whose labels the mixture could not tell apart.

        An unlearnt class, and a class whose own mixture is degenerate (calls
        most of it noisy) while its noisy component describes credible noise.
        A degenerate mixture over counts far below the passes (a class learnt
        early, its rows predicted right almost every time) splits counts of
        0-3 into two components: its rows are called clean (no credible
        noise), and the class is well read, not doubtful.

        Returns
        -------
        list of int
            The doubtful classes, sorted.
        """
        credible = [
            c
            for c in self.degenerate_classes
            if not self._all_clean(self.class_groups[c])
        ]
        return sorted(set(self.unlearnt_classes) | set(credible))

    def _all_clean(self, group: _CountGroup) -> bool:
        return self.passes is not None and not group.noise_credible(self.passes)

    def _own_classes(self, counts, labels) -> list[int]:
        if not self.per_class:
            return []
        own = []
        for c in range(self.n_classes):
            class_counts = counts[labels == c]
            if len(class_counts) >= self.min_class_size and np.ptp(class_counts) > 0:
                own.append(c)
        return own

    def table(self) -> np.ndarray:
        """Build the lookup table of the mixtures' outputs over counts.

        Returns
        -------
        ndarray of shape (n_classes, max_count + 1, 4), float64
            ``table[c, k]`` holds ``TABLE_COLUMNS`` for a sample of given class
            ``c`` with ``k`` wrong events; gather with the count clipped to
            ``max_count``.
        """
        global_rows = self._group_table(self.global_group)
        table = np.repeat(global_rows[None], self.n_classes, axis=0)
        for c, group in self.class_groups.items():
            if c not in self.degenerate_classes:
                table[c] = self._group_table(group)
        for c in self.unlearnt_classes:
            table[c, :, 0], table[c, :, 1] = 1.0, 0.0
        return table

    def loss_table(self) -> np.ndarray:
        """Build the lookup table that weighs the training loss.

        :meth:`table`, except in a given class that the table calls mostly
        noisy (its median count's clean posterior below 0.5), or whose own
        mixture is degenerate (the class then uses the global one): there a
        sample is weighted clean if it was predicted right in most of the
        passes so far (fewer wrong events than ``CREDIBLE_NOISE_RATE`` of
        them), by IDO's premise that a wrong label is one the model contradicts
        in most passes, or if its count is at most the class's median, by the
        premise of every label-noise model that can be identified at all: most
        of a class's given labels are right. A class learnt late has counts
        that rise together, and a hard class (an ordinal class between two
        others, like diamonds' ``Very Good``) counts most of its right labels
        wrong in most passes; without this such a class lost its rows to the
        noisy component one epoch after another (the entropy term hardening the
        model's other predictions for them) until it was never predicted. Only
        such a class: in every class, the gate let noisy rows the model had
        started to fit be fitted (on the defaults suite, shuttle's AUROC with
        pair noise fell from 0.68 to 0.44). The scores (``noise_scores_``)
        stay the mixture's posteriors.

        Returns
        -------
        ndarray of shape (n_classes, max_count + 1, 4), float64
            As :meth:`table`.
        """
        table = self.table()
        if self.passes is None:
            return table
        below_bar = int(np.ceil(CREDIBLE_NOISE_RATE * self.passes))
        for c, median in self.class_medians.items():
            median = min(median, self.max_count)
            if table[c, median, 0] < 0.5 or c in self.degenerate_classes:
                clean = max(below_bar, median + 1)  # counts 0 .. clean - 1
                table[c, :clean, 0], table[c, :clean, 1] = 1.0, 0.0
        return table

    def _group_table(self, group: _CountGroup) -> np.ndarray:
        rows = group.table(self.max_count)
        if self._all_clean(group):
            rows[:, 0], rows[:, 1] = 1.0, 0.0
        return rows

    def params(self) -> dict:
        """Return the mixture parameters for the history.

        Returns
        -------
        dict
            ``"global"``, and each class with its own mixture, to its
            :meth:`BetaMixture.params`.
        """
        out = {"global": self.global_group.mixture.params()}
        out.update({int(c): g.mixture.params() for c, g in self.class_groups.items()})
        return out
