"""Training throughput: sknoisy's estimators vs a plain torch loop vs plain skorch.

Same module (the default MLP, or with ``--model cnn`` the default SmallCNN on the
digits as 1x8x8 images), optimizer (Adam, lr 1e-3), batch size, epochs and
shuffling for every contender; the data are in memory. For images, sknoisy's
WrongEventClassifier uses its default ImageViews (per-sample crop, flip,
RandAugment, cutout) in stage 2. Each contender is timed
``--repeats`` times, interleaved, after one untimed warm-up round. The table shows
the median samples per second, and the median over repeats of each contender's
speed relative to the torch loop *of the same repeat* (with its range): these
machines are shared and their load drifts, so only ratios measured side by side
mean anything. sknoisy's estimators run on torch's threads, as the loop and skorch
do (``n_threads=None``); one more row shows the default for a seeded CPU fit,
``n_threads="auto"``, which pins one thread for results that do not depend on
where the fit runs.

With ``--model cnn32`` the data are ``--rows`` random 32x32 RGB images (uint8, the
speed does not depend on the pixels) and more torch loops run: the loop in
channels-last memory format (as sknoisy's own image networks train), the loop as
IDO trains (stage 1, 30% of the epochs, on ImageViews' ``train_view``; then the
weak and the strong view of every batch in one forward pass), in both memory
formats, and the loop under ``torch.compile``. Every loop scales the uint8 batch
to [0, 1] and standardises its channels on the device, as the estimators do.

    python benchmarks/throughput.py --epochs 20 --repeats 5
    python benchmarks/throughput.py --model cnn --epochs 10 --repeats 3
    python benchmarks/throughput.py --model cnn32 --rows 3000 --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier

from sknoisy.exceptions import ShortTrainingWarning, UnidentifiableNoiseWarning
from sknoisy.methods import make_estimator
from sknoisy.modules import MLP, SmallCNN
from sknoisy.views import ImageViews


def make_module(X, n_classes):
    """The module sknoisy builds by default for this input."""
    if X.ndim == 4:
        return SmallCNN(X.shape[1], n_classes)
    return MLP(X.shape[1], n_classes)


def torch_loop(
    X,
    y,
    epochs,
    batch_size,
    device,
    seed,
    views=None,
    channels_last=False,
    compile=False,
):
    """The hand-written reference: tensors on the device, slicing, Adam.

    uint8 images are scaled to [0, 1] per batch and their channels standardised.
    With ``views`` (ImageViews) it trains as IDO does: stage 1 on ``train_view``,
    then both views of each batch in one forward pass.
    """
    torch.manual_seed(seed)
    n_classes = int(y.max()) + 1
    model = make_module(X, n_classes).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    forward = torch.compile(model) if compile else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor(y, device=device)
    pixels = X_t.dtype == torch.uint8
    if pixels:
        scaled = X_t.float() / 255
        mean = scaled.mean(dim=(0, 2, 3), keepdim=True)
        std = scaled.std(dim=(0, 2, 3), keepdim=True)
    generator = torch.Generator().manual_seed(seed)
    stage1 = max(1, round(0.3 * epochs)) if views is not None else epochs
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(X_t), generator=generator).to(device)
        for start in range(0, len(X_t), batch_size):
            idx = order[start : start + batch_size]
            x, target = X_t[idx], y_t[idx]
            if pixels:
                x = x.float() / 255
            if views is not None and epoch < stage1:
                x = views.train_view(x)
            elif views is not None:
                x = torch.cat(views(x))
                target = target.repeat(2)
            if pixels:
                x = (x - mean) / std
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad()
            loss = loss_fn(forward(x), target)
            loss.backward()
            optimizer.step()
    if device != "cpu":
        torch.cuda.synchronize()


def torch_loop_variant(**options):
    def fit(X, y, epochs, batch_size, device, seed):
        torch_loop(X, y, epochs, batch_size, device, seed, **options)

    return fit


def skorch_plain(X, y, epochs, batch_size, device, seed):
    """skorch's NeuralNetClassifier, as a skorch user would write it (uint8
    images scaled to float32 in [0, 1] first: skorch passes them as they are)."""
    if X.dtype == np.uint8:
        X = X.astype(np.float32) / 255
    torch.manual_seed(seed)
    NeuralNetClassifier(
        make_module(X, int(y.max()) + 1),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    ).fit(X, y)


def sknoisy_fit(method, n_threads=None):
    """A contender fitting a sknoisy method; by default on torch's threads, as the
    loop runs, so that the ratio measures sknoisy's own overhead."""

    def fit(X, y, epochs, batch_size, device, seed):
        make_estimator(
            method,
            max_epochs=epochs,
            batch_size=batch_size,
            device=device,
            n_threads=n_threads,
            random_state=seed,
        ).fit(X, y)

    fit.__name__ = method
    return fit


