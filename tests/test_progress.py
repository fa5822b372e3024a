"""The epoch progress bar."""

import pickle

import numpy as np

from sknoisy import ALRClassifier
from sknoisy.progress import EpochProgressBar


def test_one_bar_advanced_once_per_epoch(monkeypatch):
    updates = []

    class Bar:
        def __init__(self, total, desc, disable):
            self.total, self.desc = total, desc

        def set_postfix(self, **kwargs):
            updates.append(kwargs["loss"])

        def update(self, n):
            assert n == 1

        def close(self):
            updates.append("closed")

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    bar = EpochProgressBar(description="auditing")
    clf = ALRClassifier(max_epochs=3, callbacks=[bar], random_state=0).fit(X, y)
    assert len(updates) == 4 and updates[-1] == "closed"
    losses = clf.net_.history[:, "train_loss"]
    assert updates[:3] == [f"{loss:.3f}" for loss in losses]
    fitted = dict(clf.net_.callbacks_)["EpochProgressBar"]
    assert fitted.bar_.desc == "auditing" and fitted.bar_.total == 3
    assert "bar_" not in vars(pickle.loads(pickle.dumps(fitted))), "no stream kept"
