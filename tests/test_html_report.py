"""The audit's HTML page: escaping, content, ``audit --html``, and a real browser."""

import base64
import html
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sknoisy._html_report import HISTOGRAM_BINS, MAX_COLUMNS, render_audit_page
from sknoisy.cli import main

from .conftest import write_image_folder

SCRIPT = "<script>document.title='PWNED'</script>"
"""Planted where a ``/`` may go (labels and cells of a table): sets the title."""

OPEN_SCRIPT = "<script>document.title='PWNED'"
"""The same for file and folder names, which cannot hold ``/``: an unclosed
``<script>`` still becomes a script element if it reaches the page raw."""

ONERROR = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
"""Marks the body if it reaches the page raw."""


class Page(HTMLParser):
    """What the tests read from a page: every tag, the title and the tables.

    ``tables[id]`` holds the body rows of the table with that id, each a list
    of cell texts; ``images[id]`` holds, per row, the ``src`` of its images.
    """

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.tables, self.images = [], {}, {}
        self.title = None
        self._table = self._row = self._text = None
        self._in_body = self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table], self.images[self._table] = [], []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
            self.tables[self._table].append(self._row)
            self.images[self._table].append([])
        elif tag in ("td", "th") and self._row is not None:
            self._text = []
        elif tag == "img" and self._row is not None:
            self.images[self._table][-1].append(attrs.get("src", ""))
        elif tag == "title" and self.title is None:
            self._in_title, self.title = True, ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._text is not None:
            self._row.append("".join(self._text).strip())
            self._text = None
        elif tag == "tr":
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)
        if self._in_title:
            self.title += data


def ranked(given, refined, scores, issues, **where):
    """A table ranked as ``sknoisy audit`` ranks it (highest score first)."""
    table = pd.DataFrame(
        {
            **where,
            "given_label": given,
            "refined_label": refined,
            "noise_score": scores,
            "label_issue": issues,
        }
    )
    return table.sort_values("noise_score", ascending=False, kind="stable")


def assert_no_markup_from_the_data(page: str, payloads) -> None:
    assert "<script" not in page.lower()
    assert "<img src=x" not in page and 'onerror="' not in page
    for payload in payloads:
        assert html.escape(payload, quote=True) in page


# -- the page, rendered from a hand-built table -------------------------------------
def test_labels_columns_and_cells_from_a_table_are_escaped():
    frame = pd.DataFrame(
        {
            "x": [1.5, np.nan, 3.0, 4.0],
            ONERROR: ["a", SCRIPT, "c", "d"],
            "label": [SCRIPT, "b", "b", ONERROR],
        }
    )
    table = ranked(
        given=frame["label"].to_numpy(),
        refined=["b", "b", "b", "b"],
        scores=[0.9, 0.8, 0.1, 0.7],
        issues=[True, True, False, True],
        source_row=[0, 1, 2, 3],
    )
    page = render_audit_page(
        table, title=f"audit of {SCRIPT}", facts=[ONERROR], frame=frame, target="label"
    )
    assert_no_markup_from_the_data(page, [SCRIPT, ONERROR])
    parsed = Page(page)
    assert parsed.title == f"audit of {SCRIPT}", "escaped, then read back as text"
    rows = parsed.tables["suspects-table"]
    assert [row[1] for row in rows] == ["0", "1", "3"], "ranked source rows"
    assert rows[0][2:] == [SCRIPT, "b", "0.900", "1.5", "a"]
    assert rows[1][5:] == ["missing", SCRIPT]
    header = page.split('id="suspects-table"')[1].split("</thead>")[0]
    assert f"<th>{html.escape(ONERROR)}</th>" in header
    assert "<th>label</th>" not in header, "the target is the given label's column"


