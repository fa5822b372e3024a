"""Seeds, threads and devices for one fit."""

import pytest
import torch

from sknoisy._runtime import (
    check_device,
    resolve_seed,
    seeded_torch,
    thread_count,
    torch_threads,
)


def test_resolve_seed():
    assert resolve_seed(3) == resolve_seed(3)
    assert resolve_seed(3) != resolve_seed(4)
    assert isinstance(resolve_seed(None), int)


def test_seeded_torch_leaves_the_global_state_as_it_was():
    before = torch.random.get_rng_state()
    with seeded_torch(5, "cpu"):
        first = torch.rand(3)
    assert torch.equal(torch.random.get_rng_state(), before)
    with seeded_torch(5, "cpu"):
        assert torch.equal(torch.rand(3), first)


def test_torch_threads_are_restored():
    previous = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == previous
    with torch_threads(None):
        assert torch.get_num_threads() == previous


@pytest.mark.parametrize(
    ("n_threads", "random_state", "device", "expected"),
    [
        ("auto", 0, "cpu", 1),
        ("auto", None, "cpu", None),
        ("auto", 0, "cuda", None),
        (None, 0, "cpu", None),
        (3, None, "cpu", 3),
    ],
)
def test_thread_count(n_threads, random_state, device, expected):
    assert thread_count(n_threads, random_state, device) == expected


@pytest.mark.parametrize("device", ["gpu", "cuda:x"])
def test_check_device_names_a_bad_device(device):
    with pytest.raises(ValueError, match="not a torch device"):
        check_device(device)
    check_device("cpu")
