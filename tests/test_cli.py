"""The command line, run as a user runs it: a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

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


def test_demo_shows_progress_and_trains_only_what_it_reports(monkeypatch, capsys):
    import sknoisy.benchmark

    def no_oracle(*args, **kwargs):
        raise AssertionError("the demo trained the per-epoch oracle it never shows")

    monkeypatch.setattr(sknoisy.benchmark._Run, "_plain_best_epoch", no_oracle)
    assert main(["demo", "--epochs", "3", "--rate", "0.3"]) == 0
    progress = capsys.readouterr().err.splitlines()
    # Standard error is not a terminal here: one line per epoch and method.
    for name in ("CrossEntropyClassifier", "WrongEventClassifier"):
        lines = [line for line in progress if line.startswith(f"{name}: epoch ")]
        assert len(lines) == 3 and lines[-1].endswith("about 0 s left"), progress
    assert main(["demo", "--epochs", "3", "--rate", "0.3", "--quiet"]) == 0
    assert "epoch" not in capsys.readouterr().err


def test_benchmark_without_the_oracle_trains_no_oracle(monkeypatch, capsys):
    import sknoisy.benchmark

    def no_oracle(*args, **kwargs):
        raise AssertionError("--no-oracle trained the per-epoch oracle")

    monkeypatch.setattr(sknoisy.benchmark._Run, "_plain_best_epoch", no_oracle)
    args = ["benchmark", "--methods", "plain", "--epochs", "2", "--no-oracle"]
    assert main(args) == 0
    assert "oracle" not in capsys.readouterr().out


def test_help_states_every_option_s_default():
    from sknoisy.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for name, command in commands.items():
        for action in command._actions:
            if not action.option_strings or action.dest == "help":
                continue
            text = command.formatter_class(name)._expand_help(action)
            assert text, f"sknoisy {name} {action.option_strings[0]} has no help"
            if action.default not in (None, False):
                assert f"default: {action.default}" in text or (
                    isinstance(action.default, list)
                    and f"default: {' '.join(map(str, action.default))}" in text
                ), (name, action.option_strings, text)
            elif action.const is not True:  # flags are off unless given
                assert "default" in text or "required" in text, (name, text)


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
    assert table.read_text().startswith("data,noise,method,seeds")
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "x.csv", "--image-size", "0"], "--image-size: must be a positive"),
        (["audit", "x.csv", "--seed", "-1"], "--seed: must be an integer from 0"),
        (["benchmark", "--seeds", "0", "4294967296"], "--seeds: must be an integer"),
    ],
)
def test_out_of_range_options_are_named_when_parsed(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


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


def write_csv(path, n=60):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["label"] = np.where(frame["a"] > 0, "yes", "no")
    frame.to_csv(path, index=False)
    return path


def test_audit_says_which_columns_became_features(tmp_path, capsys):
    import pandas as pd

    source = write_csv(tmp_path / "plain.csv")
    frame = pd.read_csv(source)
    frame["name"] = [f"sample {i}" for i in range(len(frame))]
    frame.to_csv(source)  # with the index, as pandas writes it by default
    code = main(["audit", str(source), "--target", "label", "--epochs", "3"])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    assert (
        "sknoisy audit: features: a, b, c (3 columns; 6 inputs to the network: "
        "numbers twice, as quantiles and arcsinh-scaled)" in err
    )
    assert (
        "sknoisy audit: left out 'Unnamed: 0': an index or identifier (a different "
        "value per row)" in err
    )
    assert (
        "sknoisy audit: left out 'name': free text (a different value in nearly "
        "every row)" in err
    )


def test_an_interrupted_audit_writes_nothing_and_exits_130(tmp_path, capsys):
    from skorch.callbacks import Callback

    import sknoisy.cli as cli

    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    source = write_csv(tmp_path / "data.csv")
    original = cli.make_estimator

    def interrupted(*args, **kwargs):
        return original(*args, **{**kwargs, "callbacks": [Interrupt()]})

    cli.make_estimator = interrupted
    try:
        code = main(
            [
                "audit",
                str(source),
                "--target",
                "label",
                "--epochs",
                "3",
                "--clean-out",
                str(tmp_path / "clean.csv"),
            ]
        )
    finally:
        cli.make_estimator = original
    assert code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("interrupted")


def test_an_interrupted_audit_resumes_from_its_checkpoint(
    tmp_path, capsys, monkeypatch
):
    from sknoisy._net import IndexedNet

    source = write_csv(tmp_path / "data.csv")
    checkpoints = tmp_path / "checkpoints"

    def audit(out, *extra):
        return main(
            [
                *("audit", str(source), "--target", "label", "--epochs", "4"),
                *("--out", str(tmp_path / out), *extra),
            ]
        )

    assert audit("reference.csv") == 0
    run = IndexedNet.run_single_epoch

    def interrupted_in_epoch_3(net, iterator, training, *args, **kwargs):
        if training and len(net.history) == 3:
            raise KeyboardInterrupt
        return run(net, iterator, training, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(IndexedNet, "run_single_epoch", interrupted_in_epoch_3)
        assert audit("issues.csv", "--checkpoint-dir", str(checkpoints)) == 130
    assert "the same command resumes it" in capsys.readouterr().err
    assert not (tmp_path / "issues.csv").exists()
    assert len(list(checkpoints.iterdir())) == 1
    capsys.readouterr()
    assert audit("issues.csv", "--checkpoint-dir", str(checkpoints)) == 0
    err = capsys.readouterr().err
    assert "epoch 3/4" in err and "epoch 1/4" not in err  # resumed after epoch 2
    resumed = (tmp_path / "issues.csv").read_text()
    assert resumed == (tmp_path / "reference.csv").read_text()
    assert list(checkpoints.iterdir()) == []


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "issues.png"], "--out issues.png: the suffix must be one of"),
        (["--clean-out", "same.csv", "--out", "same.csv"], "are the same file"),
        (["--out", "missing/issues.csv"], "does not exist"),
        (["--clean-out", "data.csv"], "would overwrite the input"),
    ],
)
def test_audit_outputs_are_checked_before_training(
    tmp_path, monkeypatch, capsys, extra, message
):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "data.csv")
    code = main(["audit", "data.csv", "--target", "label", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "training" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_folder_that_refuses_files_is_found_before_training(
    tmp_path, monkeypatch, capsys
):
    # /proc refuses new files even to root, whom os.access lets through.
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "data.csv")
    code = main(["audit", "data.csv", "--target", "label", "--out", "/proc/x.csv"])
    err = capsys.readouterr().err
    assert code == 2 and "--out /proc/x.csv: cannot be written" in err
    assert "training" not in err


def test_an_interrupt_while_the_command_line_imports_is_one_line(monkeypatch, capsys):
    # Ctrl-C while torch is being imported (seconds at start-up).
    import importlib.abc

    from sknoisy.__main__ import main as entry_point

    class Interrupted(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "sknoisy.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "sknoisy.cli")
    monkeypatch.setattr(sys, "meta_path", [Interrupted(), *sys.meta_path])
    assert entry_point(["--help"]) == 130
    assert capsys.readouterr().err == "sknoisy: interrupted\n"


def test_clean_out_drops_rows_by_position_and_keeps_a_named_index(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 2)), columns=["a", "b"])
    frame["label"] = np.where(frame["a"] > 0, 1, 0)
    frame.loc[:9, "label"] = 1 - frame.loc[:9, "label"]  # ten wrong labels
    frame.index = pd.Index(np.repeat(np.arange(40), 2), name="sample_id")
    frame.to_parquet(tmp_path / "data.parquet")
    code = main(
        [
            "audit",
            str(tmp_path / "data.parquet"),
            "--target",
            "label",
            "--epochs",
            "30",
            "--all",
            "--out",
            str(tmp_path / "issues.csv"),
            "--clean-out",
            str(tmp_path / "clean.parquet"),
            "--no-progress",
        ]
    )
    assert code == 0
    issues = pd.read_csv(tmp_path / "issues.csv")
    cleaned = pd.read_parquet(tmp_path / "clean.parquet")
    assert len(cleaned) == len(frame) - issues["label_issue"].sum()
    assert cleaned.index.name == "sample_id"
    kept = np.setdiff1d(np.arange(80), issues.loc[issues["label_issue"], "source_row"])
    pd.testing.assert_frame_equal(cleaned, frame.iloc[kept])


def test_clean_out_keeps_a_csv_s_blank_index_header(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    frame["label"] = np.where(frame["a"] > 0, "yes", "no")
    frame.to_csv(tmp_path / "data.csv")  # the index, under a blank header
    args = ["audit", str(tmp_path / "data.csv"), "--target", "label", "--epochs"]
    outputs = ["--out", str(tmp_path / "issues.csv"), "--no-progress"]
    clean = tmp_path / "clean.csv"
    assert main([*args, "4", *outputs, "--clean-out", str(clean)]) == 0
    assert clean.read_text().splitlines()[0] == ",a,b,label"


def test_benchmark_module_option_sets_every_method_s_network(monkeypatch):
    import sknoisy.cli as cli
    from sknoisy.modules import CifarResNet18

    seen = {}

    def fake_run_benchmark(**kwargs):
        seen.update(kwargs)
        return []

    monkeypatch.setattr(cli, "run_benchmark", fake_run_benchmark)
    monkeypatch.setattr(cli, "summarise", lambda results: [])
    monkeypatch.setattr(cli, "format_table", lambda summary: "")
    assert main(["benchmark", "--module", "cifar-resnet18", "--quiet"]) == 0
    assert seen["method_params"] == {
        name: {"module": CifarResNet18} for name in ("plain", "wrong-event", "alr")
    }
    main(["benchmark", "--quiet"])
    assert seen["method_params"] is None


def test_an_audit_that_fails_while_writing_leaves_no_output(tmp_path, monkeypatch):
    import sknoisy.cli as cli

    source = write_csv(tmp_path / "data.csv")

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cli, "_write_cleaned", failing)
    code = main(
        [
            "audit",
            str(source),
            "--target",
            "label",
            "--epochs",
            "2",
            "--no-progress",
            "--clean-out",
            str(tmp_path / "clean.csv"),
        ]
    )
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_warnings_print_as_one_clean_line(tmp_path, capsys):
    import warnings

    from sknoisy.exceptions import ShortTrainingWarning

    source = write_csv(tmp_path / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("always", ShortTrainingWarning)
        code = main(
            [
                "audit",
                str(source),
                "--target",
                "label",
                "--epochs",
                "2",
                "--no-progress",
            ]
        )
    assert code == 0
    lines = capsys.readouterr().err.splitlines()
    shown = [line for line in lines if "warning:" in line or "Warning" in line]
    assert shown, "a 2-epoch audit warns that the budget is short"
    assert all(line.startswith("sknoisy audit: warning: ") for line in shown), shown
    assert not any(".py:" in line for line in lines)
    # The advice names the option the user sets, not the estimator's parameter.
    assert any("--epochs" in line for line in shown)
    assert not any("max_epochs" in line for line in shown)


def test_the_feature_message_names_only_the_encodings_used(capsys):
    import pandas as pd

    from sknoisy.cli import _print_feature_columns

    frame = pd.DataFrame(
        {"size": [1.0, 2.0, 3.0], "colour": ["r", "g", "r"], "label": [0, 1, 0]}
    )
    _print_feature_columns(frame, "label", 4)
    assert "numbers twice, as quantiles and arcsinh-scaled, categories one-hot)" in (
        capsys.readouterr().err
    )
    _print_feature_columns(frame[["colour", "label"]], "label", 2)
    assert "(1 column; 2 inputs to the network: categories one-hot)" in (
        capsys.readouterr().err
    )