def test_suspects_are_the_flagged_rows_capped_and_counted_per_class():
    rng = np.random.default_rng(0)
    given = np.array(["cat"] * 6 + ["dog"] * 4)
    scores = rng.uniform(size=10)
    issues = scores > 0.5
    refined = np.where(issues, np.where(given == "cat", "dog", "cat"), given)
    table = ranked(given, refined, scores, issues, source_row=np.arange(10))
    table["suggestion"] = np.where(table["label_issue"], "relabel", "keep")
    table.loc[table.index[1], "suggestion"] = "review"  # shown as it is
    text = render_audit_page(table, title="t", n_suspects=2)
    assert f"{issues.sum() - 2} more flagged rows are not shown" in text
    page = Page(text)
    shown = page.tables["suspects-table"]
    top = table[table["label_issue"]].head(2)
    assert [int(row[1]) for row in shown] == top["source_row"].tolist()
    assert [row[5] for row in shown] == top["suggestion"].tolist()
    classes = page.tables["classes-table"]
    for row, label in zip(classes, ["cat", "dog"]):
        mine = given == label
        assert row[:3] == [label, str(mine.sum()), str((issues & mine).sum())]
        other = "dog" if label == "cat" else "cat"
        if (issues & mine).any():
            assert row[4] == f"{other} ({(issues & mine).sum()})"
    assert classes[-1][:3] == ["all", "10", str(issues.sum())]

    # The histogram's bars: the counts np.histogram gives, per bin.
    text = render_audit_page(table, title="t")
    bins = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    kept = np.histogram(scores[~issues], bins)[0]
    flagged = np.histogram(scores[issues], bins)[0]
    expected = {
        (f"{bins[i]:.3f}", int(kept[i]), int(flagged[i]))
        for i in np.flatnonzero(kept + flagged)
    }
    tips = re.findall(r"scores ([\d.]+) to [\d.]+: (\d+) kept, (\d+) flagged", text)
    assert {(low, int(k), int(f)) for low, k, f in tips} == expected
    assert f"kept ({(~issues).sum()})" in text
    assert f"flagged ({issues.sum()})" in text


def test_a_wide_table_shows_its_first_columns_and_says_how_many_more():
    frame = pd.DataFrame(
        [range(MAX_COLUMNS + 6)], columns=[f"c{i}" for i in range(MAX_COLUMNS + 6)]
    )
    frame = frame.rename(columns={"c0": "label", "c2": "c1"})  # a repeated name
    table = ranked(["0"], ["1"], [0.9], [True], source_row=[0])
    page = render_audit_page(table, title="t", frame=frame, target="label")
    (row,) = Page(page).tables["suspects-table"]
    assert row[5:] == [str(i) for i in range(1, MAX_COLUMNS + 1)]
    assert "5 more columns are not shown" in page


def test_no_flagged_row_is_said_so():
    table = ranked(
        ["a", "b"], ["a", "b"], [0.2, 0.1], [False, False], source_row=[0, 1]
    )
    page = render_audit_page(table, title="t")
    assert "No label was flagged." in page and "suspects-table" not in page


def test_images_are_inline_thumbnails_named_relative_to_the_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / OPEN_SCRIPT
    folder.mkdir()
    big = folder / f"{ONERROR}.png"
    Image.new("RGB", (300, 200), "red").save(big)
    small = folder / "small.png"
    Image.new("L", (16, 16), 128).save(small)
    broken = folder / "broken.png"
    broken.write_bytes(b"not an image")
    table = ranked(
        given=[OPEN_SCRIPT] * 3,
        refined=["other"] * 3,
        scores=[0.9, 0.8, 0.7],
        issues=[True, True, True],
        path=[str(big), str(small), str(broken)],
    )
    page = render_audit_page(table, title="t", image_root=tmp_path)
    assert_no_markup_from_the_data(page, [OPEN_SCRIPT, ONERROR])
    parsed = Page(page)
    rows = parsed.tables["suspects-table"]
    assert [row[2] for row in rows] == [
        f"{OPEN_SCRIPT}/{ONERROR}.png",
        f"{OPEN_SCRIPT}/small.png",
        f"{OPEN_SCRIPT}/broken.png",
    ]
    assert rows[2][1] == "(unreadable)"
    images = parsed.images["suspects-table"]
    assert [len(srcs) for srcs in images] == [1, 1, 0]
    sizes = []
    for (src,) in images[:2]:
        kind, data = src.split(";base64,")
        assert kind in ("data:image/png", "data:image/jpeg")
        sizes.append(Image.open(io.BytesIO(base64.b64decode(data))).size)
    assert sizes == [(128, 85), (16, 16)], "shrunk to 128 pixels, never enlarged"


