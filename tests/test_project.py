"""Project hygiene: the README's commands, CI, and the house style."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sknoisy

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line for line in lines if line.startswith("python3 -m venv")]


def test_readme_has_the_two_commands():
    install_and_demo, install_and_test = readme_commands()
    assert install_and_demo.endswith("sknoisy demo")
    assert install_and_test.endswith("python -m pytest")
    assert all("-c constraints.txt" in c for c in (install_and_demo, install_and_test))


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def test_constraints_pin_torch_and_torchvision():
    pins = (ROOT / "constraints.txt").read_text()
    assert "torch==2.14.1" in pins and "torchvision==0.29.1" in pins


def test_public_api_is_sorted_and_importable():
    assert sknoisy.__all__ == sorted(sknoisy.__all__)
    for name in sknoisy.__all__:
        assert hasattr(sknoisy, name)


@pytest.mark.skipif(
    shutil.which("ruff") is None
    and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed",
)
@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_clean(command):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    paths = ["sknoisy", "tests", "benchmarks", "examples"]
    result = subprocess.run(
        [ruff, *command, *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
