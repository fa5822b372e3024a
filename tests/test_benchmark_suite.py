"""Benchmark suites: several data sets, train-only encoding, row caps, ceilings,
and the won / tied / lost comparison (sknoisy.benchmark)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

import sknoisy.benchmark as benchmark
from sknoisy.benchmark import (
    CEILING,
    ORACLE,
    SMALL_CLASS_ROWS,
    BenchmarkData,
    MethodResult,
    NoiseSetting,
    _prepare_split,
    capped_rows,
    compare,
    format_class_recalls,
    format_comparison,
    format_sizes,
    format_table,
    load_benchmark_data,
    run_benchmark,
    summarise,
)


def result(method, seed, data="d", noise="symmetric:0.4", **figures):
    values = dict(
        test_accuracy=0.8,
        auroc=0.9,
        auprc=0.8,
        precision=0.8,
        recall=0.8,
        refined_accuracy=0.9,
        fit_seconds=1.0,
    )
    values.update(figures)
    return MethodResult(method=method, noise=noise, seed=seed, data=data, **values)


def test_f1_of_the_flags():
    assert result("m", 0, precision=0.5, recall=1.0).f1 == pytest.approx(2 / 3)
    # Nothing flagged: no precision, no recall, F1 0.
    assert result("m", 0, precision=float("nan"), recall=0.0).f1 == 0.0
    assert np.isnan(result(ORACLE, 0, precision=np.nan, recall=np.nan).f1)


def test_a_cell_is_won_tied_or_lost_by_the_paired_standard_error():
    rows = []
    for seed, (ido, clean) in enumerate([(0.90, 0.80), (0.91, 0.82), (0.89, 0.80)]):
        rows += [
            result("wrong-event", seed, test_accuracy=ido, auroc=0.90 + seed / 100),
            result("cleanlab", seed, test_accuracy=clean, auroc=0.90 - seed / 100),
        ]
    by = {(r["metric"]): r for r in compare(rows, references=["cleanlab"])}
    assert by["test_accuracy"]["outcome"] == "won"
    assert by["test_accuracy"]["difference"] == pytest.approx(0.28 / 3)
    # AUROC differences 0, +0.02, +0.04: mean 0.02, stderr 0.0115.
    diffs = np.array([0.0, 0.02, 0.04])
    stderr = diffs.std(ddof=1) / np.sqrt(3)
    assert by["auroc"]["stderr"] == pytest.approx(stderr)
    assert by["auroc"]["outcome"] == "won"  # 0.02 > 0.0115
    assert by["f1"]["outcome"] == "tied" and by["f1"]["difference"] == 0


def test_a_target_allows_its_margin_below_the_reference():
    rows = []
    for seed, diff in enumerate([-0.003, -0.004, -0.005]):
        rows += [
            result("alr", seed, test_accuracy=0.8 + diff),
            result("cleanlab", seed),
            result(ORACLE, seed, test_accuracy=0.815),
        ]
    table = compare(rows, methods=["alr"])
    cleanlab = next(
        r
        for r in table
        if r["reference"] == "cleanlab" and r["metric"] == "test_accuracy"
    )
    assert cleanlab["outcome"] == "lost" and cleanlab["target_met"], "within 0.5 point"
    oracle = next(
        r for r in table if r["reference"] == ORACLE and r["metric"] == "test_accuracy"
    )
    assert oracle["target_met"] is False, "more than 1 point below the oracle"
    text = format_comparison(table)
    assert "Targets missed" in text and "alr test acc -0.019" in text
    # AUROC against the oracle is compared but has no target.
    auroc = next(
        r for r in table if r["reference"] == ORACLE and r["metric"] == "auroc"
    )
    assert auroc["target_met"] is None


def test_cells_are_the_data_set_and_noise_pairs():
    rows = [
        result(method, seed, data=data, noise=noise)
        for data in ("a", "b")
        for noise in ("pair:0.3", "symmetric:0.2")
        for method in ("alr", "cleanlab")
        for seed in (0, 1)
    ]
    table = compare(rows, methods=["alr"], references=["cleanlab"])
    assert len(table) == 2 * 2 * 3, "cells x metrics"
    assert all(r["seeds"] == 2 and r["outcome"] == "tied" for r in table)
    summary = summarise(rows)
    assert len(summary) == 8
    assert format_table(summary).splitlines()[0].startswith("data")


def test_capped_rows_keep_every_row_of_a_small_class():
    y = np.repeat([0, 1, 2, 3], [6000, 3000, 40, 10])
    rows = capped_rows(y, 2050, seed=0)
    counts = np.bincount(y[rows], minlength=4)
    assert counts[2] == 40 and counts[3] == 10, "classes under 1,000 rows, whole"
    assert counts[0] + counts[1] == 2000
    assert counts[0] == pytest.approx(2 * counts[1], abs=1), "stratified"
    np.testing.assert_array_equal(rows, capped_rows(y, 2050, seed=0))
    assert not np.array_equal(rows, capped_rows(y, 2050, seed=1)), "seeded"
    assert SMALL_CLASS_ROWS == 1000


def test_a_capped_pool_is_split_and_announced():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [1500, 1200, 30])
    data = BenchmarkData(rng.normal(size=(len(y), 3)), y, name="big")
    split = _prepare_split(data, NoiseSetting.parse("symmetric:0.2"), 0, 0.3, None, 600)
    assert len(split.y_true) + len(split.y_test) == 600
    assert np.sum(split.y_true == 2) + np.sum(split.y_test == 2) == 30
    assert "subsampled to 600 of 2730 rows" in split.pool_note
    rows = run_benchmark(data, methods=["plain"], max_epochs=1, max_rows=600)
    assert format_sizes(rows) == (
        "big: 420 training rows, 180 test rows; " + split.pool_note
    )


class _FitRecorder(TransformerMixin, BaseEstimator):
    """Records the index of every frame it is fitted on (in a class list: the
    benchmark clones it)."""

    fitted_on: list = []

    def fit(self, X, y=None):
        _FitRecorder.fitted_on.append(list(X.index))
        return self

    def transform(self, X):
        return X.to_numpy(dtype=float)


def test_the_encoder_is_fitted_on_the_training_rows_only():
    frame = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0) % 7})
    y = np.arange(100) % 2
    data = BenchmarkData(frame, y, name="frame", encoder=_FitRecorder())
    _FitRecorder.fitted_on.clear()
    split = _prepare_split(data, NoiseSetting.parse("symmetric:0.2"), 0, 0.3, None)
    (fitted,) = _FitRecorder.fitted_on
    test_values = set(split.X_test[:, 0])
    assert len(fitted) == 70 and not test_values & set(fitted)
    assert split.X_train.dtype == np.float32


def test_a_table_is_encoded_by_its_training_split(tmp_path):
    # A numeric column encoded on the training rows, a text column
    # one-hot encoded, a missing cell imputed: the table's own encoder.
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 3, n),
            "colour": rng.choice(["red", "blue", None], n),
            "label": np.where(np.arange(n) % 2, "yes", "no"),
        }
    )
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    data = load_benchmark_data(f"{path}:label")
    assert data.name == f"{path}:label" and data.encoder is not None
    split = _prepare_split(data, NoiseSetting.parse("symmetric:0.2"), 0, 0.3, None)
    assert split.X_train.shape == (84, 4), "size twice + two colours"
    np.testing.assert_allclose(split.X_train[:, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(np.median(split.X_train[:, 1]), 0, atol=1e-5)
    assert abs(split.X_test[:, 0].mean()) > 1e-4, "not refitted on the test rows"
    assert not np.isnan(split.X_train).any()
    with pytest.raises(ValueError, match="needs its target column"):
        load_benchmark_data(str(path))
    with pytest.raises(ValueError, match="Unknown data set"):
        load_benchmark_data(f"{tmp_path / 'missing.csv'}:label")


def tiny(name, n=90, shift=0.0):
    rng = np.random.default_rng(len(name))
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 4)) + 3 * y[:, None] + shift
    return BenchmarkData(X, y, name=name)


def test_a_suite_runs_every_data_set_and_trains_the_ceiling_once_per_seed(
    monkeypatch,
):
    calls = []
    original = benchmark._Run._ceiling

    def counted(self, split, setting, seed, where):
        calls.append((split.data, seed))
        return original(self, split, setting, seed, where)

    monkeypatch.setattr(benchmark._Run, "_ceiling", counted)
    rows = run_benchmark(
        [tiny("one"), tiny("two", shift=1.0)],
        noise=["symmetric:0.2", "pair:0.2"],
        methods=["plain"],
        max_epochs=2,
        seeds=[0, 1],
        ceiling=True,
    )
    assert sorted(calls) == [("one", 0), ("one", 1), ("two", 0), ("two", 1)]
    ceilings = [r for r in rows if r.method == CEILING]
    assert len(ceilings) == 2 * 2 * 2, "one per data set, noise setting and seed"
    assert {r.data for r in rows} == {"one", "two"}
    same = [r.test_accuracy for r in ceilings if r.data == "one" and r.seed == 0]
    assert len(set(same)) == 1, "the same fit for both noise settings"


def test_bad_data_sets_fail_before_any_training(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before every data set was checked")

    monkeypatch.setattr(benchmark._Run, "_train", no_training)
    with pytest.raises(ValueError, match="Unknown data set 'nope'"):
        run_benchmark(["iris", "nope"], methods=["plain"], max_epochs=1)


def test_rare_classes_get_their_own_figures():
    rows = run_benchmark(
        BenchmarkData(
            np.random.default_rng(0).normal(size=(500, 3))
            + np.repeat([0, 4], [480, 20])[:, None],
            np.repeat([0, 1], [480, 20]),
            name="rare",
        ),
        methods=["plain"],
        max_epochs=2,
        ceiling=True,
    )
    plain = next(r for r in rows if r.method == "plain")
    assert len(plain.extra["class_test_recall"]) == 2
    assert plain.extra["class_test_share"] == pytest.approx([144 / 150, 6 / 150])
    text = format_class_recalls(rows)
    assert text.startswith("rare: per true class")
    assert "right labels flagged" in text and CEILING in text
    assert format_class_recalls(rows, max_share=0.01) == ""


def test_data_sets_sharing_a_name_are_refused():
    with pytest.raises(ValueError, match="Several data sets are named"):
        run_benchmark([tiny("same"), tiny("same", shift=1.0)], methods=["plain"])


def test_a_cap_keeps_two_rows_of_every_large_class_and_says_nothing_if_all_fit():
    y = np.repeat([0, 1, 2], [5000, 1500, 900])
    counts = np.bincount(y[capped_rows(y, 800, seed=0)], minlength=3)
    assert counts[2] == 900 and counts[0] >= 2 and counts[1] >= 2
    data = BenchmarkData(np.zeros((90, 2)), np.arange(90) % 3, name="small")
    split = _prepare_split(data, NoiseSetting.parse("symmetric:0.2"), 0, 0.3, None, 50)
    assert split.pool_note == "" and len(split.y_true) + len(split.y_test) == 90


def test_a_table_path_may_be_a_path_object_and_carry_its_target(tmp_path):
    from pathlib import Path

    path = tmp_path / "t.csv"
    pd.DataFrame({"a": np.arange(30.0), "cls": np.arange(30) % 2}).to_csv(path)
    assert load_benchmark_data(Path(path), "cls").name == f"{path}:cls"
    assert load_benchmark_data(f"{path}:cls", "other").name == f"{path}:cls"
    with pytest.raises(ValueError, match="no target column"):
        load_benchmark_data(f"{path}:")


def test_the_score_plot_shows_one_data_set(tmp_path, monkeypatch):
    import matplotlib.figure

    titles = []
    original = matplotlib.figure.Figure.suptitle

    def record(self, text, *args, **kwargs):
        titles.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "suptitle", record)
    rows = run_benchmark(
        [tiny("one"), tiny("two", shift=1.0)],
        methods=["plain"],
        max_epochs=1,
        keep_scores=True,
        oracle=False,
    )
    benchmark.plot_scores(rows, tmp_path / "scores.png")
    assert titles == ["one, symmetric:0.4, seed 0"]
