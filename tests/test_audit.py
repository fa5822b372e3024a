"""The label-audit workflow: reports, filtering in pipelines, the audit command."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, CrossEntropyClassifier, WrongEventClassifier
from sknoisy.audit import LabelNoiseFilter, NoiseFilteredClassifier, find_label_issues
from sknoisy.noise import symmetric_noise

from .conftest import FAST, write_image_folder


@pytest.fixture(scope="module")
def noisy_digits(digits):
    X, y = digits
    y_noisy, flipped = symmetric_noise(y, 0.3, random_state=0)
    return X, y, y_noisy, flipped


@pytest.fixture(scope="module")
def fitted_detector(noisy_digits):
    X, _, y_noisy, _ = noisy_digits
    return WrongEventClassifier(max_epochs=20, random_state=0).fit(X, y_noisy)


def test_report_ranks_rows_and_estimates_noise(fitted_detector, noisy_digits):
    _, _, y_noisy, flipped = noisy_digits
    report = find_label_issues(fitted_detector, y_noisy)
    table = report.table
    assert list(table.columns) == [
        "row",
        "given_label",
        "refined_label",
        "noise_score",
        "label_issue",
        "suggestion",
    ]
    assert len(table) == len(y_noisy)
    assert (np.diff(table["noise_score"]) <= 0).all(), "ranked, highest first"
    np.testing.assert_array_equal(table["given_label"], y_noisy[table["row"]])
    assert report.n_issues == int(fitted_detector.label_issues_.sum())
    assert report.noise_rate == pytest.approx(0.3, abs=0.08)
    top = table.head(report.n_issues)
    assert flipped[top["row"]].mean() > 0.85, "the top of the ranking is wrong labels"
    assert len(report.issues()) == report.n_issues
    assert "flagged" in str(report)


def test_report_breaks_ties_by_the_model_s_belief_and_marks_what_to_do():
    clf = CrossEntropyClassifier(**FAST, random_state=0).fit(X_HAND, Y_HAND)
    # Hand-built scores: rows 1, 4 and 6 tie at the top, row 2 comes next.
    clf.noise_scores_ = np.array([0.1, 1.0, 0.7, 0.0, 1.0, 0.2, 1.0])
    clf.given_label_proba_ = np.array([0.9, 0.3, 0.4, 0.9, 0.05, 0.8, 0.3])
    clf.label_issues_ = np.array([0, 1, 1, 0, 1, 0, 1], dtype=bool)
    clf.refined_labels_ = np.array([0, 2, 0, 1, 0, 2, 1])
    table = find_label_issues(clf, Y_HAND).table
    # Among the tied rows the model believes row 4's label least; rows 1 and 6
    # tie again and keep file order.
    np.testing.assert_array_equal(table["row"], [4, 1, 6, 2, 5, 0, 3])
    np.testing.assert_array_equal(
        table["suggestion"],
        ["relabel", "relabel", "relabel", "review", "keep", "keep", "keep"],
    )
    report = find_label_issues(clf, Y_HAND)
    assert str(report) == (
        "4 of 7 labels flagged as wrong (estimated noise rate 57.1%): 3 to "
        "relabel, 1 to review (the model is unsure of the right label)"
    )


def test_given_label_proba_is_the_model_s_belief_in_the_given_label(small_data):
    X, y = small_data
    for Estimator in (WrongEventClassifier, ALRClassifier, CrossEntropyClassifier):
        clf = Estimator(**FAST, random_state=0).fit(X, y)
        proba = clf.predict_proba(X)[np.arange(len(y)), clf.given_codes_]
        np.testing.assert_allclose(clf.given_label_proba_, proba, atol=1e-5)


def test_report_from_a_pipeline_and_checks(noisy_digits):
    X, _, y_noisy, _ = noisy_digits
    pipe = make_pipeline(StandardScaler(), ALRClassifier(**FAST, random_state=0))
    pipe.fit(X, y_noisy)
    assert len(find_label_issues(pipe, y_noisy).table) == len(X)
    with pytest.raises(ValueError, match="inconsistent"):
        find_label_issues(pipe, y_noisy[:10])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        find_label_issues(ALRClassifier(), y_noisy)


def test_filter_drops_or_relabels(fitted_detector, noisy_digits):
    X, y, y_noisy, _ = noisy_digits
    detector = WrongEventClassifier(max_epochs=20, random_state=0)
    X_kept, y_kept = LabelNoiseFilter(detector).fit_resample(X, y_noisy)
    issues = fitted_detector.label_issues_
    assert len(X_kept) == len(y_kept) == (~issues).sum()
    X_same, y_fixed = LabelNoiseFilter(detector, action="relabel").fit_resample(
        X, y_noisy
    )
    assert X_same is X
    assert np.mean(y_fixed == y) > np.mean(y_noisy == y) + 0.2


class FixedDetector(BaseEstimator):
    """A detector whose flags and refined labels are given: hand-built cases."""

    def __init__(self, issues=None, refined=None):
        self.issues = issues
        self.refined = refined

    def fit(self, X, y):
        self.label_issues_ = np.asarray(self.issues, dtype=bool)
        self.refined_labels_ = np.asarray(self.refined)
        self.noise_scores_ = self.label_issues_.astype(float)
        return self


Y_HAND = np.array([0, 0, 0, 1, 1, 2, 2])
X_HAND = np.arange(7.0).reshape(-1, 1)


def test_filter_removes_and_relabels_exactly_the_flagged_rows():
    issues = [False, True, False, False, True, False, False]
    refined = [0, 2, 0, 1, 0, 2, 2]
    detector = FixedDetector(issues, refined)
    X_kept, y_kept = LabelNoiseFilter(detector).fit_resample(X_HAND, Y_HAND)
    np.testing.assert_array_equal(X_kept.ravel(), [0, 2, 3, 5, 6])
    np.testing.assert_array_equal(y_kept, [0, 0, 1, 2, 2])
    _, y_fixed = LabelNoiseFilter(detector, "relabel").fit_resample(X_HAND, Y_HAND)
    np.testing.assert_array_equal(y_fixed, [0, 2, 0, 1, 0, 2, 2])


@pytest.mark.parametrize(
    "action, issues, refined, expected_y",
    [
        # Every row of class 1 flagged: removing them would lose the class.
        ("remove", [1, 0, 0, 1, 1, 0, 0], Y_HAND, [0, 0, 1, 1, 2, 2]),
        # Relabelling moves both 1s to 0: class 1 keeps its rows as given.
        ("relabel", [0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 2, 2], Y_HAND),
        # Class 2 vanishes (its rows become 1s); sparing it leaves class 1 with no
        # row, so class 1 is spared too.
        (
            "relabel",
            [0, 0, 0, 1, 1, 1, 1],
            [0, 0, 0, 0, 0, 1, 1],
            Y_HAND,
        ),
    ],
)
def test_filter_never_eliminates_a_class(action, issues, refined, expected_y):
    detector = FixedDetector(issues, refined)
    sampler = LabelNoiseFilter(detector, action)
    with pytest.warns(UserWarning, match="every row of class"):
        _, y_clean = sampler.fit_resample(X_HAND, Y_HAND)
    np.testing.assert_array_equal(y_clean, expected_y)
    assert set(y_clean) == set(Y_HAND)
    clf = NoiseFilteredClassifier(LogisticRegression(), detector, action)
    with pytest.warns(UserWarning, match="every row of class"):
        clf.fit(X_HAND, Y_HAND)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    np.testing.assert_array_equal(clf.label_issues_, sampler.label_issues_)


def test_filter_in_an_imblearn_pipeline_applies_to_training_folds_only(noisy_digits):
    from imblearn.pipeline import make_pipeline as make_imblearn_pipeline

    X, y, y_noisy, _ = noisy_digits
    pipe = make_imblearn_pipeline(
        LabelNoiseFilter(ALRClassifier(max_epochs=15, random_state=0)),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X, y_noisy)
    # Prediction bypasses the filter: one prediction per input row.
    assert pipe.predict(X).shape == (len(X),)
    filtered = cross_val_score(pipe, X, y_noisy, cv=3)
    plain = cross_val_score(LogisticRegression(max_iter=500), X, y_noisy, cv=3)
    assert filtered.shape == (3,)
    clean_accuracy = pipe.score(X, y)
    baseline = LogisticRegression(max_iter=500).fit(X, y_noisy).score(X, y)
    assert clean_accuracy > baseline, "training on cleaned labels helps"
    assert np.isfinite(plain).all()


@pytest.mark.parametrize("action", ["remove", "relabel", "weight"])
def test_meta_estimator(action, noisy_digits):
    X, y, y_noisy, _ = noisy_digits
    clf = NoiseFilteredClassifier(
        LogisticRegression(max_iter=500),
        detector=WrongEventClassifier(max_epochs=20, random_state=0),
        action=action,
    ).fit(X, y_noisy)
    baseline = LogisticRegression(max_iter=500).fit(X, y_noisy).score(X, y)
    assert clf.score(X, y) > baseline
    assert clf.predict_proba(X).shape == (len(X), 10)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


def test_meta_estimator_in_grid_search(noisy_digits):
    X, _, y_noisy, _ = noisy_digits
    search = GridSearchCV(
        NoiseFilteredClassifier(
            LogisticRegression(max_iter=300), detector=ALRClassifier(**FAST)
        ),
        {"action": ["remove", "relabel"], "classifier__C": [0.1, 1.0]},
        cv=2,
    ).fit(X[:600], y_noisy[:600])
    assert len(search.cv_results_["params"]) == 4


def test_weighting_needs_sample_weight():
    from sklearn.neighbors import KNeighborsClassifier

    clf = NoiseFilteredClassifier(KNeighborsClassifier(), action="weight")
    with pytest.raises(TypeError, match="sample_weight"):
        clf.fit(np.zeros((10, 2)), np.arange(10) % 2)


# -- the command line -------------------------------------------------------------
def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sknoisy", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture
def noisy_table(tmp_path):
    """A CSV with numeric and categorical features, a missing value, an unlabelled
    row, and 20% of its labels flipped."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    names = np.array(["barolo", "grignolino", "barbera"])[y.to_numpy()]
    y_noisy, flipped = symmetric_noise(names, 0.2, random_state=0)
    frame = X.copy()
    frame["colour"] = np.where(X["color_intensity"] > 5, "dark", "light")
    frame["grape"] = y_noisy
    frame.loc[3, "alcohol"] = np.nan
    frame.loc[5, "grape"] = np.nan
    path = tmp_path / "wine.csv"
    frame.to_csv(path, index=False)
    return path, flipped


