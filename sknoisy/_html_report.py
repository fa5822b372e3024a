"""The label audit as one self-contained HTML page, for people to judge by eye.

:func:`render_audit_page` turns the ranked table of ``sknoisy audit`` into a
single page: the most suspicious rows with their given and refined labels and
scores (the images themselves, as thumbnails, for an image folder; the row's
cells for a table), the histogram of the noise scores, and the flags per given
class.

The page needs nothing but a browser: no network, no server, no JavaScript.
Images are inline ``data:`` URIs, the histogram is inline SVG, the style is
inline CSS, and a Content-Security-Policy forbids everything else (scripts
included). Every string that comes from the data (file names, labels, column
names, cells) is HTML-escaped, so a file called ``<script>...`` is shown, never
run.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

N_SUSPECTS = 100
"""How many of the flagged rows, the most suspicious first, the page shows."""

THUMBNAIL_SIZE = 128
"""Longest side, in pixels, of the thumbnails stored in the page."""

MAX_COLUMNS = 30
"""A table's suspects show at most this many of its columns."""

HISTOGRAM_BINS = 40
"""Bins of the noise-score histogram over [0, 1], as in the PNG histogram."""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
p.facts { margin: 0.2em 0; color: #444; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left;
         vertical-align: middle; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.missing { color: #999; }
td.changed { color: #b3261e; font-weight: 600; }
div.scroll { overflow-x: auto; }
img.thumb { width: 96px; height: 96px; object-fit: contain; background: #eee;
            image-rendering: pixelated; display: block; }
.path { font-family: ui-monospace, monospace; font-size: 0.9em;
        word-break: break-all; }
.kept { fill: #4c78a8; }
.flagged { fill: #f58518; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
"""


def _text(value) -> str:
    """A value from the data as HTML text: escaped, quotes included."""
    return html.escape(str(value), quote=True)


def render_audit_page(
    table,
    *,
    title: str,
    facts: Sequence[str] = (),
    frame=None,
    target: str | None = None,
    image_root=None,
    n_suspects: int = N_SUSPECTS,
) -> str:
    """The audit of a data set as one self-contained HTML page.

    Parameters
    ----------
    table : pandas.DataFrame
        Every audited row, ranked from the most to the least suspicious (as
        :func:`~sknoisy.audit.find_label_issues` ranks them), with columns
        ``given_label``, ``refined_label``, ``noise_score``, ``label_issue``
        (optionally ``suggestion``, shown per suspect) and either ``path``
        (an image folder: each row's image file) or ``source_row`` (a table:
        each row's position in ``frame``).
    title : str
        The page's heading.
    facts : sequence of str, default=()
        Lines shown under the heading (the data, the model, the verdict).
    frame : pandas.DataFrame or None, default=None
        The audited table, whose cells the suspects show; None for an image
        folder.
    target : str or None, default=None
        The label column of ``frame``, left out of the suspects' cells (the
        given label has its own column).
    image_root : path or None, default=None
        An image folder's root: its files are named relative to it.
    n_suspects : int, default=N_SUSPECTS
        How many flagged rows to show, the most suspicious first.

    Returns
    -------
    str
        The page, to be written as UTF-8.
    """
    flagged = table[table["label_issue"].to_numpy(dtype=bool)]
    shown = flagged.head(n_suspects)
    more = len(flagged) - len(shown)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        *(f'<p class="facts">{_text(line)}</p>' for line in facts),
        f'<h2 id="suspects">Most suspicious labels ({len(shown)} of '
        f"{len(flagged)} flagged)</h2>",
    ]
    if len(shown):
        if "source_row" in shown.columns:
            parts.append(
                "<p>A source row is the row's position among the table's data "
                "rows, counted from 0 (the <code>source_row</code> column of the "
                "CSV of label issues).</p>"
            )
        parts.append(_suspects_table(shown, frame, target, image_root))
        if more:
            parts.append(
                f"<p>{more} more flagged rows are not shown; the CSV of label "
                "issues lists them all.</p>"
            )
    else:
        parts.append("<p>No label was flagged.</p>")
    parts += [
        '<h2 id="scores">Noise scores</h2>',
        "<p>Higher: the label is more likely wrong. Bars stack the kept rows and "
        "the flagged ones; hover over a bar for its counts.</p>",
        _histogram_svg(
            table["noise_score"].to_numpy(dtype=float),
            table["label_issue"].to_numpy(dtype=bool),
        ),
        '<h2 id="classes">Flags per class</h2>',
        _per_class_table(table),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _suspects_table(shown, frame, target, image_root) -> str:
    """The flagged rows shown: rank, the image or the cells, labels, score."""
    images = "path" in shown.columns
    # Columns by position: a table may repeat a column name.
    columns = []
    if frame is not None:
        columns = [i for i, c in enumerate(frame.columns) if c != target]
    hidden = max(len(columns) - MAX_COLUMNS, 0)
    columns = columns[:MAX_COLUMNS]
    head = ["rank", *(["image", "file"] if images else ["source row"])]
    head += ["given label", "refined label", "noise score"]
    suggested = "suggestion" in shown.columns
    if suggested:
        head.append("suggestion")
    cells_head = "".join(f"<th>{_text(frame.columns[i])}</th>" for i in columns)
    rows = []
    for rank, row in enumerate(shown.itertuples(index=False), start=1):
        row = row._asdict()
        cells = [f'<td class="num">{rank}</td>']
        if images:
            cells.append(f"<td>{_thumbnail(row['path'])}</td>")
            name = _relative(row["path"], image_root)
            cells.append(f'<td class="path">{_text(name)}</td>')
        else:
            cells.append(f'<td class="num">{_text(row["source_row"])}</td>')
        refined_class = (
            ' class="changed"' if row["refined_label"] != row["given_label"] else ""
        )
        cells += [
            f"<td>{_text(row['given_label'])}</td>",
            f"<td{refined_class}>{_text(row['refined_label'])}</td>",
            f'<td class="num">{row["noise_score"]:.3f}</td>',
        ]
        if suggested:
            cells.append(f"<td>{_text(row['suggestion'])}</td>")
        if columns:
            values = frame.iloc[int(row["source_row"]), columns]
            cells += [_cell(v) for v in values]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = f"<p>{hidden} more columns are not shown.</p>" if hidden else ""
    return (
        '<div class="scroll"><table id="suspects-table"><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + cells_head
        + "</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
        + note
    )


def _relative(path, root) -> str:
    """``path`` relative to ``root`` where it lies inside, else as given."""
    if root is not None:
        try:
            return str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(path)


def _cell(value) -> str:
    """One cell of the source table, escaped; missing values shown as such."""
    try:
        missing = bool(value != value) or value is None  # NaN, NaT, None
    except (TypeError, ValueError):
        missing = False
    if missing:
        return '<td class="missing">missing</td>'
    if isinstance(value, float | np.floating):
        return f'<td class="num">{value:.4g}</td>'
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    return f"<td>{_text(value)}</td>"


def _thumbnail(path) -> str:
    """An ``<img>`` of the image at ``path``, inline as a data URI."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            photo = image.mode not in ("1", "L", "P", "LA", "PA", "RGBA")
            image = image.convert("RGB" if photo else "RGBA")
            buffer = io.BytesIO()
            # JPEG keeps photos small; PNG keeps drawings, greys and alpha exact.
            image.save(buffer, format="JPEG" if photo else "PNG", quality=85)
    except Exception:  # PIL raises many types for broken files
        return '<span class="missing">(unreadable)</span>'
    kind = "jpeg" if photo else "png"
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img class="thumb" src="data:image/{kind};base64,{data}" '
        f'alt="{_text(Path(str(path)).name)}">'
    )


def _histogram_svg(scores: np.ndarray, issues: np.ndarray) -> str:
    """Stacked bars of kept and flagged rows per noise-score bin, as inline SVG."""
    bins = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    clipped = np.clip(scores, 0.0, 1.0)
    kept, _ = np.histogram(clipped[~issues], bins=bins)
    flagged, _ = np.histogram(clipped[issues], bins=bins)
    # The legend sits in the top margin, above the bars.
    width, height, left, bottom, top, right = 640, 260, 48, 36, 32, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(int((kept + flagged).max(initial=0)), 1)
    bar_w = plot_w / HISTOGRAM_BINS

    def y_of(count):
        return top + plot_h * (1 - count / peak)

    shapes = []
    for i, (n_kept, n_flagged) in enumerate(zip(kept, flagged)):
        x = left + i * bar_w
        tip = (
            f"<title>scores {bins[i]:.3f} to {bins[i + 1]:.3f}: {n_kept} kept, "
            f"{n_flagged} flagged</title>"
        )
        for count, base, kind in ((n_kept, 0, "kept"), (n_flagged, n_kept, "flagged")):
            if count:
                y = y_of(base + count)
                shapes.append(
                    f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" '
                    f'width="{bar_w - 1:.1f}" height="{y_of(base) - y:.1f}">'
                    f"{tip}</rect>"
                )
    axes = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot_w
        axes.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{tick:g}</text>'
        )
    for count in sorted({0, peak // 2, peak}):
        axes.append(
            f'<text x="{left - 6}" y="{y_of(count) + 4:.1f}" '
            f'text-anchor="end">{count}</text>'
        )
    axes += [
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
        "noise score (higher: label more likely wrong)</text>",
        f'<text transform="translate(12 {top + plot_h / 2:.1f}) rotate(-90)" '
        'text-anchor="middle">rows</text>',
        f'<rect class="kept" x="{left}" y="6" width="10" height="10"/>',
        f'<text x="{left + 14}" y="15">kept ({int(kept.sum())})</text>',
        f'<rect class="flagged" x="{left + 110}" y="6" width="10" height="10"/>',
        f'<text x="{left + 124}" y="15">flagged ({int(flagged.sum())})</text>',
    ]
    return (
        f'<svg id="histogram" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        "<title>Histogram of the noise scores, kept and flagged rows</title>"
        + "".join(shapes)
        + "".join(axes)
        + "</svg>"
    )


def _per_class_table(table) -> str:
    """Rows and flagged rows per given class, and what the flagged became."""
    given = table["given_label"].to_numpy()
    refined = table["refined_label"].to_numpy()
    issues = table["label_issue"].to_numpy(dtype=bool)
    rows = []
    for label in np.unique(given):
        mine = given == label
        n_flagged = int(np.sum(issues & mine))
        targets, counts = np.unique(refined[issues & mine], return_counts=True)
        order = np.lexsort((targets.astype(str), -counts))
        became = ", ".join(f"{_text(targets[k])} ({counts[k]})" for k in order)
        rows.append(
            f'<tr><td>{_text(label)}</td><td class="num">{int(mine.sum())}</td>'
            f'<td class="num">{n_flagged}</td>'
            f'<td class="num">{n_flagged / mine.sum():.1%}</td>'
            f"<td>{became}</td></tr>"
        )
    total = len(given)
    rows.append(
        f'<tr><th>all</th><th class="num">{total}</th>'
        f'<th class="num">{int(issues.sum())}</th>'
        f'<th class="num">{issues.mean() if total else 0:.1%}</th><th></th></tr>'
    )
    return (
        '<table id="classes-table"><thead><tr><th>given label</th><th>rows</th>'
        "<th>flagged</th><th>share flagged</th><th>refined labels of the flagged "
        "rows</th></tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )
