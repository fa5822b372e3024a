"""GPU behaviour; skipped without CUDA."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


class ForbidHostSync(Callback):
    """Make any host-device synchronisation inside a training step an error."""

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            torch.cuda.set_sync_debug_mode("error")

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.parametrize(
    "Estimator", [CrossEntropyClassifier, WrongEventClassifier, ALRClassifier]
)
def test_training_steps_do_not_synchronise(Estimator, small_data):
    X, y = small_data
    clf = Estimator(
        max_epochs=4,
        hidden_layer_sizes=(32,),
        device="cuda",
        callbacks=[ForbidHostSync()],
        random_state=0,
    )
    try:
        clf.fit(X, y)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert np.isfinite(clf.noise_scores_).all()
    assert isinstance(clf.noise_scores_, np.ndarray)


def test_cuda_model_predicts_after_pickle_on_cpu(small_data):
    X, y = small_data
    clf = WrongEventClassifier(max_epochs=3, device="cuda", random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.net_.set_params(device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)
