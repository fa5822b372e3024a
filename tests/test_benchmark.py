"""The side-by-side benchmark (sknoisy.benchmark)."""

import matplotlib
import numpy as np
import pytest

from sknoisy.benchmark import (
    NoiseSetting,
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
