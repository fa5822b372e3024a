"""The skorch plumbing: batches carry their rows, under shuffling and splits."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier

from .conftest import FAST


class RecordBatches(Callback):
    """Record what every batch carries."""

    def initialize(self):
        self.batches = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.batches.append({"train": [], "valid": []})

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        X, y = batch
        self.batches[-1]["train" if training else "valid"].append(
            (X["sample_idx"].cpu().numpy(), X["X"].cpu().numpy(), y.cpu().numpy())
        )


def recorded(clf):
    return dict(clf.net_.callbacks_)["RecordBatches"].batches


@pytest.mark.parametrize(
    "Estimator", [CrossEntropyClassifier, WrongEventClassifier, ALRClassifier]
)
def test_batches_carry_original_rows_under_shuffle_and_split(Estimator, small_data):
    X, y = small_data
    clf = Estimator(
        **FAST, callbacks=[RecordBatches()], train_split=ValidSplit(4), random_state=0
    ).fit(X, y)
    epochs = recorded(clf)
    assert len(epochs) == FAST["max_epochs"]
    X32 = X.astype(np.float32)
    train_orders = []
    for epoch in epochs:
        train_rows = np.concatenate([rows for rows, _, _ in epoch["train"]])
        valid_rows = np.concatenate([rows for rows, _, _ in epoch["valid"]])
        assert len(set(train_rows)) == len(train_rows), "each training row once"
        assert set(train_rows).isdisjoint(valid_rows)
        assert sorted(np.concatenate([train_rows, valid_rows])) == list(range(len(X)))
        for rows, features, targets in epoch["train"] + epoch["valid"]:
            np.testing.assert_array_equal(features, X32[rows])
            np.testing.assert_array_equal(targets, y[rows])
        train_orders.append(train_rows)
    assert not np.array_equal(train_orders[0], train_orders[1]), "shuffled"


def test_default_trains_on_every_row(small_data):
    X, y = small_data
    clf = CrossEntropyClassifier(**FAST, callbacks=[RecordBatches()]).fit(X, y)
    for epoch in recorded(clf):
        assert epoch["valid"] == []
        rows = np.concatenate([r for r, _, _ in epoch["train"]])
        assert sorted(rows) == list(range(len(X)))


def test_batch_losses_reach_the_history(small_data):
    X, y = small_data
    clf = CrossEntropyClassifier(**FAST).fit(X, y)
    history = clf.net_.history
    batch_losses = history[-1, "batches", :, "train_loss"]
    sizes = history[-1, "batches", :, "train_batch_size"]
    assert len(batch_losses) == int(np.ceil(len(X) / FAST["batch_size"]))
    assert all(isinstance(v, float) for v in batch_losses)
    assert history[-1, "train_loss"] == pytest.approx(
        np.average(batch_losses, weights=sizes)
    )
    assert history[-1, "train_loss"] < history[0, "train_loss"]


@pytest.mark.parametrize("Estimator", [WrongEventClassifier, ALRClassifier])
def test_the_verbose_table_keeps_its_columns_and_stays_short(Estimator, capsys):
    X, y = make_classification(
        n_samples=120, n_classes=3, n_informative=4, random_state=0
    )
    Estimator(hidden_layer_sizes=(8,), max_epochs=10, verbose=1, random_state=0).fit(
        X, y
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    header, rows = lines[0].split(), lines[2:]
    assert len(rows) == 10
    assert max(len(line) for line in lines) < 160, "no mixture dict in the table"
    assert "mixture" not in header
    # every row has a value under every column (booleans print blank when False)
    widths = [len(row.split()) for row in rows]
    assert max(widths) <= len(header) and min(widths) >= len(header) - 1


@pytest.mark.parametrize(
    ("optimizer", "params"),
    [
        (torch.optim.Adam, {}),
        (torch.optim.SGD, {"optimizer__momentum": 0.9}),
        (torch.optim.Adagrad, {}),
    ],
)
def test_a_restarted_optimizer_steps_as_a_new_one(optimizer, params, small_data):
    X, y = small_data
    # A constant rate: the restart keeps each group's rate, and the new
    # optimizer it is compared with starts at lr.
    clf = CrossEntropyClassifier(
        **FAST, optimizer=optimizer, lr=2e-3, lr_schedule="constant", **params
    )
    net = clf.set_params(random_state=0).fit(X, y).net_
    start = copy.deepcopy(net.module_.state_dict())
    x, target = torch.as_tensor(X[:32], dtype=torch.float32), torch.as_tensor(y[:32])

    def one_step():
        net.module_.load_state_dict(start)
        net.optimizer_.zero_grad()
        torch.nn.functional.cross_entropy(net.module_(x), target).backward()
        net.optimizer_.step()
        return [value.clone() for value in net.module_.state_dict().values()]

    optimizer_before = net.optimizer_
    assert optimizer_before.state, "its state after training"
    net.restart_optimizer()
    assert net.optimizer_ is optimizer_before, "in place"
    assert [group["lr"] for group in net.optimizer_.param_groups] == [2e-3]
    restarted = one_step()
    net.initialize_optimizer()
    for kept, new in zip(restarted, one_step()):
        torch.testing.assert_close(kept, new, rtol=0, atol=0)
