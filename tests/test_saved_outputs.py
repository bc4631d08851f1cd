"""The text/plain and text/html a progress widget leaves for readers without widgets, in each
final state (completed with rows and the validation line, failed with the reason, detached),
with every server string escaped; what makes the saved output be re-sent after a cell."""

from __future__ import annotations

from typing import Any

import pytest

from lasso_notebook.widgets.progress import ProgressWidget


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    import comm
    from test_progress_widget import RecordingComm

    monkeypatch.setattr(comm, "create_comm", RecordingComm)


def widget(**state: Any) -> ProgressWidget:
    base = {"table_id": "tbl_8f2c9a01", "name": "Q1 <b>catalog</b>", "elapsed": 8.2}
    return ProgressWidget(**{**base, **state})


def test_completed_failed_and_detached_fallbacks() -> None:
    done = widget(
        status="completed",
        phase="completed",
        progress=100,
        total_rows=24,
        note="→ df (24 rows)",
        validation='24 rows: 22 valid · 2 with errors — price: 2 values not a number ("free")',
    )
    data, _ = done.fallback_bundle()
    assert "application/vnd.jupyter.widget-view+json" in data
    first, second = data["text/plain"].splitlines()
    assert first == 'tbl_8f… "Q1 <b>catalog</b>" · completed · 24 rows · 8 s · → df (24 rows)'
    assert second.startswith("24 rows: 22 valid")
    html = data["text/html"]
    assert 'data-state="completed"' in html and "✓" in html and "completed · 24 rows" in html
    assert "<b>catalog" not in html and "&lt;b&gt;catalog&lt;/b&gt;" in html
    assert "&quot;free&quot;" in html

    failed = widget(status="failed", phase="failed", error_message="<script>x</script> unreadable")
    html = failed.fallback_html()
    assert 'data-state="failed"' in html and "✗" in html and "color: #d32f2f" in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt; unreadable" in html
    assert "failed" in failed.fallback_text() and "unreadable" in failed.fallback_text()

    detached = widget(status="processing", phase="running", progress=45, detached=True)
    assert 'data-state="detached"' in detached.fallback_html()
    assert "detached (processing 45%)" in detached.fallback_text()


def test_the_saved_output_is_resent_on_a_change_of_state_not_of_the_clock() -> None:
    running = widget(status="processing", phase="running", progress=10, total_rows=3)
    key = running.fallback_key()
    running.set_trait("progress", 60)
    running.set_trait("total_rows", 40)
    running.set_trait("elapsed", 30.0)
    assert running.fallback_key() == key  # ticking values: no re-render of the widget view
    running.set_trait("phase", "completed")
    running.set_trait("status", "completed")
    assert running.fallback_key() != key
    key = running.fallback_key()
    running.set_trait("total_rows", 41)  # once finished, the row count is part of the outcome
    assert running.fallback_key() != key
