"""The losses against their formulas (methods.md §1.4, §2.1), computed by hand."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sknoisy.losses import alr_loss, entropy, ido_loss


def np_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_ce(z, y):
    return -np.log(np_softmax(z)[np.arange(len(y)), y])


def np_entropy(p):
    return -(p * np.log(p)).sum(axis=1)


@pytest.fixture
def batch():
    z_w = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0]])
    z_s = np.array([[1.5, 0.0, -0.5], [0.4, -0.2, 0.3], [0.0, 2.0, 1.0]])
    y = np.array([0, 2, 0])
    p = np.array([0.9, 0.5, 0.1])
    q = np.array([0.1, 0.5, 0.9])
    f0 = np.array([0.2, 0.6, 0.99])
    f1 = np.array([0.01, 0.3, 0.7])
    return z_w, z_s, y, p, q, f0, f1


def hand_ido(z_w, z_s, y, p, q, f0, f1):
    p_bar = np.clip((np_softmax(z_w) + np_softmax(z_s)) / 2, 1e-4, 1 - 1e-4)
    clean = p * (np_ce(z_w, y) + np_ce(z_s, y))
    consistency = (p * f0 + (1 - q) * (1 - f1)) * ((z_w - z_s) ** 2).mean(axis=1)
    ent = (1 - p) * p_bar.max(axis=1) * np_entropy(p_bar)
    return clean, consistency, ent, p_bar


def as_tensors(*arrays):
    return [
        torch.tensor(a, dtype=torch.float64 if a.dtype.kind == "f" else torch.long)
        for a in arrays
    ]


def test_ido_loss_per_sample_equals_formula(batch):
    clean, consistency, ent, _ = hand_ido(*batch)
    got = ido_loss(*as_tensors(*batch), reduction="none")
    np.testing.assert_allclose(got.numpy(), clean + consistency + ent, rtol=1e-10)
    mean = ido_loss(*as_tensors(*batch))
    assert mean.item() == pytest.approx((clean + consistency + ent).mean(), rel=1e-10)


def test_ido_official_entropy_broadcast(batch):
    clean, consistency, _, p_bar = hand_ido(*batch)
    p = batch[3]
    # The official code: conf (B, 1) * H (B,) -> (B, B), times (1 - p) (B,), meaned.
    conf = p_bar.max(axis=1)[:, None]
    matrix = (1 - p)[None, :] * (conf * np_entropy(p_bar)[None, :])
    expected = clean.mean() + consistency.mean() + matrix.mean()
    got = ido_loss(*as_tensors(*batch), entropy_broadcast=True)
    assert got.item() == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="reduction"):
        ido_loss(*as_tensors(*batch), entropy_broadcast=True, reduction="none")


def test_ido_mixture_outputs_get_no_gradient(batch):
    tensors = as_tensors(*batch)
    for t in (tensors[0], tensors[1], *tensors[3:]):
        t.requires_grad_(True)
    ido_loss(*tensors).backward()
    assert tensors[0].grad is not None and tensors[1].grad is not None
    assert all(t.grad is None for t in tensors[3:])


def test_alr_loss_without_hardening_is_cross_entropy_on_one_hot_targets():
    logits = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    target = torch.tensor([0, 3, 1, 1, 2])
    one_hot = F.one_hot(target, 4).float()
    assert alr_loss(logits, one_hot, 0.0).item() == pytest.approx(
        F.cross_entropy(logits, target).item(), rel=1e-6
    )


def test_alr_loss_equals_formula():
    z = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    S = np.array([[0.8, 0.15, 0.05], [0.2, 0.2, 0.6]])
    w = S.max(axis=1)
    p = np_softmax(z)
    expected = -(S * np.log(p)).sum(axis=1) + 0.3 * w * np_entropy(p)
    got = alr_loss(
        torch.tensor(z), torch.tensor(S), 0.3, torch.tensor(w), reduction="none"
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    plain = alr_loss(torch.tensor(z), torch.tensor(S), 0.0)
    assert plain.item() == pytest.approx((-(S * np.log(p)).sum(axis=1)).mean())


def test_entropy_gradient_hardens_confident_rows_and_spares_uniform_ones():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    alr_loss(logits, torch.full((2, 3), 1 / 3), 1.0, reduction="sum").backward()
    # Take the entropy term alone: a gradient step must sharpen row 0, and the
    # uniform row 1 is a stationary point.
    logits.grad = None
    entropy(F.softmax(logits, dim=1)).sum().backward()
    grad = logits.grad
    assert torch.allclose(grad[1], torch.zeros(3), atol=1e-7)
    stepped = logits.detach() - 0.5 * grad
    before = F.softmax(logits.detach(), 1)[0].max()
    after = F.softmax(stepped, 1)[0].max()
    assert after > before


def test_entropy_of_one_hot_is_zero_and_of_uniform_is_log_c():
    assert entropy(torch.tensor([[1.0, 0.0, 0.0]])).item() == 0
    assert entropy(torch.full((1, 4), 0.25)).item() == pytest.approx(np.log(4))


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        alr_loss(torch.zeros(1, 2), torch.ones(1, 2) / 2, 1.0, reduction="avg")
