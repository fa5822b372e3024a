"""How right is the progress display's time left? Measured on a real fit.

Fits an estimator with :class:`sknoisy.progress.EpochProgressBar`, records the
time-left estimate after every epoch, and compares it with the time the fit then
really took (to the end of training, not counting the scoring pass after it).
Reports the error per epoch (while at least a tenth of the training is left),
the largest from the end of the second epoch on, and the measured cost of each
phase per epoch (IDO's stage 2 against its stage 1, which the estimate prices
from one batch timed in the first epoch until it has run a stage-2 epoch).

    python benchmarks/eta.py                       # digits as 32x32 RGB images, IDO
    python benchmarks/eta.py --method alr --tabular

Timings depend on the machine and its load: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits

from sknoisy.methods import make_estimator
from sknoisy.noise import symmetric_noise
from sknoisy.progress import EpochProgressBar


class RecordingProgress(EpochProgressBar):
    """The progress display, also keeping each epoch's end time and estimate."""

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.records_ = []

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        self.records_.append((time.monotonic(), self.remaining_.left()))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        self.ended_ = time.monotonic()


def digits_images(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits as uint8 RGB images of 32x32 (each pixel repeated 4x4)."""
    X, y = load_digits(return_X_y=True)
    pixels = (X[:n] * (255 / 16)).astype(np.uint8).reshape(-1, 1, 8, 8)
    images = pixels.repeat(4, axis=2).repeat(4, axis=3).repeat(3, axis=1)
    return images, y[:n]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="wrong-event")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--tabular", action="store_true", help="digits as 64 columns")
    args = parser.parse_args(argv)
    if args.tabular:
        X, y = load_digits(return_X_y=True)
        X, y = (X[: args.rows] / 16).astype(np.float32), y[: args.rows]
    else:
        X, y = digits_images(args.rows)
    y_noisy, _ = symmetric_noise(y, 0.3, random_state=0)
    progress = RecordingProgress(lines=True)
    clf = make_estimator(
        args.method, max_epochs=args.epochs, random_state=0, callbacks=[progress]
    )
    clf.fit(X, y_noisy)
    fitted = dict(clf.net_.callbacks_)["RecordingProgress"]
    end = fitted.ended_
    print(f"\n{args.method}, {len(y)} rows, {'table' if args.tabular else 'images'}")
    print("epoch  estimate_s  truth_s  error")
    # Near the end the truth tends to 0 and any relative error explodes: judge
    # the epochs with at least a tenth of the training still to run.
    total = end - fitted.started_
    worst = 0.0
    for epoch, (at, left) in enumerate(fitted.records_, start=1):
        truth = end - at
        if truth < 0.1 * total:
            break
        error = (left - truth) / truth
        if epoch >= 2:
            worst = max(worst, abs(error))
        print(f"{epoch:5d}  {left:10.1f}  {truth:7.1f}  {error:+.0%}")
    seconds = fitted.remaining_.seconds
    for phase in dict.fromkeys(p for p, _ in fitted.plan_):
        own = [s for (p, _), s in zip(fitted.plan_, seconds) if p == phase][1:]
        if own:
            print(f"{phase}: {np.mean(own):.2f} s per epoch")
    if hasattr(clf.net_, "stage2_step_seconds_"):
        took = [
            np.mean([s for (p, _), s in zip(fitted.plan_, seconds) if p == q][1:])
            for q in ("stage 1", "stage 2")
        ]
        print(
            f"stage 2's cost as priced after the first epochs: "
            f"{clf.net_._stage2_cost():.2f}x; as the epochs took: "
            f"{took[1] / took[0]:.2f}x"
        )
    print(
        f"largest error from the end of epoch 2 on (while a tenth of the "
        f"training is left): {worst:.0%}"
    )


if __name__ == "__main__":
    main()
