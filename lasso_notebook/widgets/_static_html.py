"""Static HTML of the widgets' state, for outputs read without the widget (nbconvert, GitHub, a
frontend without widget support): every string escaped, inline styles only (no script, no CSS
file), so it renders the same wherever HTML is shown and stays inert where styles are stripped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["form_html", "progress_html"]

_COLOURS = {
    "completed": "#2e7d32",
    "failed": "#d32f2f",
    "cancelled": "#d32f2f",
    "detached": "#9e9e9e",
}
_MARKS = {"completed": "✓", "failed": "✗", "cancelled": "✗", "detached": "⏸"}


def _box(state: str, lines: Sequence[str]) -> str:
    colour = _COLOURS.get(state, "#1976d2")
    body = "".join(lines)
    return (
        f'<div class="lasso-static" data-state="{escape(state)}" style="border-left: 4px solid '
        f'{colour}; padding: 2px 10px; margin: 2px 0">{body}</div>'
    )


def _line(text: str, style: str = "") -> str:
    if not text:
        return ""
    attribute = f' style="{style}"' if style else ""
    return f"<div{attribute}>{escape(text)}</div>"


def progress_html(*, state: str, status_text: str, error: str, lines: Sequence[str]) -> str:
    """A progress widget as a bordered block: the status line (led by ✓ / ✗ / ⏸ once
    finished), the error in red, then the note, validation and report lines."""
    mark = _MARKS.get(state, "")
    head = (
        f"<div><strong>{escape(mark)}</strong> {escape(status_text)}</div>"
        if mark
        else (_line(status_text))
    )
    return _box(
        state,
        [head, _line(error, "color: #d32f2f"), *(_line(text) for text in lines)],
    )


def form_html(
    *,
    title: str,
    phase: str,
    status_text: str,
    error: str,
    lines: Sequence[str],
    preview: Mapping[str, Any],
) -> str:
    """The submit form once shown: what it was for, how its job ended, and the preview table
    it showed (cells as text)."""
    state = phase if phase in _COLOURS else "running" if phase in ("submitting", "running") else ""
    parts = [f"<div><strong>{escape(title)}</strong></div>", _line(status_text)]
    parts.append(_line(error, "color: #d32f2f"))
    parts += [_line(text) for text in lines]
    columns = list(preview.get("columns") or [])
    rows = list(preview.get("rows") or [])
    if columns and rows:
        head = "".join(f"<th>{escape(str(c.get('key', '')))}</th>" for c in columns)
        body = "".join(
            "<tr><th>"
            + escape(str(row.get("index", "")))
            + "</th>"
            + "".join(f"<td>{escape(str(cell))}</td>" for cell in row.get("cells", []))
            + "</tr>"
            for row in rows
        )
        parts.append(
            f'<table class="lasso-static-preview"><thead><tr><th>#</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )
    return _box(state or "idle", parts)
