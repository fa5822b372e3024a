"""Fitted estimators survive pickle and joblib, and GPU-trained ones load on CPU."""

import pickle
import warnings
from unittest.mock import patch

import joblib
import numpy as np
import pytest
import torch

from sknoisy._data import IndexedTensorDataset

from .conftest import ESTIMATORS, FAST


@pytest.fixture(params=ESTIMATORS, ids=lambda e: e.__name__)
def fitted(request, small_data):
    X, y = small_data
    return request.param(**FAST, random_state=0).fit(X, y.astype(str)), X


def test_pickle_and_joblib_round_trips(fitted, tmp_path):
    clf, X = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    for loaded in (pickle.loads(pickle.dumps(clf)), joblib.load(path)):
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
        np.testing.assert_array_equal(loaded.noise_scores_, clf.noise_scores_)
        np.testing.assert_array_equal(loaded.classes_, clf.classes_)


def test_fitted_public_attributes_are_numpy(fitted):
    clf, _ = fitted
    arrays = [
        k for k, v in vars(clf).items() if k.endswith("_") and not k.startswith("_")
    ]
    for name in arrays:
        value = getattr(clf, name)
        if name == "net_":
            continue
        assert not isinstance(value, torch.Tensor), f"{name} is a tensor"
        assert isinstance(value, (np.ndarray, int, float, tuple)), (name, type(value))


def test_pickled_model_holds_no_training_state(fitted):
    clf, _ = fitted
    # What the net declares as its per-sample state is gone after fit.
    targets = torch.zeros(3, dtype=torch.long)
    data = IndexedTensorDataset(torch.zeros(3, 8))
    declared = {"targets_", *clf.net_.sample_state(targets, data)}
    assert not declared & set(vars(clf.net_))
    assert not hasattr(clf.net_, "sample_state_names_")


def test_model_trained_on_cuda_loads_on_a_cpu_only_machine(fitted):
    # As skorch's own tests do without a GPU: a net that says it lives on CUDA is
    # unpickled where CUDA is unavailable; skorch maps it to the CPU with a warning.
    clf, X = fitted
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"
    blob = pickle.dumps(clf)
    with patch("torch.cuda.is_available", lambda: False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = pickle.loads(blob)
    assert str(loaded.net_.device) == "cpu"
    assert any("CUDA" in str(w.message) for w in caught)
    np.testing.assert_allclose(loaded.predict_proba(X), expected)
