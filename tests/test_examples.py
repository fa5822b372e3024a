"""Every example runs as a user would run it, headless, and saves its figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_examples_found():
    assert any(p.name.startswith("plot_") for p in EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # A warning would show in the gallery page: the settings should avoid it.
    assert "Warning:" not in result.stderr, result.stderr[-2000:]
    left = sorted(p.name for p in tmp_path.iterdir())
    figures = [name for name in left if name.endswith(".png")]
    if example.name.startswith("plot_"):  # sphinx-gallery runs these for figures
        assert figures, f"{example.name} saved no PNG in its working directory"
    # Temporary data belongs in a temporary directory: sphinx-gallery runs the
    # examples in examples/, where anything else would be left behind.
    assert left == figures, f"{example.name} left {left} in its working directory"
