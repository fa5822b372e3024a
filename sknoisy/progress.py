"""A progress bar over epochs, for long fits in a terminal."""

from __future__ import annotations

from skorch.callbacks import Callback


class EpochProgressBar(Callback):
    """One tqdm bar for the whole fit, advanced once per epoch.

    skorch's ``ProgressBar`` draws a bar per epoch over its batches; for the
    many short epochs of a noise-robust fit, one bar over the epochs with the
    latest training loss is easier to read. It stays silent when standard error
    is not a terminal.

    Parameters
    ----------
    description : str, default="training"
        Text in front of the bar.
    """

    def __init__(self, description: str = "training"):
        self.description = description

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=net.max_epochs, desc=self.description, disable=None)

    def on_epoch_end(self, net, **kwargs):
        self.bar_.set_postfix(
            loss=f"{net.history[-1, 'train_loss']:.3f}", refresh=False
        )
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)  # a tqdm bar holds a stream
        return state
