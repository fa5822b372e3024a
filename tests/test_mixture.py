"""The Beta mixture over wrong-event counts (methods.md §1.3)."""

import numpy as np
import pytest
from scipy import stats

from sknoisy.mixture import EPS, BetaMixture, WrongEventMixture, normalise_counts


def reference_em_step(x, alphas, betas, weights):
    """One EM iteration written directly from methods.md §1.3."""
    lik = np.stack(
        [w * stats.beta.pdf(x, a, b) for a, b, w in zip(alphas, betas, weights)]
    )
    r = lik / lik.sum(0)
    new_a, new_b = [], []
    for k in range(2):
        m = np.sum(r[k] * x) / r[k].sum()
        v = np.sum(r[k] * (x - m) ** 2) / r[k].sum()
        a = m * (m * (1 - m) / v - 1)
        new_a.append(max(a, EPS))
        new_b.append(max(a * (1 - m) / m, EPS))
    if new_b[0] < 1.02:
        new_b[0] = 1.1
    if new_a[1] < 1.02:
        new_a[1] = 1.1
    return np.array(new_a), np.array(new_b), r.sum(1) / r.sum()


def test_em_step_matches_the_specification():
    x = normalise_counts(np.array([0, 0, 1, 1, 2, 3, 7, 8, 9, 9, 10]), 0, 10)
    mixture = BetaMixture()
    expected = reference_em_step(
        x, mixture.alphas.copy(), mixture.betas.copy(), mixture.weights.copy()
    )
    mixture.fit(x, n_iter=1)
    np.testing.assert_allclose(mixture.alphas, expected[0])
    np.testing.assert_allclose(mixture.betas, expected[1])
    np.testing.assert_allclose(mixture.weights, expected[2])


def test_histogram_em_equals_per_sample_em():
    counts = np.array([0, 0, 0, 1, 1, 2, 5, 6, 6, 6])
    x = normalise_counts(counts, 0, 6)
    per_sample = BetaMixture().fit(x, 20)
    values, freq = np.unique(counts, return_counts=True)
    histogram = BetaMixture().fit(
        normalise_counts(values, 0, 6), 20, sample_weight=freq
    )
    np.testing.assert_allclose(per_sample.alphas, histogram.alphas)
    np.testing.assert_allclose(per_sample.betas, histogram.betas)


def test_normalisation_clips():
    np.testing.assert_allclose(
        normalise_counts([0, 5, 10, 15], 0, 10), [EPS, 0.5, 1 - EPS, 1 - EPS]
    )
    np.testing.assert_allclose(normalise_counts([3, 3], 3, 3), [EPS, EPS])


def two_groups(rng, n_clean=80, n_noisy=20):
    return np.concatenate([rng.integers(0, 3, n_clean), rng.integers(15, 21, n_noisy)])


def test_separates_two_well_separated_groups():
    rng = np.random.default_rng(0)
    counts = two_groups(rng)
    labels = np.zeros(len(counts), dtype=int)
    mixture = WrongEventMixture(n_classes=1).fit(counts, labels, n_iter=20)
    table = mixture.table()
    clean = table[0, counts, 0]
    assert np.all(clean[:80] > 0.9)
    assert np.all(clean[80:] < 0.1)
    assert table[0, counts.max(), 0] < 0.01, "the most extreme count is noisy"
    np.testing.assert_allclose(table[0, :, 0] + table[0, :, 1], 1, rtol=1e-5)
    cdf_clean, cdf_noisy = table[0, :, 2], table[0, :, 3]
    assert np.all(np.diff(cdf_clean) >= 0) and np.all(np.diff(cdf_noisy) >= 0)


