"""Label-noise simulation: exact counts, reproducible, any label type."""

import numpy as np
import pytest

from sknoisy.noise import (
    LabelNoise,
    allocate,
    flip_labels,
    instance_noise,
    pair_noise,
    symmetric_noise,
    transition_noise,
)


@pytest.fixture
def labels():
    return np.repeat(np.arange(5), [40, 30, 20, 60, 50])  # 200 rows, unbalanced


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.2, 0.4, 0.6, 1.0])
def test_symmetric_flips_exactly_and_always_to_another_class(labels, rate):
    y_noisy, flipped = symmetric_noise(labels, rate, random_state=0)
    assert flipped.sum() == round(rate * len(labels))
    np.testing.assert_array_equal(flipped, y_noisy != labels)
    counts = np.bincount(labels[flipped], minlength=5)
    np.testing.assert_array_equal(counts, allocate(flipped.sum(), np.bincount(labels)))


def test_symmetric_targets_are_uniform_over_other_classes():
    y = np.zeros(20000, dtype=int)
    y[10000:] = np.arange(10000) % 4 + 1
    y_noisy, flipped = symmetric_noise(y, 0.5, random_state=0)
    from_zero = y_noisy[(y == 0) & flipped]
    shares = np.bincount(from_zero, minlength=5)[1:] / len(from_zero)
    np.testing.assert_allclose(shares, 0.25, atol=0.03)


def test_pair_noise_goes_to_the_next_class(labels):
    y_noisy, flipped = pair_noise(labels, 0.3, random_state=0)
    assert flipped.sum() == 60
    np.testing.assert_array_equal(y_noisy[flipped], (labels[flipped] + 1) % 5)


def test_pair_noise_with_a_user_mapping_and_strings():
    y = np.array(["cat"] * 10 + ["dog"] * 10 + ["owl"] * 10)
    y_noisy, flipped = pair_noise(y, 0.5, mapping={"cat": "dog"}, random_state=0)
    assert flipped.sum() == 5, "half of the mapped class"
    assert set(y_noisy[flipped]) == {"dog"} and set(y[flipped]) == {"cat"}
    with pytest.raises(ValueError, match="'bee'"):
        pair_noise(y, 0.5, mapping={"bee": "dog"})


def test_transition_rows_are_respected(labels):
    T = np.array(
        [
            [0.6, 0.4, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0, 0.0],
            [0.1, 0.1, 0.5, 0.2, 0.1],
            [0.0, 0.0, 0.0, 0.5, 0.5],
            [0.2, 0.2, 0.2, 0.2, 0.2],
        ]
    )
    y_noisy, flipped = transition_noise(labels, T, random_state=0)
    np.testing.assert_array_equal(flipped, y_noisy != labels)
    for c, n in enumerate(np.bincount(labels)):
        got = np.bincount(y_noisy[labels == c], minlength=5)
        np.testing.assert_array_equal(got, allocate(n, T[c]))
        np.testing.assert_allclose(got / n, T[c], atol=1 / n + 1e-9)


def test_transition_statistically_on_many_rows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 30000)
    T = np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05], [0.3, 0.3, 0.4]])
    y_noisy, _ = transition_noise(y, T, random_state=1)
    empirical = np.array(
        [np.bincount(y_noisy[y == c], minlength=3) / np.sum(y == c) for c in range(3)]
    )
    np.testing.assert_allclose(empirical, T, atol=1e-3)


@pytest.mark.parametrize(
    ("T", "match"),
    [
        (np.eye(4), "shape"),
        (np.full((5, 5), 0.3), "rows summing to 1"),
        (-np.eye(5), "non-negative"),
    ],
)
def test_bad_transition_matrices(labels, T, match):
    with pytest.raises(ValueError, match=match):
        transition_noise(labels, T)


def test_instance_noise_is_exact_and_feature_dependent():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6))
    y = rng.integers(0, 4, 500)
    y_noisy, flipped = instance_noise(X, y, 0.3, random_state=0)
    assert flipped.sum() == 150
    np.testing.assert_array_equal(flipped, y_noisy != y)
    again, _ = instance_noise(X, y, 0.3, random_state=0)
    np.testing.assert_array_equal(y_noisy, again)
    shuffled, _ = instance_noise(X[:, ::-1], y, 0.3, random_state=0)
    assert not np.array_equal(shuffled, y_noisy), "the features drive the noise"


@pytest.mark.parametrize("kind", ["symmetric", "pair", "instance"])
def test_seeds_reproduce_and_input_is_untouched(labels, kind):
    X = np.arange(len(labels) * 2, dtype=float).reshape(-1, 2) % 7
    original = labels.copy()
    first = flip_labels(labels, 0.3, kind, X=X, random_state=5)
    second = flip_labels(labels, 0.3, kind, X=X, random_state=5)
    third = flip_labels(labels, 0.3, kind, X=X, random_state=6)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], third[0])
    np.testing.assert_array_equal(labels, original)


def test_label_types_are_preserved():
    y = np.array(["a", "b", "c"] * 10)
    y_noisy, flipped = flip_labels(y, 0.2, random_state=0)
    assert y_noisy.dtype == y.dtype and flipped.sum() == 6
    assert set(y_noisy) <= {"a", "b", "c"}
    y_int = np.array([10, -3, 99] * 10)
    assert set(flip_labels(y_int, 0.5, "pair", random_state=0)[0]) <= {10, -3, 99}


def test_label_noise_object():
    noise = LabelNoise(rate=0.25, kind="pair", random_state=0)
    y = np.arange(40) % 4
    y_noisy, flipped = noise.corrupt(y)
    assert flipped.sum() == 10
    np.testing.assert_array_equal(y_noisy[flipped], (y[flipped] + 1) % 4)
    assert noise.get_params()["rate"] == 0.25


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: flip_labels([0, 1], 1.5), "rate"),
        (lambda: flip_labels([0, 0, 0], 0.2), "at least 2 classes"),
        (lambda: flip_labels([0, 1], 0.2, kind="blur"), "kind"),
        (lambda: flip_labels([0, 1], 0.2, kind="instance"), "features X"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_allocate_sums_exactly():
    assert allocate(10, [1, 1, 1]).sum() == 10
    np.testing.assert_array_equal(allocate(7, [0.5, 0.25, 0.25]), [3, 2, 2])
    assert allocate(0, [1, 2]).sum() == 0