def test_audit_a_table(noisy_table, tmp_path):
    path, flipped = noisy_table
    before = path.read_bytes()
    out = tmp_path / "issues.csv"
    cleaned = tmp_path / "clean.csv"
    result = run_cli(
        "audit",
        str(path),
        "--target",
        "grape",
        "--out",
        str(out),
        "--clean-out",
        str(cleaned),
        "--epochs",
        "40",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before, "the input is never modified"
    issues = pd.read_csv(out)
    assert list(issues.columns) == [
        "source_row",
        "given_label",
        "refined_label",
        "noise_score",
        "label_issue",
        "suggestion",
    ]
    assert issues["label_issue"].all() and len(issues) > 10
    assert flipped[issues["source_row"]].mean() > 0.8
    assert (tmp_path / "issues_scores.png").stat().st_size > 5000
    assert len(pd.read_csv(cleaned)) == 178 - len(issues)
    assert "labels flagged as wrong" in result.stdout
    assert "1 unlabelled row skipped" in result.stderr
    assert not list(tmp_path.glob(".*.part")), "no temporary files left"


def test_audit_fix_to_parquet(noisy_table, tmp_path):
    pytest.importorskip("pyarrow")
    path, _ = noisy_table
    fixed = tmp_path / "fixed.parquet"
    result = run_cli(
        "audit",
        str(path),
        "--target",
        "grape",
        "--method",
        "alr",
        "--all",
        "--clean-out",
        str(fixed),
        "--fix",
        "--threads",
        "2",
        "--epochs",
        "20",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(fixed)
    assert len(table) == 178, "relabelled, not dropped"
    issues = pd.read_csv(tmp_path / "wine_label_issues.csv")
    assert len(issues) == 177, "--all writes every labelled row"
    flagged = issues[issues["label_issue"]]
    np.testing.assert_array_equal(
        table["grape"].to_numpy()[flagged["source_row"]], flagged["refined_label"]
    )


def test_audit_an_image_folder(tmp_path):
    folder = write_image_folder(tmp_path / "images", per_class=10)
    out = tmp_path / "issues.csv"
    result = run_cli(
        "audit",
        str(folder),
        "--grayscale",
        "--image-size",
        "8",
        "--epochs",
        "3",
        "--out",
        str(out),
        "--all",
        "--no-progress",
        "--clean-out",
        str(tmp_path / "kept.csv"),
    )
    assert result.returncode == 0, result.stderr
    issues = pd.read_csv(out)
    assert len(issues) == 30 and issues["path"].str.endswith(".png").all()
    assert set(issues["given_label"]) == {"digit_0", "digit_1", "digit_2"}
    kept = pd.read_csv(tmp_path / "kept.csv")
    assert list(kept.columns) == ["path", "label"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "missing.csv", "--target", "y"], "no such file"),
        (["audit", "{table}", "--target", "nope"], "no column 'nope'"),
        (["audit", "{table}"], "--target"),
        (["audit", "{onecls}", "--target", "y"], "single class"),
        (["audit", "{garbage}", "--target", "y"], "cannot read"),
        (
            ["audit", "{table}", "--target", "grape", "--out", "{table}"],
            "overwrite the input",
        ),
        (["audit", "{notes}", "--target", "y"], "unknown table format"),
        (["audit", "{table}", "--target", "grape", "--threads", "0"], "--threads"),
        (["audit", "{table}", "--target", "grape", "--device", "gpu"], "--device"),
        (["audit", "{table}", "--target", "grape", "--epochs", "0"], "--epochs"),
    ],
)
def test_audit_errors_are_one_line(args, message, noisy_table, tmp_path):
    table, _ = noisy_table
    onecls = tmp_path / "one.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": ["x", "x", "x"]}).to_csv(
        onecls, index=False
    )
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01 not parquet")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    names = {"table": table, "onecls": onecls, "garbage": garbage, "notes": notes}
    before = table.read_bytes()
    result = run_cli(*[a.format(**names) for a in args], "--no-progress", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert table.read_bytes() == before


def test_plain_classifier_report(noisy_digits):
    X, _, y_noisy, _ = noisy_digits
    clf = CrossEntropyClassifier(**FAST, random_state=0).fit(X, y_noisy)
    report = find_label_issues(clf, y_noisy)
    assert report.n_issues == int((clf.predict(X) != y_noisy).sum())


def test_find_label_issues_looks_through_searches_and_filters(small_data):
    from sknoisy import ALRClassifier

    X, y = small_data
    search = GridSearchCV(ALRClassifier(**FAST, random_state=0), {"lr": [1e-3]}, cv=2)
    search.fit(X, y)
    report = find_label_issues(search, y)
    assert len(report.table) == len(y)
    with pytest.raises(ValueError, match="not fitted on"):
        find_label_issues(search, np.where(y == 0, 9, y))
    with pytest.raises(ValueError, match="differs from the labels"):
        find_label_issues(search, y[::-1])
    with pytest.raises(TypeError, match="no per-row label scores"):
        find_label_issues(LogisticRegression().fit(X, y), y)


def test_a_pipeline_detector_works_and_other_detectors_are_refused(small_data):
    from sknoisy import ALRClassifier
    from sknoisy.audit import LabelNoiseFilter, NoiseFilteredClassifier

    X, y = small_data
    detector = make_pipeline(StandardScaler(), ALRClassifier(**FAST, random_state=0))
    X_clean, y_clean = LabelNoiseFilter(detector=detector).fit_resample(X, y)
    assert len(X_clean) == len(y_clean) <= len(X)
    for action in ("remove", "weight"):
        model = NoiseFilteredClassifier(
            classifier=LogisticRegression(), detector=detector, action=action
        ).fit(X, y)
        assert model.label_issues_.shape == (len(y),)
    with pytest.raises(TypeError, match="detector must be a sknoisy estimator"):
        LabelNoiseFilter(detector=LogisticRegression()).fit_resample(X, y)
