"""CrossEntropyClassifier: plain training and its confident-learning scores."""

import numpy as np

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