def test_per_class_fits_and_fallbacks_without_nan():
    rng = np.random.default_rng(1)
    counts = np.concatenate([two_groups(rng), np.full(30, 4), [1, 9, 2]])
    labels = np.concatenate([np.zeros(100), np.ones(30), np.full(3, 2)]).astype(int)
    mixture = WrongEventMixture(n_classes=3).fit(counts, labels, n_iter=20)
    assert set(mixture.class_groups) == {0}, "class 1 degenerate, class 2 too small"
    table = mixture.table()
    assert np.isfinite(table).all()
    global_rows = mixture.global_group.table(mixture.max_count)
    np.testing.assert_allclose(table[1], global_rows, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(table[2], global_rows, rtol=1e-6, atol=1e-12)
    assert "global" in mixture.params() and 0 in mixture.params()


def test_all_counts_equal_means_no_evidence_of_noise():
    mixture = WrongEventMixture(n_classes=2).fit(
        np.zeros(20, int), np.arange(20) % 2, 20
    )
    table = mixture.table()
    assert table.shape == (2, 1, 4)
    assert np.isfinite(table).all()
    assert np.all(table[:, 0, 0] > 0.99), "everyone clean"


def test_global_mixture_option():
    rng = np.random.default_rng(2)
    counts = two_groups(rng)
    labels = np.arange(len(counts)) % 2
    mixture = WrongEventMixture(n_classes=2, per_class=False).fit(counts, labels, 20)
    assert mixture.class_groups == {}
    table = mixture.table()
    np.testing.assert_array_equal(table[0], table[1])


def test_refit_warm_starts_and_uses_fresh_range():
    rng = np.random.default_rng(3)
    counts = two_groups(rng)
    labels = np.zeros(len(counts), dtype=int)
    mixture = WrongEventMixture(n_classes=1).fit(counts, labels, 20)
    before = mixture.class_groups[0].mixture.alphas.copy()
    mixture.fit(counts + 2, labels, 1)
    group = mixture.class_groups[0]
    assert group.low == counts.min() + 2 and group.high == counts.max() + 2
    assert not np.allclose(group.mixture.alphas, [1.0, 2.0]), "not reset"
    assert np.all(np.abs(group.mixture.alphas - before) < np.abs(before) + 1)


@pytest.mark.parametrize("n_iter", [1, 20])
def test_constraints_keep_densities_falling_away(n_iter):
    x = normalise_counts(np.arange(11), 0, 10)
    mixture = BetaMixture().fit(x, n_iter)
    assert mixture.betas[0] >= 1.02 and mixture.alphas[1] >= 1.02


def test_a_mixture_calling_its_cleanest_samples_noisy_is_replaced():
    from sknoisy._ido.mixture import _CountGroup

    healthy = _CountGroup(BetaMixture(), low=0, high=10)
    assert healthy.plausible()
    # Seen on clean data: the noisy component had absorbed a whole class.
    absorbed = BetaMixture(
        alphas=np.array([1.7e-6, 1.31]),
        betas=np.array([1.1, 1.79]),
        weights=np.array([1e-5, 1.0]),
    )
    assert not _CountGroup(absorbed, low=0, high=10).plausible()
    rng = np.random.default_rng(4)
    counts = np.concatenate([two_groups(rng), two_groups(rng)])
    labels = np.repeat([0, 1], 100)
    mixture = WrongEventMixture(n_classes=2).fit(counts, labels, 20)
    assert mixture.degenerate_classes == []
    mixture.class_groups[1].mixture = absorbed
    mixture.degenerate_classes = [1]
    table = mixture.table()
    global_rows = mixture.global_group.table(mixture.max_count)
    np.testing.assert_allclose(table[1], global_rows, atol=1e-12)
    assert not np.allclose(table[0], global_rows)


def test_a_noisy_component_of_rarely_wrong_samples_is_no_noise():
    # Clean data: everyone was wrong in few of the 50 passes; min-max
    # normalisation alone would still split them into "clean" and "noisy".
    rng = np.random.default_rng(5)
    counts = np.concatenate([rng.integers(0, 3, 80), rng.integers(4, 9, 20)])
    labels = np.zeros(100, dtype=int)
    ungated = WrongEventMixture(n_classes=1).fit(counts, labels, 20)
    assert (ungated.table()[0, counts, 0] < 0.5).any(), "the split the gate prevents"
    gated = WrongEventMixture(n_classes=1).fit(counts, labels, 20, passes=50)
    table = gated.table()
    np.testing.assert_array_equal(table[0, :, 0], 1.0)
    np.testing.assert_array_equal(table[0, :, 1], 0.0)
    # Noise: the flipped samples were wrong in most passes, so the gate stays open.
    noisy = np.concatenate([rng.integers(0, 3, 80), rng.integers(35, 50, 20)])
    open_gate = WrongEventMixture(n_classes=1).fit(noisy, labels, 20, passes=50)
    assert (open_gate.table()[0, noisy[80:], 0] < 0.1).all()


def test_the_loss_weighs_rows_mostly_predicted_right_as_clean_in_a_noisy_class():
    # Class 1 is learnt late: its counts rise together, and the mixture calls
    # most of its rows noisy although many were predicted right in most of the
    # 9 passes. In that class the loss weighs those clean (IDO's premise: a
    # wrong label is contradicted in most passes); class 0, which the mixture
    # calls mostly clean, keeps the mixture's weights; the scores keep the
    # mixture's ranking.
    rng = np.random.default_rng(3)
    counts = np.concatenate([rng.integers(0, 3, 100), rng.integers(4, 9, 100)])
    labels = np.repeat([0, 1], 100)
    mixture = WrongEventMixture(n_classes=2, per_class=False).fit(
        counts, labels, 20, passes=9
    )
    scores, loss = mixture.table(), mixture.loss_table()
    assert scores[1, mixture.class_medians[1], 0] < 0.5, "class 1: mostly noisy"
    assert scores[0, mixture.class_medians[0], 0] >= 0.5, "class 0: mostly clean"
    assert (scores[1, :5, 0] < 0.5).any(), "the rows the loss table changes"
    # Clean: counts 0-4 (under 4.5, half the passes) and up to the median.
    clean = max(5, mixture.class_medians[1] + 1)
    np.testing.assert_array_equal(loss[1, :clean, 0], 1.0)
    np.testing.assert_array_equal(loss[1, :clean, 1], 0.0)
    np.testing.assert_array_equal(loss[1, clean:], scores[1, clean:])
    np.testing.assert_array_equal(loss[1, :, 2:], scores[1, :, 2:])  # the CDFs
    np.testing.assert_array_equal(loss[0], scores[0])
    assert len(np.unique(scores[1, :5, 0])) > 1, "the scores still rank them"


def test_the_loss_weighs_at_least_half_of_a_hard_class_clean():
    # Class 1 is hard: its rows are wrong in 6-9 of 10 passes, all but a few
    # in most of them, and the mixture calls the class mostly noisy. Most of
    # a class's labels are right (or no noise model could tell them apart), so
    # the loss weighs the half of its rows with the fewest wrong events clean,
    # every row at or below its median count.
    rng = np.random.default_rng(5)
    counts = np.concatenate(
        [rng.integers(0, 3, 200), rng.integers(6, 10, 95), rng.integers(2, 4, 5)]
    )
    labels = np.repeat([0, 1], [200, 100])
    mixture = WrongEventMixture(n_classes=2, per_class=False).fit(
        counts, labels, 20, passes=10
    )
    scores, loss = mixture.table(), mixture.loss_table()
    median = mixture.class_medians[1]
    assert median > 5 and scores[1, median, 0] < 0.5, "class 1: hard, mostly noisy"
    weights = loss[1, np.minimum(counts[labels == 1], mixture.max_count), 0]
    assert np.mean(weights == 1.0) >= 0.5
    np.testing.assert_array_equal(loss[1, : median + 1, 0], 1.0)
    np.testing.assert_array_equal(loss[1, median + 1 :], scores[1, median + 1 :])


def test_a_degenerate_class_gets_the_loss_gate():
    # A class whose own mixture is implausible uses the global one; in it too
    # the rows predicted right in most passes weigh clean.
    rng = np.random.default_rng(4)
    counts = np.concatenate([two_groups(rng), two_groups(rng)])
    labels = np.repeat([0, 1], 100)
    mixture = WrongEventMixture(n_classes=2).fit(counts, labels, 20, passes=40)
    mixture.degenerate_classes = [1]
    loss = mixture.loss_table()
    np.testing.assert_array_equal(loss[1, :20, 0], 1.0)
    np.testing.assert_array_equal(loss[0], mixture.table()[0])


def test_fewer_wrong_events_are_never_less_likely_clean():
    """A clean component with alpha > 1 vanishes at the lowest count, where the
    raw posterior then favours the noisy one (seen on digits' class 8 under pair
    noise: a row never predicted wrong was flagged)."""
    from sknoisy._ido.mixture import _CountGroup

    group = _CountGroup(low=0.0, high=20.0, median=4.0)
    group.mixture.alphas = np.array([2.2, 1.1])
    group.mixture.betas = np.array([9.0, 1.5])
    group.mixture.weights = np.array([0.8, 0.2])
    raw = group.mixture.posterior(normalise_counts(np.arange(21), 0.0, 20.0))[0]
    assert raw[0] < 0.5 < raw[3], "the raw posterior dips at count 0"
    table = group.table(20)
    assert np.all(np.diff(table[:, 0]) <= 0), "never rises with the count"
    peak = int(np.argmax(raw[:5]))
    np.testing.assert_allclose(table[: peak + 1, 0], raw[peak])
    np.testing.assert_allclose(table[peak:, 0], raw[peak:], err_msg="unchanged")
    np.testing.assert_allclose(table[:, 0] + table[:, 1], 1.0)


def test_rows_wrong_in_every_pass_are_never_more_likely_clean():
    """Raw posteriors, as measured on blobs at 10% and 40% noise: a dip at the
    lowest counts, and a rise back to 1 at the highest."""
    from sknoisy._ido.mixture import _non_increasing

    dip = np.array([0.0, 0.0, 0.95, 0.98, 0.97, 0.6, 0.1, 0.0])
    np.testing.assert_allclose(
        _non_increasing(dip, median=3), [0.98, 0.98, 0.98, 0.98, 0.97, 0.6, 0.1, 0.0]
    )
    rise = np.array([1.0, 1.0, 1.0, 0.9, 0.4, 0.1, 0.07, 0.12, 1.0])
    np.testing.assert_allclose(
        _non_increasing(rise, median=2),
        [1.0, 1.0, 1.0, 0.9, 0.4, 0.1, 0.07, 0.07, 0.07],
    )


def test_a_class_wrong_in_every_row_is_unlearnt_but_a_flooded_one_is_not():
    # Class 0 is learnt (counts 0-5 of 40 passes). Class 1: every row wrong in
    # most passes, a class the network has not learnt yet: called clean. Class
    # 2: 95% of its rows always wrong (a rare class flooded by symmetric noise)
    # but its own rows learnt: its labels are scored, the flooded ones noisy.
    rng = np.random.default_rng(0)
    learnt = rng.integers(0, 6, 200)
    unlearnt = rng.integers(30, 41, 60)
    flooded = np.concatenate([rng.integers(0, 3, 5), rng.integers(34, 41, 95)])
    counts = np.concatenate([learnt, unlearnt, flooded])
    labels = np.repeat([0, 1, 2], [200, 60, 100])
    mixture = WrongEventMixture(n_classes=3).fit(counts, labels, 20, passes=40)
    assert mixture.unlearnt_classes == [1]
    table = mixture.table()
    clean = table[labels, np.minimum(counts, mixture.max_count), 0]
    assert (clean[labels == 1] == 1).all()
    assert (clean[260:265] > 0.5).all(), "the flooded class's own rows: clean"
    assert (clean[265:] < 0.5).all(), "the rows flooding it: noisy"
    # One row right in most passes makes a class learnt (a support of 2% of
    # the rows measured worse on the defaults suite: benchmarks/README.md).
    almost = np.concatenate([[3], rng.integers(36, 41, 199)])
    single = WrongEventMixture(n_classes=2).fit(
        np.concatenate([learnt, almost]), np.repeat([0, 1], [200, 200]), 20, passes=40
    )
    assert single.unlearnt_classes == []


def test_doubtful_classes_are_unlearnt_or_degenerate_with_credible_noise():
    # Seen on clean blobs: a class learnt early has counts 0-3 of 51 passes,
    # which EM may split with most rows in the "noisy" component. That
    # component describes no credible noise (its rows are called clean), so
    # the class was read well and is not doubtful. A class whose degenerate
    # mixture does describe noise (counts most of the passes) is.
    rng = np.random.default_rng(0)
    counts = np.concatenate(
        [
            rng.integers(0, 4, 200),
            rng.integers(0, 4, 10),  # class 2: learnt, most of its labels wrong
            rng.integers(30, 51, 90),
        ]
    )
    labels = np.repeat([0, 1, 2], 100)
    mixture = WrongEventMixture(n_classes=3).fit(counts, labels, 20, passes=51)
    mixture.degenerate_classes = [1, 2]  # as a collapsed EM fit leaves them
    assert mixture.doubtful_classes() == [2]
    mixture.unlearnt_classes = [0]
    assert mixture.doubtful_classes() == [0, 2]