def test_the_page_loads_nothing_from_outside():
    table = ranked(["a", "b"], ["b", "b"], [0.9, 0.1], [True, False], source_row=[0, 1])
    page = render_audit_page(table, title="t")
    parsed = Page(page)
    assert (
        "meta",
        {
            "http-equiv": "Content-Security-Policy",
            "content": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        },
    ) in parsed.tags
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed", "base"}
    for _, attrs in parsed.tags:
        assert not [name for name in attrs if name.startswith("on")]
        assert "href" not in attrs
        assert attrs.get("src", "data:").startswith("data:")
    assert "http:" not in page and "https:" not in page and "url(" not in page


# -- sknoisy audit --html ------------------------------------------------------------
def audit(*args, epochs=3):
    return main(["audit", *args, "--epochs", str(epochs), "--no-progress"])


@pytest.fixture(scope="module")
def table_audit(tmp_path_factory):
    """A tiny CSV audited with --html: a quarter of its labels redrawn at random,
    labels, a column name and cells carrying planted markup."""
    root = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    frame[ONERROR] = np.where(frame["b"] > 0, SCRIPT, "plain")
    classes = np.array(["no", "yes", SCRIPT])
    labels = classes[np.digitize(frame["a"], [-0.4, 0.4])]
    redrawn = rng.random(60) < 0.25
    labels[redrawn] = rng.choice(classes, redrawn.sum())
    frame["label"] = labels
    frame.to_csv(root / "data.csv", index=False)
    code = audit(
        str(root / "data.csv"),
        "--target",
        "label",
        "--all",
        "--out",
        str(root / "issues.csv"),
        "--html",
        str(root / "audit.html"),
        epochs=12,  # enough for both of IDO's stages: some rows get flagged
    )
    assert code == 0
    return root / "audit.html", pd.read_csv(root / "issues.csv"), [SCRIPT, ONERROR]


@pytest.fixture(scope="module")
def image_audit(tmp_path_factory):
    """A tiny image folder audited with --html: class folders and file names carry
    planted markup, and a third of the images are in the wrong class."""
    root = tmp_path_factory.mktemp("images")
    folder = write_image_folder(root / "images", per_class=6)
    (folder / "digit_1").rename(folder / ONERROR)
    (folder / "digit_2").rename(folder / OPEN_SCRIPT)
    classes = ["digit_0", ONERROR, OPEN_SCRIPT]
    for c, name in enumerate(classes):
        wrong = classes[(c + 1) % 3]
        for k, path in enumerate(sorted((folder / name).iterdir())):
            # Every file name carries markup; two per class move to the next.
            home = folder / (wrong if k < 2 else name)
            path.rename(home / f"{OPEN_SCRIPT}{ONERROR} {c}-{k}.png")
    code = audit(
        str(folder),
        "--grayscale",
        "--image-size",
        "8",
        "--all",
        "--out",
        str(root / "issues.csv"),
        "--html",
        str(root / "audit.htm"),
    )
    assert code == 0
    return root / "audit.htm", pd.read_csv(root / "issues.csv"), [OPEN_SCRIPT, ONERROR]


def test_audit_of_a_table_writes_the_page(table_audit):
    path, issues, payloads = table_audit
    page = path.read_text(encoding="utf-8")
    assert_no_markup_from_the_data(page, payloads)
    parsed = Page(page)
    flagged = issues[issues["label_issue"]]
    assert len(flagged), "a quarter of the labels are noise: some are flagged"
    rows = parsed.tables["suspects-table"]
    assert [int(row[1]) for row in rows] == flagged["source_row"].head(100).tolist()
    assert [row[2] for row in rows] == flagged["given_label"].head(100).tolist()
    counts = issues.groupby("given_label")["label_issue"].agg(["size", "sum"])
    classes = parsed.tables["classes-table"][:-1]
    assert [(r[0], int(r[1]), int(r[2])) for r in classes] == [
        (label, n, k) for label, (n, k) in counts.iterrows()
    ]


