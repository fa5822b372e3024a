"""The side-by-side benchmark (sknoisy.benchmark)."""

import matplotlib
import numpy as np
import pytest
import torch

from sknoisy.benchmark import (
    BenchmarkData,
    NoiseSetting,
    _prepare_split,
    format_table,
    plot_scores,
    run_benchmark,
    summarise,
)


@pytest.fixture(scope="module")
def results():
    return run_benchmark(
        dataset="iris",
        noise=["symmetric:0.3"],
        methods=["plain", "alr"],
        max_epochs=5,
        seeds=[0, 1],
        keep_scores=True,
    )


def test_every_method_and_seed_gets_a_row(results):
    methods = [(r.method, r.seed) for r in results]
    for seed in (0, 1):
        for method in ("plain", "alr", "plain (best epoch, oracle)"):
            assert (method, seed) in methods
    alr = next(r for r in results if r.method == "alr")
    # 30% of iris's 105 training rows, exactly.
    assert alr.extra["flipped"] == 32
    assert 0 <= alr.test_accuracy <= 1 and 0 <= alr.auroc <= 1


def test_flags_are_the_methods_label_issues(results):
    for row in results:
        if row.method in ("plain", "alr"):
            flagged, flipped = row.extra["flagged"], row.extra["flipped"]
            found = row.extra["found"]
            if flagged:
                assert row.precision == pytest.approx(found / flagged)
            assert row.recall == pytest.approx(found / flipped)


def test_plain_is_the_time_reference(results):
    for row in results:
        if row.method == "plain":
            assert row.time_vs_plain == 1.0


def test_summary_averages_over_seeds(results):
    summary = summarise(results)
    alr = next(s for s in summary if s["method"] == "alr")
    rows = [r for r in results if r.method == "alr"]
    assert alr["seeds"] == 2
    assert alr["auroc"] == pytest.approx(np.mean([r.auroc for r in rows]))
    table = format_table(summary)
    assert "alr" in table and "AUROC" in table.splitlines()[0]


def test_plot_leaves_the_backend_alone(results, tmp_path):
    backend = matplotlib.get_backend()
    plot_scores(results, tmp_path / "scores.png")
    assert (tmp_path / "scores.png").read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.get_backend() == backend


@pytest.mark.parametrize(
    ("text", "kind", "rate"), [("pair:0.3", "pair", 0.3), ("instance", "instance", 0.4)]
)
def test_noise_settings_parse(text, kind, rate):
    setting = NoiseSetting.parse(text)
    assert (setting.kind, setting.rate) == (kind, rate)


def test_bad_settings_and_methods():
    with pytest.raises(ValueError, match="KIND:RATE"):
        NoiseSetting.parse("pair:often")
    with pytest.raises(ValueError, match="Unknown method"):
        run_benchmark(methods=["coteaching"])


