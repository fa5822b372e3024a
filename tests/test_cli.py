"""The command line, run as a user runs it: a subprocess."""

import json
import subprocess
import sys

import pytest

from sknoisy.benchmark import run_benchmark
from sknoisy.cli import main


def run(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "sknoisy", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_reports_found_errors_and_accuracy():
    result = run("demo", "--epochs", "4", "--rate", "0.3")
    assert result.returncode == 0, result.stderr
    assert "of the 377 injected errors found" in result.stdout
    assert "Test accuracy on clean labels" in result.stdout
    assert "plain training" in result.stdout


def test_demo_prints_the_run_s_own_figures(capsys):
    assert main(["demo", "--method", "alr", "--epochs", "3", "--rate", "0.3"]) == 0
    printed = capsys.readouterr().out
    results = run_benchmark(
        noise=["symmetric:0.3"], methods=["plain", "alr"], max_epochs=3, seeds=[0]
    )
    alr = next(r for r in results if r.method == "alr")
    plain = next(r for r in results if r.method == "plain")
    flagged, found = alr.extra["flagged"], alr.extra["found"]
    assert f"ALRClassifier flagged {flagged} training labels as wrong" in printed
    assert f"{found} of the 377 injected errors found" in printed
    assert f"recall {alr.recall:.1%}, precision {alr.precision:.1%}" in printed
    assert f"AUROC {alr.auroc:.3f}" in printed
    assert f"right for {alr.refined_accuracy:.1%}" in printed
    assert (
        f"{alr.test_accuracy:.1%} (ALRClassifier) vs {plain.test_accuracy:.1%}"
        in printed
    )


def test_benchmark_end_to_end_tiny(tmp_path):
    out = tmp_path / "results.json"
    table = tmp_path / "summary.csv"
    plot = tmp_path / "scores.png"
    result = run(
        "benchmark",
        "--dataset",
        "iris",
        "--noise",
        "symmetric:0.2",
        "pair:0.2",
        "--epochs",
        "3",
        "--seeds",
        "0",
        "1",
        "--json",
        str(out),
        "--csv",
        str(table),
        "--plot",
        str(plot),
    )
    assert result.returncode == 0, result.stderr
    assert "wrong-event" in result.stdout and "alr" in result.stdout
    assert "plain (best epoch, oracle)" in result.stdout
    data = json.loads(out.read_text())
    methods = {row["method"] for row in data["results"]}
    assert {"plain", "wrong-event", "alr", "cleanlab"} <= methods
    assert len(data["results"]) == 2 * 2 * 5
    assert table.read_text().startswith("noise,method,seeds")
    assert plot.stat().st_size > 10_000
    assert "training" in result.stderr, "progress lines"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["benchmark", "--dataset", "nope.csv"], "Unknown data set"),
        (["benchmark", "--methods", "magic"], "Unknown method"),
        (["benchmark", "--noise", "symmetric:lots"], "KIND:RATE"),
    ],
)
def test_bad_arguments_get_one_line_errors(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_benchmark_on_a_csv_with_categorical_columns(tmp_path):
    import numpy as np
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    frame = X.assign(size=np.where(X["petal length (cm)"] > 3, "big", "small"))
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    frame.loc[0, "species"] = None
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    result = run(
        "benchmark",
        "--dataset",
        str(path),
        "--target",
        "species",
        "--methods",
        "plain,alr",
        "--epochs",
        "3",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert "alr" in result.stdout