def test_audit_of_an_image_folder_shows_the_images(image_audit):
    path, issues, payloads = image_audit
    page = path.read_text(encoding="utf-8")
    assert_no_markup_from_the_data(page, payloads)
    parsed = Page(page)
    flagged = issues[issues["label_issue"]]
    assert len(flagged), "an 18-image, 3-epoch audit flags some rows"
    rows = parsed.tables["suspects-table"]
    assert len(rows) == len(flagged)
    assert all(len(srcs) == 1 for srcs in parsed.images["suspects-table"])
    root = path.parent / "images"
    assert [row[2] for row in rows] == [
        str(Path(p).relative_to(root)) for p in flagged["path"]
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--html", "audit.txt"], "--html audit.txt: the suffix must be one of"),
        (["--html", "missing/audit.html"], "does not exist"),
        (["--html", "folder.html"], "is a folder"),
    ],
)
def test_html_is_checked_before_training(tmp_path, monkeypatch, capsys, extra, message):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"a": range(8), "label": ["x", "y"] * 4}).to_csv(
        "data.csv", index=False
    )
    (tmp_path / "folder.html").mkdir()
    code = main(["audit", "data.csv", "--target", "label", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "training" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "folder.html"]


def test_a_failure_while_writing_the_page_writes_nothing(tmp_path, monkeypatch):
    import sknoisy.cli as cli

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cli, "render_audit_page", failing)
    pd.DataFrame({"a": range(8), "label": ["x", "y"] * 4}).to_csv(
        tmp_path / "data.csv", index=False
    )
    code = audit(
        str(tmp_path / "data.csv"),
        "--target",
        "label",
        "--html",
        str(tmp_path / "a.html"),
    )
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


# -- a real browser ----------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "Chromium is not installed (apt-get install chromium): the page is not "
            "checked in a real browser here"
        )
    return found


def rendered_dom(chromium, page_path, profile) -> Page:
    """The DOM Chromium builds from the page, once it has loaded."""
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # as root, in containers
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page_path.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "<body" in result.stdout, result.stderr[-2000:]
    return Page(result.stdout)


def assert_no_script_ran(dom: Page, title: str) -> None:
    assert dom.title == title, "the title is the page's own, not PWNED"
    body = [attrs for tag, attrs in dom.tags if tag == "body"]
    assert body == [{}], "no script marked the body"
    assert not [tag for tag, _ in dom.tags if tag == "script"]
    assert not [
        attrs for _, attrs in dom.tags if any(a.startswith("on") for a in attrs)
    ]


def test_the_browser_check_catches_a_script_that_runs(chromium, tmp_path):
    """The check below can fail: the same browser runs the same payloads raw."""
    raw = tmp_path / "raw.html"
    raw.write_text(f"<!DOCTYPE html><title>t</title><body>{SCRIPT}{ONERROR}</body>")
    dom = rendered_dom(chromium, raw, tmp_path / "profile")
    assert dom.title == "PWNED"
    assert [attrs for tag, attrs in dom.tags if tag == "body"] == [{"data-pwned": "1"}]


@pytest.mark.parametrize("kind", ["table", "images"])
def test_the_page_renders_in_chromium_and_runs_no_script_from_the_data(
    chromium, kind, table_audit, image_audit, tmp_path
):
    path, issues, payloads = table_audit if kind == "table" else image_audit
    page = path.read_text(encoding="utf-8")
    title = Page(page).title
    flagged = issues[issues["label_issue"]].head(100)

    dom = rendered_dom(chromium, path, tmp_path / "profile")
    assert_no_script_ran(dom, title)
    rows = dom.tables["suspects-table"]
    assert len(rows) == len(flagged) > 0
    assert [row[3 if kind == "images" else 2] for row in rows] == flagged[
        "given_label"
    ].tolist()
    if kind == "images":
        srcs = dom.images["suspects-table"]
        assert all(len(s) == 1 and s[0].startswith("data:image/") for s in srcs)
    assert len(dom.tables["classes-table"]) == issues["given_label"].nunique() + 1
    assert any(tag == "svg" for tag, _ in dom.tags), "the histogram"
    shown = {cell for row in rows for cell in row} | {
        row[0] for row in dom.tables["classes-table"]
    }
    assert set(payloads) & shown, "the planted markup is shown as text"

    # Escaping alone keeps the data inert: without the page's
    # Content-Security-Policy, still nothing runs.
    bare = tmp_path / "bare.html"
    bare.write_text(
        page.replace('http-equiv="Content-Security-Policy"', 'name="no-csp"'),
        encoding="utf-8",
    )
    assert 'http-equiv="Content-Security-Policy"' not in bare.read_text()
    assert_no_script_ran(rendered_dom(chromium, bare, tmp_path / "profile"), title)
