"""Project hygiene: the README's commands, CI, and the house style."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sknoisy

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    """The README's two one-line commands, each from a fresh venv to a result."""
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line for line in lines if line.startswith("python3 -m venv .venv && ")]


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


# A method's private subpackage is tested by the method's test module.
SUBPACKAGE_TESTS = {"_ido": "test_wrong_event.py", "_alr": "test_alr.py"}
# Modules whose behaviour other test modules cover: what they are covered by.
COVERED_ELSEWHERE = {
    "__main__": "test_cli.py",
    "_docstrings": "test_project.py",
}


def test_every_package_module_has_its_test_module():
    missing = []
    for path in sorted((ROOT / "sknoisy").rglob("*.py")):
        relative = path.relative_to(ROOT / "sknoisy")
        if path.name == "__init__.py":
            continue
        if len(relative.parts) > 1:
            expected = SUBPACKAGE_TESTS[relative.parts[0]]
        else:
            name = path.stem
            expected = COVERED_ELSEWHERE.get(name, f"test_{name.lstrip('_')}.py")
        if not (ROOT / "tests" / expected).exists():
            missing.append(f"{relative}: {expected}")
    assert not missing


def test_docstring_fragments_are_substituted():
    for estimator in (sknoisy.WrongEventClassifier, sknoisy.ALRClassifier):
        assert "%(" not in estimator.__doc__
        assert "random_state : int" in estimator.__doc__
        assert "noise_scores_ : ndarray" in estimator.__doc__