CONTENDERS = {
    "torch loop": torch_loop,
    "skorch NeuralNetClassifier": skorch_plain,
    "sknoisy CrossEntropyClassifier": sknoisy_fit("plain"),
    # The default for a seeded CPU fit: one thread, bit-identical wherever it runs.
    "sknoisy CrossEntropyClassifier, 1 thread": sknoisy_fit("plain", "auto"),
    "sknoisy ALRClassifier": sknoisy_fit("alr"),
    "sknoisy WrongEventClassifier": sknoisy_fit("wrong-event"),
}

IMAGE_CONTENDERS = {
    "torch loop, channels-last": torch_loop_variant(channels_last=True),
    "torch loop, IDO's views": torch_loop_variant(views=ImageViews()),
    "torch loop, IDO's views, channels-last": torch_loop_variant(
        views=ImageViews(), channels_last=True
    ),
    "torch loop, torch.compile": torch_loop_variant(compile=True),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", choices=["mlp", "cnn", "cnn32"], default="mlp")
    parser.add_argument("--rows", type=int, default=3000, help="images for cnn32")
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    args = parser.parse_args(argv)
    # A timing run: random labels and short budgets warn by design.
    for category in (ShortTrainingWarning, UnidentifiableNoiseWarning):
        warnings.filterwarnings("ignore", category=category)

    contenders = dict(CONTENDERS)
    if args.model == "cnn32":
        rng = np.random.default_rng(0)
        X = rng.integers(0, 256, (args.rows, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, args.rows).astype(np.int64)
        contenders.update(IMAGE_CONTENDERS)
        data = f"random images {X.shape} uint8"
    else:
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X).astype(np.float32)
        if args.model == "cnn":
            X = X.reshape(-1, 1, 8, 8)
        y = y.astype(np.int64)
        data = f"digits {X.shape}"
    for fit in contenders.values():  # warm-up round, untimed
        fit(X, y, 1, args.batch_size, args.device, 0)
    seconds = {name: [] for name in contenders}
    for repeat in range(args.repeats):
        for name, fit in contenders.items():
            start = time.perf_counter()
            fit(X, y, args.epochs, args.batch_size, args.device, repeat)
            seconds[name].append(time.perf_counter() - start)

    samples = len(X) * args.epochs
    reference = np.array(seconds["torch loop"])
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    model = {"cnn": "SmallCNN(1, 10)", "cnn32": "SmallCNN(3, 10)"}.get(
        args.model, "MLP 64-256-256-10"
    )
    print(
        f"{data}, {model}, batch {args.batch_size}, "
        f"{args.epochs} epochs, {args.repeats} repeats, device {device}, "
        f"torch threads {torch.get_num_threads()}"
    )
    print("ratio: per repeat, against the torch loop of the same repeat; median")
    print(f"{'contender':42s} {'samples/s':>10s} {'vs torch loop':>14s} {'range':>13s}")
    for name, values in seconds.items():
        ratios = reference / np.array(values)
        rate = samples / np.median(values)
        spread = f"{ratios.min():.2f}-{ratios.max():.2f}"
        print(f"{name:42s} {rate:10.0f} {np.median(ratios):13.2f}x {spread:>13s}")


if __name__ == "__main__":
    main()