def human_data(n=120, seed=0):
    """Three separable classes and a 'human' label set with 25% wrong labels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 4)) + 3 * y[:, None]
    given = np.where(rng.random(n) < 0.25, (y + 1) % 3, y)
    X_test = rng.normal(size=(30, 4)) + 3 * (np.arange(30) % 3)[:, None]
    return BenchmarkData(
        X, y, X_test, np.arange(30) % 3, {"crowd": given}, name="toy"
    ), given


def test_given_label_sets_and_a_fixed_test_set():
    data, given = human_data()
    rows = run_benchmark(
        data, noise=["human:crowd"], methods=["plain"], max_epochs=3, seeds=[0]
    )
    plain = next(r for r in rows if r.method == "plain")
    assert plain.noise == "human:crowd"
    assert plain.extra["flipped"] == int(np.sum(given != data.y)), "the crowd's errors"
    with pytest.raises(ValueError, match="no label set 'experts'"):
        run_benchmark(data, noise=["human:experts"], methods=["plain"])
    with pytest.raises(ValueError, match="names no label set"):
        NoiseSetting.parse("human")


def test_training_subset_is_stratified_and_seeded():
    data, _ = human_data(n=300)
    split = _prepare_split(data, NoiseSetting.parse("human:crowd"), 0, 0.3, 60)
    assert len(split.y_true) == 60
    np.testing.assert_array_equal(np.bincount(split.y_true), [20, 20, 20])
    again = _prepare_split(data, NoiseSetting.parse("human:crowd"), 0, 0.3, 60)
    np.testing.assert_array_equal(split.X_train, again.X_train)
    other = _prepare_split(data, NoiseSetting.parse("human:crowd"), 1, 0.3, 60)
    assert not np.array_equal(split.X_train, other.X_train)
    assert len(split.y_test) == 30, "the fixed test set, whole"


def test_images_reach_the_estimators_as_pixel_values():
    # The estimators standardise channels after augmentation; the split must not.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (40, 3, 4, 4), dtype=np.uint8)
    data = BenchmarkData(X, np.arange(40) % 2, name="pixels")
    split = _prepare_split(data, NoiseSetting.parse("symmetric:0.2"), 0, 0.25, None)
    assert split.X_train.dtype == np.uint8
    assert {tuple(row.ravel()) for row in split.X_train} <= {
        tuple(row.ravel()) for row in X
    }


def test_a_rerun_takes_finished_results_from_the_file(tmp_path):
    path = tmp_path / "results.jsonl"
    lines = []
    run = {
        "dataset": "iris",
        "noise": ["symmetric:0.2"],
        "methods": ["plain", "alr"],
        "max_epochs": 3,
        "seeds": [0],
        "results_path": path,
    }
    first = run_benchmark(**run, progress=lines.append)
    assert sum("training" in line for line in lines) == 2
    assert len(path.read_text().splitlines()) == 3, "plain, alr, oracle"
    lines.clear()
    second = run_benchmark(**run, progress=lines.append)
    assert not any("training" in line for line in lines)
    assert [(r.method, r.auroc, r.test_accuracy) for r in second] == [
        (r.method, r.auroc, r.test_accuracy) for r in first
    ]
    lines.clear()
    run_benchmark(**{**run, "max_epochs": 4}, progress=lines.append)
    assert sum("training" in line for line in lines) == 2, "another key: retrained"


def test_a_callback_in_method_params_is_keyed_by_its_parameters():
    from skorch.callbacks import LRScheduler

    from sknoisy.benchmark import ResultStore

    def context(**schedule):
        callback = LRScheduler(policy="StepLR", **schedule)
        return {"method_params": {"plain": {"callbacks": [callback]}}}

    # Not by its default str, whose memory address differs in every run.
    assert ResultStore.key(context(step_size=2)) == ResultStore.key(
        context(step_size=2)
    )
    assert ResultStore.key(context(step_size=2)) != ResultStore.key(
        context(step_size=3)
    )


def test_results_of_other_code_are_not_reused(tmp_path, monkeypatch):
    import sknoisy.benchmark as benchmark

    path = tmp_path / "results.jsonl"
    run = {"dataset": "iris", "methods": ["plain"], "max_epochs": 2}
    run_benchmark(**run, results_path=path)
    monkeypatch.setattr(benchmark, "code_fingerprint", lambda: "other-code")
    lines = []
    run_benchmark(**run, results_path=path, progress=lines.append)
    assert sum("training" in line for line in lines) == 1
    assert len(benchmark.code_fingerprint()) > 0


def test_a_method_s_flags_are_its_label_issues():
    from sknoisy import CrossEntropyClassifier
    from sknoisy.benchmark import _sknoisy_result

    data, _ = human_data()
    split = _prepare_split(data, NoiseSetting.parse("human:crowd"), 0, 0.3, None)
    clf = CrossEntropyClassifier(max_epochs=3, random_state=0)
    raw = _sknoisy_result("plain", clf, split)
    np.testing.assert_array_equal(raw["flagged"], clf.label_issues_)
    # Here the rule differs from a threshold on the scores, so the test can fail.
    assert ((clf.noise_scores_ > 0.5) != clf.label_issues_).any()


def test_a_dataset_is_benchmarked_like_its_arrays():
    from torch.utils.data import TensorDataset

    arrays, given = human_data()
    as_tensors = BenchmarkData(
        TensorDataset(torch.as_tensor(arrays.X, dtype=torch.float32)),
        arrays.y,
        noisy_labels={"crowd": given},
        name="toy-dataset",
    )
    as_arrays = BenchmarkData(
        arrays.X.astype(np.float32), arrays.y, noisy_labels={"crowd": given}
    )
    lines = []
    run = {
        "noise": ["human:crowd", "symmetric:0.2"],
        "max_epochs": 3,
        "methods": ["plain", "alr", "cleanlab"],
        "seeds": [0],
    }
    from_dataset = run_benchmark(as_tensors, progress=lines.append, **run)
    assert any("cleanlab needs arrays" in line for line in lines)
    split = _prepare_split(as_tensors, NoiseSetting.parse("human:crowd"), 0, 0.3, 50)
    assert len(split.X_train) == 50 and len(split.X_test) == 36
    with pytest.raises(ValueError, match="instance noise"):
        _prepare_split(as_tensors, NoiseSetting.parse("instance:0.2"), 0, 0.3, None)
    # The split and the noise follow the seed, whatever holds the features
    # (detection figures; the tables are scaled for the arrays only).
    array_split = _prepare_split(
        as_arrays, NoiseSetting.parse("human:crowd"), 0, 0.3, 50
    )
    np.testing.assert_array_equal(split.y_noisy, array_split.y_noisy)
    assert {r.method for r in from_dataset} >= {"plain", "alr"}
