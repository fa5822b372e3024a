"""Progress over epochs: the bar, the lines, and the estimate of the time left."""

import io
import pickle
import re

import numpy as np
import pytest

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy.progress import EpochProgressBar, RemainingTime, format_seconds

X = np.random.default_rng(0).normal(size=(40, 3))
Y = np.arange(40) % 2


class TTYStream(io.StringIO):
    def isatty(self):
        return True


def test_one_bar_advanced_once_per_epoch_in_a_terminal(monkeypatch):
    updates = []

    class Bar:
        def __init__(self, total, initial, desc, file, bar_format):
            assert initial == 0  # a fresh fit
            self.total, self.desc = total, desc

        def set_postfix_str(self, text, refresh):
            updates.append(text)

        def update(self, n):
            assert n == 1

        def close(self):
            updates.append("closed")

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    bar = EpochProgressBar(description="auditing", stream=TTYStream())
    clf = ALRClassifier(max_epochs=3, callbacks=[bar], random_state=0).fit(X, Y)
    assert len(updates) == 4 and updates[-1] == "closed"
    losses = clf.net_.history[:, "train_loss"]
    for text, loss in zip(updates[:3], losses):
        assert text.startswith(f"loss {loss:.3f}, about ") and text.endswith(" left")
    fitted = dict(clf.net_.callbacks_)["EpochProgressBar"]
    assert fitted.plan_ == [("training", 1.0)] * 3
    assert "bar_" not in vars(pickle.loads(pickle.dumps(fitted))), "no stream kept"


def test_one_line_per_epoch_without_a_terminal():
    log = io.StringIO()
    clf = WrongEventClassifier(
        max_epochs=6,
        stage1_epochs=3,
        callbacks=[EpochProgressBar(stream=log)],
        random_state=0,
    ).fit(X, Y)
    lines = log.getvalue().splitlines()
    assert len(lines) == 6
    pattern = re.compile(
        r"training: epoch (\d)/6 \(stage (\d)\), loss (\d+\.\d{3}), .+ so far, "
        r"about .+ left"
    )
    for epoch, line in enumerate(lines, start=1):
        match = pattern.fullmatch(line)
        assert match, line
        assert int(match[1]) == epoch and int(match[2]) == (1 if epoch <= 3 else 2)
        assert float(match[3]) == pytest.approx(
            clf.net_.history[epoch - 1, "train_loss"], abs=5e-4
        )
    assert lines[-1].endswith("about 0 s left")


def test_ido_prices_stage_2_from_one_timed_batch_without_changing_the_fit(
    monkeypatch,
):
    from sknoisy._ido.net import DECLARED_STAGE2_COST, WrongEventNet

    # Images: the default SmallCNN has BatchNorm, the views draw at random.
    images = np.random.default_rng(0).integers(0, 256, (40, 3, 8, 8), dtype=np.uint8)
    params = {
        "max_epochs": 5,
        "stage1_epochs": 3,
        "random_state": 0,
        "batch_size": 8,
        "module__width": 4,
    }
    timed = WrongEventClassifier(**params).fit(images, Y)
    t1, t2 = timed.net_.stage2_step_seconds_
    assert 0 < t1 and 0 < t2
    durations = timed.net_.history[:3, "dur"]
    batches = 5  # 40 rows in batches of 8
    assert timed.net_._stage2_cost() == pytest.approx(
        max(1, 1 + batches * (t2 - t1) / durations[-1])
    )
    plan = timed.net_.epoch_plan()
    assert plan[:3] == [("stage 1", 1.0)] * 3
    assert plan[3][1] == timed.net_._stage2_cost() != DECLARED_STAGE2_COST
    # The timing forks the random draws, returns its gradients and restores the
    # buffers: a fit that skips it ends the same.
    monkeypatch.setattr(
        WrongEventNet, "_time_steps", lambda self, x, rows, y: (1.0, 2.0)
    )
    untimed = WrongEventClassifier(**params).fit(images, Y)
    np.testing.assert_array_equal(timed.noise_scores_, untimed.noise_scores_)
    np.testing.assert_array_equal(
        timed.predict_proba(images), untimed.predict_proba(images)
    )


def test_remaining_time_prices_an_unmeasured_phase_by_its_declared_cost():
    plan = [("stage 1", 1.0)] * 3 + [("stage 2", 2.0)] * 4
    remaining = RemainingTime(plan)
    assert remaining.left() is None
    remaining.record(5.0)  # the first epoch pays first-call costs
    assert remaining.left() == pytest.approx(2 * 5.0 + 4 * 2 * 5.0)
    remaining.record(1.0)
    # The first epoch is left out now that another stands for it: stage 1
    # costs 1 s an epoch; the four stage-2 epochs, not measured yet, are priced
    # at 1 s per unit of cost, two units each.
    assert remaining.left() == pytest.approx(1.0 + 4 * 2 * 1.0)
    remaining.record(1.0)
    assert remaining.left() == pytest.approx(4 * 2 * 1.0)
    remaining.record(2.6)  # the first stage-2 epoch measures its own phase
    assert remaining.left() == pytest.approx(3 * 2.6)
    for _ in range(3):
        remaining.record(2.6)
    assert remaining.left() == 0.0


def test_remaining_time_follows_the_latest_epochs():
    remaining = RemainingTime([("training", 1.0)] * 20, window=3)
    for seconds in [9.0, 1.0, 1.0, 1.0, 4.0, 4.0, 4.0]:
        remaining.record(seconds)
    assert remaining.left() == pytest.approx(13 * 4.0)


@pytest.mark.parametrize(
    "seconds, text",
    [(0.4, "0 s"), (59.4, "59 s"), (65, "1 min 05 s"), (3725, "1 h 02 min")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
