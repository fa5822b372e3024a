"""Progress over epochs, with an estimate of the time left that knows each phase's
cost, in a terminal or in a log."""

from __future__ import annotations

import sys
import time

from skorch.callbacks import Callback


def epoch_plan(net) -> list[tuple[str, float]]:
    """List each epoch's phase and relative cost.

    A net that runs phases of different cost declares them in an
    ``epoch_plan()`` method (IDO's stage 2 trains on two views of every row);
    any other net runs ``max_epochs`` epochs of one cost.

    Parameters
    ----------
    net : skorch.NeuralNet
        The net about to train.

    Returns
    -------
    list of (str, float)
        ``[(phase, cost), ...]``, one entry per epoch.
    """
    plan = getattr(net, "epoch_plan", None)
    if plan is not None:
        return list(plan())
    return [("training", 1.0)] * int(net.max_epochs)


class RemainingTime:
    """Estimate the seconds left of a fit from the epochs measured so far.

    An epoch yet to run costs what the latest epochs of its own phase cost (up
    to ``window`` of them, leaving out the fit's first epoch, which pays
    torch's first-call costs, once there are others); an epoch of a phase not
    measured yet costs the measured seconds per unit of declared cost, times
    its own cost.

    Parameters
    ----------
    plan : list of (str, float)
        Each epoch's phase and relative cost (:func:`epoch_plan`).
    window : int, default=5
        Latest epochs of a phase that set its rate.
    """

    def __init__(self, plan, window: int = 5):
        self.plan = list(plan)
        self.window = window
        self.seconds: list[float] = []

    def record(self, seconds: float) -> None:
        """Record the duration of the next epoch of the plan.

        Parameters
        ----------
        seconds : float
            How long the epoch took.
        """
        self.seconds.append(float(seconds))

    def _per_unit(self, phase: str | None = None) -> float | None:
        """Seconds per unit of cost over the latest epochs (of ``phase``, or of
        any phase), the fit's first epoch left out once there are others."""
        done = [
            (seconds, cost)
            for i, ((p, cost), seconds) in enumerate(zip(self.plan, self.seconds))
            if (phase is None or p == phase) and (i > 0 or len(self.seconds) == 1)
        ][-self.window :]
        if not done:
            return None
        return sum(s for s, _ in done) / max(sum(c for _, c in done), 1e-12)

    def left(self) -> float | None:
        """Estimate the seconds left for the epochs not run yet.

        Returns
        -------
        float or None
            The estimate; None before any epoch is recorded.
        """
        if not self.seconds:
            return None
        overall = self._per_unit()
        rates: dict[str, float] = {}
        total = 0.0
        for phase, cost in self.plan[len(self.seconds) :]:
            if phase not in rates:
                own = self._per_unit(phase)
                rates[phase] = overall if own is None else own
            total += rates[phase] * cost
        return total


def format_seconds(seconds: float) -> str:
    """Format a duration for a person: ``"45 s"``, ``"3 min 05 s"``, ``"1 h 02 min"``.

    Parameters
    ----------
    seconds : float
        The duration, rounded to whole seconds (negative ones count as 0).

    Returns
    -------
    str
        The duration in the largest units that fit, two of them at most.
    """
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class EpochProgressBar(Callback):
    """Progress of a fit over its epochs, with the time left.

    In a terminal, one tqdm bar for the whole fit, advanced once per epoch;
    elsewhere (a log file, a notebook's captured stream, CI), one line per
    epoch. Both show the latest training loss and an estimate of the time left
    that counts each phase's cost (:class:`RemainingTime`): a phase not run
    yet is priced by the cost the net declares (IDO times a stage-2 step on
    one batch during its first epoch), then by its own measured epochs.

    Parameters
    ----------
    description : str, default="training"
        Text in front of the bar or line.
    stream : file-like, default=None
        Where to write; None is standard error at the start of each fit.
    lines : bool or None, default=None
        One line per epoch (True) or a bar (False); None chooses a bar when
        ``stream`` is a terminal.
    """

    def __init__(self, description: str = "training", stream=None, lines=None):
        self.description = description
        self.stream = stream
        self.lines = lines

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.plan_ = epoch_plan(net)
        self.remaining_ = RemainingTime(self.plan_)
        self._open(time.monotonic())

    def _open(self, started: float) -> None:
        """Start writing: at the start of a fit, or of a fit resumed from its
        checkpoint (which pickles neither the stream nor the bar)."""
        self.stream_ = sys.stderr if self.stream is None else self.stream
        is_terminal = getattr(self.stream_, "isatty", lambda: False)()
        self.lines_ = not is_terminal if self.lines is None else bool(self.lines)
        self.started_ = started
        self.epoch_started_ = time.monotonic()
        self.bar_ = None
        if not self.lines_:
            from tqdm.auto import tqdm

            self.bar_ = tqdm(
                total=len(self.plan_),
                initial=len(self.remaining_.seconds),
                desc=self.description,
                file=self.stream_,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                "[{elapsed}{postfix}]",
            )

    def on_epoch_begin(self, net, **kwargs):
        if "stream_" not in vars(self):  # resumed: the time so far is the epochs'
            self._open(time.monotonic() - sum(self.remaining_.seconds))

    def on_epoch_end(self, net, **kwargs):
        now = time.monotonic()
        # A net may price a phase better once it has run (IDO measures its
        # stage 2 during the first epoch).
        self.plan_ = self.remaining_.plan = epoch_plan(net)
        self.remaining_.record(now - self.epoch_started_)
        self.epoch_started_ = now
        epoch = len(self.remaining_.seconds)
        loss = net.history[-1].get("train_loss", float("nan"))
        left = self.remaining_.left()
        left_text = "" if left is None else f"about {format_seconds(left)} left"
        if self.bar_ is not None:
            self.bar_.set_postfix_str(f"loss {loss:.3f}, {left_text}", refresh=False)
            self.bar_.update(1)
            return
        phase = self.plan_[epoch - 1][0] if epoch <= len(self.plan_) else ""
        phase_text = "" if phase == "training" else f" ({phase})"
        print(
            f"{self.description}: epoch {epoch}/{len(self.plan_)}{phase_text}, "
            f"loss {loss:.3f}, {format_seconds(now - self.started_)} so far, "
            f"{left_text}",
            file=self.stream_,
            flush=True,
        )

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None

    def __deepcopy__(self, memo):
        # A copy (skorch's, clone's, each fit's) writes to the same stream.
        return type(self)(self.description, self.stream, self.lines)

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in ("bar_", "stream_"):  # a tqdm bar and a stream hold files
            state.pop(name, None)
        if state.get("stream") in (sys.stderr, sys.stdout):
            state["stream"] = None
        return state
