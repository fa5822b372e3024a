"""Docstring fragments shared by every sknoisy estimator, substituted, not copied."""

from __future__ import annotations

_NETWORK_PARAMETERS = """module : torch.nn.Module class or instance, default=None
        The network; it maps a batch of inputs to logits of shape
        ``(n, n_classes)``. None builds :class:`sknoisy.modules.MLP` for tables
        and :class:`sknoisy.modules.SmallCNN` for images, sized from the data. A
        class is instantiated with the ``module__*`` parameters, and its
        ``n_features``/``n_classes`` arguments, if it has them, are filled in from
        the data. An instance is copied, never trained in place.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden layers of the default MLP (ignored for images and when ``module``
        is given).
    dropout : float, default=0.0
        Dropout of the default network, MLP or SmallCNN (ignored when
        ``module`` is given).
    max_epochs : int, default=60
        Passes over the training data.
    batch_size : int, default=128
        Samples per gradient step (-1 for the whole data set).
    lr : float, default=1e-3
        Learning rate.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Optimizer; set its other arguments with ``optimizer__*``, e.g.
        ``optimizer__weight_decay=1e-4``.
    device : str or torch.device, default="cpu"
        Where training runs, e.g. ``"cuda"``. Per-sample state lives there too.
    mixed_precision : bool, default=False
        Run the network's forward passes under bfloat16 autocast (faster on
        recent GPUs); logits, losses and per-sample state stay float32.
    normalize_images : bool, default=True
        For images ``(n_samples, channels, height, width)`` given as pixel values
        (uint8, or floats in [0, 1]): standardise each channel by the training
        images' mean and std inside the network's forward pass, after any
        augmentation, so that augmentations work on pixel values. False passes
        images to the module as they are (8-bit ones scaled to [0, 1]); floats
        outside [0, 1] then need your own ``views`` for
        :class:`WrongEventClassifier`.
    n_threads : "auto", int or None, default="auto"
        The number of torch's CPU threads during ``fit`` and ``predict``
        (restored afterwards).
        On CPU, results are bit-identical only at equal thread counts, and joblib's
        workers get fewer threads than the main process. ``"auto"`` uses one
        thread when ``random_state`` is an int and ``device`` is the CPU, so that
        a seeded fit gives the same results wherever it runs (``GridSearchCV`` or
        ``cross_validate`` at any ``n_jobs``, a fresh process), and torch's setting
        otherwise. None keeps torch's setting: the fastest single fit on many
        cores, bit-identical only at equal thread counts. An int pins that many
        threads.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, e.g. ``[skorch.callbacks.ProgressBar()]``. They are
        copied at every fit; one that cannot be copied (e.g. holding an open
        file) is used as it is, as skorch does.
    train_split : callable or None, default=None
        The validation split of skorch, e.g. ``skorch.dataset.ValidSplit(5)``. None
        trains on every row, which the per-sample state needs.
    verbose : int, default=0
        Print a per-epoch table of the training history when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, data order, dropout and views. An int makes
        fits on CPU bit-identical wherever they run (see ``n_threads``); global
        random states are left untouched.
    checkpoint_dir : str or path-like, default=None
        A directory (created if missing) where ``fit`` saves its whole training
        state after every epoch: the network, the optimizer, the history and
        callbacks, the method's per-sample state and phase, and the random
        state. A later ``fit`` with the same parameters and data (after an
        interrupt, a crash, a lost machine) resumes from the last saved epoch
        and ends bit-identical to an uninterrupted fit on CPU. The file is
        removed when the fit succeeds; a fit with other parameters or data
        uses a file of its own. A streamed Dataset is recognised by its type,
        length and labels only. The file is a pickle: resume only your own.
        None saves nothing.
    distributed : "auto" or False, default="auto"
        Data-parallel training over processes launched by ``torchrun`` (or
        any ``torch.distributed`` process group): with ``"auto"``, when the
        script runs in a process group of two or more processes, every process
        calls ``fit`` on the same data and trains its shard of every batch, and
        the per-sample state is combined after every epoch, so that the fitted
        attributes are the same on every process and agree with a
        one-process fit (see :doc:`/distributed`). False trains in each
        process alone."""

_NET_PARAMS_PARAMETER = """**net_params
        The prefixed parameters of skorch: ``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``. They can be
        tuned by ``GridSearchCV`` like any other parameter."""

_FITTED_ATTRIBUTES = """classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Number of features (channels, for images) seen during ``fit``.
    input_shape_ : tuple of int
        Shape of one training sample, e.g. ``(64,)`` or ``(3, 32, 32)``.
    channel_mean_, channel_std_ : ndarray of shape (channels,)
        The training images' per-channel pixel mean and std that standardise
        every batch; only for images with ``normalize_images=True``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``net_.history`` holds the per-epoch figures.
    noise_scores_ : ndarray of shape (n_samples,)
        Per training row, in [0, 1]: higher means the given label is more likely
        wrong.
    refined_labels_ : ndarray of shape (n_samples,)
        Per training row, the label the method believes, in the user's label
        space.
    given_codes_ : ndarray of shape (n_samples,)
        The given training labels as indices into ``classes_``
        (``classes_[given_codes_]`` is ``y``).
    label_issues_ : ndarray of bool, shape (n_samples,)
        Per training row, whether the method calls its label wrong, by the
        method's own rule (see Notes).
    trained_rows_ : ndarray of bool, shape (n_samples,)
        Whether each row was trained on (rows held out by ``train_split`` are
        not; the final model scores them).
    given_label_proba_ : ndarray of shape (n_samples,)
        The fitted model's probability of each training row's given label;
        :func:`sknoisy.audit.find_label_issues` breaks ties in
        ``noise_scores_`` by it (lowest first)."""

_RELABEL_PARAMETER = """relabel : {"odds", "always"}, default="odds"
        How ``refined_labels_`` treats the rows the method would relabel.
        ``"odds"`` keeps the given label unless the final model's posterior odds
        for another class beat it under uniform noise at the method's own noise
        estimate (see Notes), so an unsure model keeps the given labels: a
        flagged row may then keep its given label, suspect, to review by eye.
        ``"always"`` relabels every such row by the method's own proposal (see
        Notes), as the paper does."""

DOCSTRING_FRAGMENTS = {
    "network_parameters": _NETWORK_PARAMETERS,
    "relabel_parameter": _RELABEL_PARAMETER,
    "net_params_parameter": _NET_PARAMS_PARAMETER,
    "fitted_attributes": _FITTED_ATTRIBUTES,
}


def substitute_docstring(obj):
    """Fill the ``%(name)s`` fragments of ``obj.__doc__``."""
    if obj.__doc__:
        obj.__doc__ = obj.__doc__ % DOCSTRING_FRAGMENTS
    return obj
