"""The submit form's saved output: its text and static HTML (what it was for, how its job ended,
the validation line and the preview table), kept up to date after each cell by ``_fallback``.
A mixin of ``SubmitForm``, which provides ``phase``, ``job_state``, ``errors`` and ``preview``."""

from __future__ import annotations

from typing import Any

from ._fallback import FallbackDisplay
from ._static_html import form_html

__all__ = ["FormOutputs"]


class FormOutputs(FallbackDisplay):
    phase: Any
    job_state: Any
    errors: Any
    preview: Any
    schema_id: Any
    _wanted_schema: str | None
    _schema_name: Any  # SchemaPicker's: schema id -> its name

    def _outcome(self) -> list[str]:
        state = self.job_state or {}
        return [str(state.get(key) or "") for key in ("validation", "report") if state.get(key)]

    def fallback_text(self) -> str:
        return "\n".join([repr(self), *self._outcome()])

    def fallback_html(self) -> str:
        state = self.job_state or {}
        errors = "; ".join(f"{k}: {v}" for k, v in (self.errors or {}).items() if v)
        schema = self._schema_name(self.schema_id) or self._wanted_schema or "no schema"
        return form_html(
            title=f"Lasso extraction form · schema {schema}",
            phase=str(self.phase),
            status_text=_job_text(state),
            error=str(state.get("error_message") or errors),
            lines=self._outcome(),
            preview=self.preview or {},
        )

    def fallback_key(self) -> tuple[Any, ...]:
        state = dict(self.job_state or {})
        for ticking in ("elapsed", "progress", "total_rows"):
            state.pop(ticking, None)
        return (
            self.phase,
            self.schema_id,
            tuple(sorted((k, str(v)) for k, v in state.items())),
            tuple(sorted((self.errors or {}).items())),
            (self.preview or {}).get("total_rows"),
        )


def _job_text(state: dict[str, Any]) -> str:
    if not state.get("name"):
        return ""
    from .._display import format_duration

    parts = [f'{state.get("id") or "(no table yet)"} "{state["name"]}"', str(state.get("status"))]
    if state.get("phase") in ("completed", "failed", "cancelled"):
        rows = int(state.get("total_rows") or 0)
        parts.append(f"{rows} row" + ("" if rows == 1 else "s"))
    if state.get("elapsed") is not None:
        parts.append(format_duration(state.get("elapsed")))
    return " · ".join(parts)
