"""CrossEntropyClassifier: plain training and its confident-learning scores."""

import math

import numpy as np
import pytest
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR

from sknoisy import CrossEntropyClassifier

from .conftest import InputLogits, known_prediction_data


def test_scores_come_from_the_final_model():
    # InputLogits: the model's probabilities are the softmax of the features.
    X, y = known_prediction_data()
    clf = CrossEntropyClassifier(module=InputLogits, max_epochs=2, random_state=0)
    clf.fit(X, y)
    proba = np.exp(X - X.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    np.testing.assert_allclose(clf.noise_scores_, 1 - proba[rows, y], rtol=1e-5)
    np.testing.assert_array_equal(clf.refined_labels_, X.argmax(axis=1))
    np.testing.assert_array_equal(clf.label_issues_, X.argmax(axis=1) != y)


def test_labels_in_the_user_s_space():
    X, y = known_prediction_data()
    names = np.array(["cat", "dog", "eel"])
    clf = CrossEntropyClassifier(module=InputLogits, max_epochs=1).fit(X, names[y])
    assert set(clf.refined_labels_) <= set(names)
    np.testing.assert_array_equal(clf.refined_labels_, names[X.argmax(axis=1)])


def test_the_learning_rate_follows_a_cosine_over_every_epoch():
    X, y = known_prediction_data()
    clf = CrossEntropyClassifier(module=InputLogits, max_epochs=5, lr=2e-3)
    lrs = clf.fit(X, y).net_.history[:, "lr"]
    expected = [1e-3 * (1 + math.cos(math.pi * t / 5)) for t in range(5)]
    np.testing.assert_allclose(lrs, expected)


def test_the_cosine_is_torchs_cosine_annealing_stepped_per_epoch():
    X, y = known_prediction_data()
    run = {"module": InputLogits, "max_epochs": 6, "random_state": 0}
    ours = CrossEntropyClassifier(**run).fit(X, y)
    schedule = LRScheduler(policy=CosineAnnealingLR, T_max=6)
    torchs = CrossEntropyClassifier(
        **run, lr_schedule="constant", callbacks=[schedule]
    ).fit(X, y)
    np.testing.assert_allclose(ours.net_.history[:, "lr"], torchs.net_.history[:, "lr"])
    np.testing.assert_allclose(ours.noise_scores_, torchs.noise_scores_, atol=1e-6)


def test_a_constant_schedule_trains_at_lr_throughout():
    X, y = known_prediction_data()
    clf = CrossEntropyClassifier(
        module=InputLogits, max_epochs=3, lr_schedule="constant"
    )
    assert clf.fit(X, y).net_.history[:, "lr"] == [1e-3] * 3


def test_the_cosine_refuses_a_users_scheduler_before_training():
    X, y = known_prediction_data()
    scheduler = LRScheduler(policy="StepLR", step_size=1)
    clf = CrossEntropyClassifier(
        module=InputLogits, max_epochs=2, callbacks=[scheduler]
    )
    with pytest.raises(ValueError, match="every training epoch itself"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_"), "refused before training"
    clf.set_params(lr_schedule="constant").fit(X, y)
    assert clf.net_.history[:, "lr"] == [1e-3, 1e-4]


def test_an_unknown_schedule_is_named():
    X, y = known_prediction_data()
    clf = CrossEntropyClassifier(module=InputLogits, lr_schedule="step")
    with pytest.raises(ValueError, match="lr_schedule"):
        clf.fit(X, y)
