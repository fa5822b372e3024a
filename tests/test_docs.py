"""The documentation site's sources: every public name on the API pages, the
gallery and the docs build wired up. Reads the sources only (no Sphinx build)."""

import ast
import re
from importlib import import_module
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sknoisy"
DOCS = ROOT / "docs"
# Public modules whose names the API reference need not list: the command line
# is documented by its own --help, which the user guide includes.
UNDOCUMENTED_MODULES = {"sknoisy.cli"}


def public_modules() -> list[str]:
    """``sknoisy`` and every module of it whose name has no leading underscore."""
    modules = ["sknoisy"]
    for path in sorted(PACKAGE.glob("*.py")):
        if not path.stem.startswith("_"):
            modules.append(f"sknoisy.{path.stem}")
    return [m for m in modules if m not in UNDOCUMENTED_MODULES]


def module_source(module: str) -> ast.Module:
    parts = module.split(".")[1:]
    path = PACKAGE / "__init__.py" if not parts else PACKAGE / f"{parts[0]}.py"
    return ast.parse(path.read_text())


def public_names(module: str) -> set[str]:
    """The module's ``__all__``, or else its public top-level defs and classes."""
    tree = module_source(module)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
    }


AUTODOC = re.compile(r"^\.\. auto(?:class|function|data|exception)::\s+(\S+)")


def rst_sources(docs: Path) -> list[Path]:
    """The site's own ``.rst`` pages: not templates, nor what the build makes."""
    generated = {"_build", "_templates", "generated", "auto_examples"}
    return sorted(
        path
        for path in docs.rglob("*.rst")
        if not generated & set(path.relative_to(docs).parts)
    )


def documented_names(docs: Path = DOCS) -> set[str]:
    """Fully qualified names that the API pages document (``.rst`` sources).

    Reads ``.. currentmodule::`` and the entries of ``.. autosummary::`` blocks
    (and any ``.. autofunction::`` or similar directive) the way Sphinx resolves
    them: relative to the current module.
    """
    names = set()
    for path in rst_sources(docs):
        current = None
        in_autosummary = False
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(".. currentmodule::"):
                current = stripped.split("::", 1)[1].strip()
                in_autosummary = False
            elif stripped.startswith(".. autosummary::"):
                in_autosummary = True
            elif match := AUTODOC.match(stripped):
                names.add(_qualify(match.group(1), current))
            elif in_autosummary:
                if line and not line[0].isspace():
                    in_autosummary = False  # the block ended
                elif stripped and not stripped.startswith(":"):
                    names.add(_qualify(stripped, current))
    return names


def _qualify(name: str, current: str | None) -> str:
    name = name.lstrip("~")
    if current is None or name.startswith("sknoisy."):
        return name
    return f"{current}.{name}"


def test_public_modules_are_found():
    found = set(public_modules())
    for module in ("sknoisy", "sknoisy.audit", "sknoisy.noise", "sknoisy.mixture"):
        assert module in found
    assert not any(m.split(".")[-1].startswith("_") for m in found)


@pytest.mark.parametrize("module", public_modules())
def test_every_public_name_is_on_the_api_pages(module):
    documented = documented_names()
    missing = sorted(
        name for name in public_names(module) if f"{module}.{name}" not in documented
    )
    assert not missing, f"add to docs/api/{module}.rst: {missing}"


def test_the_api_pages_name_only_what_exists():
    modules = set(public_modules())
    stale = []
    for name in sorted(documented_names()):
        module, _, attribute = name.rpartition(".")
        # At run time: the package imports its estimators on first use.
        if module not in modules or not hasattr(import_module(module), attribute):
            stale.append(name)
    assert not stale


def test_the_estimators_and_audit_tools_are_documented():
    documented = documented_names()
    for name in (
        "sknoisy.WrongEventClassifier",
        "sknoisy.ALRClassifier",
        "sknoisy.CrossEntropyClassifier",
        "sknoisy.audit.find_label_issues",
        "sknoisy.audit.LabelNoiseFilter",
        "sknoisy.audit.NoiseFilteredClassifier",
        "sknoisy.benchmark.run_benchmark",
    ):
        assert name in documented


def test_documented_names_reads_autosummary_blocks(tmp_path):
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "stub.rst").write_text(".. autofunction:: x.y\n")
    (tmp_path / "api.rst").write_text(
        ".. currentmodule:: sknoisy.noise\n\n"
        ".. autosummary::\n   :toctree: generated/\n\n   flip_labels\n   LabelNoise\n\n"
        "Text after the block, not a name.\n\n"
        ".. autofunction:: sknoisy.metrics.detection_report\n"
    )
    assert documented_names(tmp_path) == {
        "sknoisy.noise.flip_labels",
        "sknoisy.noise.LabelNoise",
        "sknoisy.metrics.detection_report",
    }


def gallery_conf() -> dict:
    tree = ast.parse((DOCS / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "sphinx_gallery_conf"
            for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py sets no sphinx_gallery_conf")


def test_the_gallery_runs_every_example():
    conf = gallery_conf()
    examples = DOCS / conf["examples_dirs"]
    assert examples.resolve() == (ROOT / "examples").resolve()
    assert (examples / "README.txt").exists()  # the gallery's header
    scripts = sorted(examples.glob("plot_*.py"))
    assert scripts
    for script in scripts:
        # sphinx-gallery matches the pattern against the file's path
        assert re.search(conf["filename_pattern"], f"/{script.name}"), script.name
        assert not re.search(conf["ignore_pattern"], f"/{script.name}"), script.name


def test_ci_builds_the_site_with_warnings_as_errors():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sphinx-build -W -b html docs docs/_build/html" in ci
    assert '-e ".[docs]"' in ci


def test_the_docs_packages_are_pinned():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["docs"]
    pins = {
        line.split("==")[0].lower()
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in extra:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        assert name in pins, f"{name} is not pinned in constraints.txt"
    for package in ("sphinx", "numpydoc", "sphinx-gallery", "myst-parser"):
        assert package in pins
