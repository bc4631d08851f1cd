"""``SubmitForm``, the widget: its traitlets, the browser's commands (custom messages) and the
job it starts and follows. File transfer lives in ``_uploads``, the validation rules in
``_form_rules``; all network work runs off the kernel's thread."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import traitlets

from .. import _runtime
from .._display import format_duration, short_id
from .._validation import outcome_lines
from ..errors import LassoError, RuntimeThreadError, TableFailedError
from . import static_path
from ._form_outputs import FormOutputs
from ._form_preview import preview_of
from ._form_rules import SOURCES, FormRequest, describe, field_for, validate
from ._form_schemas import SchemaPicker
from ._resync import ResyncWidget
from ._uploads import CHUNK_BYTES, UploadInbox

if TYPE_CHECKING:
    import pandas as pd

    from ..client import Lasso
    from ..jobs import TableJob

__all__ = ["CHUNK_BYTES", "SubmitForm"]

log = logging.getLogger("lasso_notebook")

#: Default per-file limit: the bytes cross the notebook's websocket, so keep it sane.
DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024

FIELDS = ("form", "schema", "name", "source", "text", "files", "urls", "context", "enhance")
FIELDS += ("webhook",)


def _default_name() -> str:
    return f"Extraction {datetime.now():%Y-%m-%d %H:%M}"


def _user_namespace() -> dict[str, Any] | None:
    """The IPython user namespace, where ``result_var`` lands; None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    shell = get_ipython()
    return None if shell is None else shell.user_ns


class SubmitForm(FormOutputs, SchemaPicker, ResyncWidget):
    """A form to start a Lasso extraction: schema, table name, one source (text, files or URLs),
    optional context and webhook; then live progress and a preview of the rows.

    ``form.job`` is the running/last ``TableJob``, ``form.df`` the DataFrame once done,
    ``form.on_result(fn)`` calls ``fn(df)`` on completion, and ``result_var="df"`` stores the
    DataFrame in the notebook's namespace. The API key stays in the client, never in the state.
    """

    # Read once as text (a Path would make anywidget watch the file); shared CSS first.
    _esm = static_path("form.js").read_text(encoding="utf-8")
    _css = (
        static_path("lasso.css").read_text(encoding="utf-8")
        + "\n"
        + static_path("form.css").read_text(encoding="utf-8")
    )

    # -- schema picker ---------------------------------------------------------------------
    #: [{id, name, description, columns_count}] as listed by the API.
    schemas = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: idle (never loaded) | loading | ready | error
    schemas_status = traitlets.Unicode("idle").tag(sync=True)
    schemas_message = traitlets.Unicode("").tag(sync=True)
    schema_id = traitlets.Unicode("").tag(sync=True)
    #: The selected schema's columns: {schema_id, status, description, columns: [{key, label,
    #: type, description}], message}.
    schema_preview = traitlets.Dict().tag(sync=True)

    # -- the request -----------------------------------------------------------------------
    name = traitlets.Unicode("").tag(sync=True)
    source = traitlets.Unicode("text").tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    urls = traitlets.Unicode("").tag(sync=True)
    context = traitlets.Unicode("").tag(sync=True)
    enhance = traitlets.Unicode("").tag(sync=True)
    webhook = traitlets.Unicode("").tag(sync=True)
    #: [{fid, name, size, received, status, error, file_id}]
    files = traitlets.List(traitlets.Dict()).tag(sync=True)
    max_file_bytes = traitlets.Int(DEFAULT_MAX_FILE_BYTES).tag(sync=True)
    #: {field: message}; fields: form (top), schema, name, source, text, files, urls, context,
    #: enhance, webhook.
    errors = traitlets.Dict().tag(sync=True)

    # -- the job ---------------------------------------------------------------------------
    #: idle | submitting | running | completed | failed
    phase = traitlets.Unicode("idle").tag(sync=True)
    #: {id, name, status, phase, progress, total_rows, elapsed, error_message, reused,
    #: reuse_message}; ``reused``: an identical earlier extraction's table was reused ("Extract
    #: again" then makes a new one).
    job_state = traitlets.Dict().tag(sync=True)
    #: {columns: [{key, label, type}], rows: [{index, cells: [str]}], total_rows}
    preview = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        schema: str | None = None,
        name: str | None = None,
        result_var: str | None = None,
        client: Lasso | None = None,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        **kwargs: Any,
    ) -> None:
        if result_var is not None and not result_var.isidentifier():
            raise ValueError(f"result_var must be a Python identifier, got {result_var!r}")
        super().__init__(name=name or _default_name(), max_file_bytes=max_file_bytes, **kwargs)
        self.result_var = result_var
        self._client = client
        self._wanted_schema = schema
        self._lock = threading.RLock()
        self._inbox = UploadInbox()
        self._job_fids: list[str] = []  # the files the current job uploads
        self._callbacks: list[Callable[[pd.DataFrame], Any]] = []
        self._job: TableJob | None = None
        self._last_values: dict[str, Any] | None = None  # what the last submit sent
        self._df: pd.DataFrame | None = None
        self._generation = 0  # bumped per submission/reset, so stale work cannot write state
        self._schemas_future: Any = None
        self.on_msg(self._on_custom_msg)

    # -- public Python API -------------------------------------------------------------------

    @property
    def client(self) -> Lasso:
        """The client this form uses; the default one (maybe starting the embedded engine) when
        none was given. Resolved on the caller's thread, never on the runtime thread."""
        if self._client is None:
            from ..client import default_client

            self._client = default_client()
        return self._client

    @property
    def job(self) -> TableJob | None:
        """The job this form started last (running or finished), or None."""
        return self._job

    @property
    def df(self) -> pd.DataFrame | None:
        """The finished table as a DataFrame; None until a job completed."""
        return self._df

    def on_result(self, fn: Callable[[pd.DataFrame], Any]) -> Callable[[pd.DataFrame], Any]:
        """Call ``fn(df)`` when a job started here completes (on lasso_notebook's background
        thread: keep it short, and use the async API there). Usable as a decorator."""
        with self._lock:
            self._callbacks.append(fn)
        return fn

    def refresh_schemas(self, wait: bool = False) -> None:
        """Reload the schema list (what the refresh control does). ``wait=True`` blocks until it
        is loaded, so it is refused on lasso_notebook's background thread (in an ``on_result``
        callback), where the wait would deadlock."""
        if wait and _runtime.in_runtime_thread():
            raise RuntimeThreadError(
                "refresh_schemas(wait=True) was called on lasso_notebook's runtime thread (an "
                "on_result callback?), where it would deadlock; call refresh_schemas() there"
            )
        future = self._load_schemas()
        if wait:
            _runtime.wait_future(future)

    def close(self) -> None:
        self._inbox.close()
        super().close()

    # -- text form ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        schema = self._schema_name(self.schema_id) or self._wanted_schema or "no schema"
        head = f"SubmitForm · schema {schema!s} · {self.phase}"
        state = self.job_state
        if state.get("id") or self.phase == "submitting":
            parts = [f'{short_id(state.get("id"))} "{state.get("name") or self.name}"']
            parts.append(str(state.get("status") or self.phase))
            if state.get("phase") not in ("completed", "failed", "cancelled"):
                parts[-1] += f" {state.get('progress', 0)}%"
            parts.append(f"{state.get('total_rows', 0)} rows")
            if state.get("elapsed") is not None:
                parts.append(format_duration(state.get("elapsed")))
            head += " · " + " · ".join(parts)
            if state.get("error_message"):
                head += f" · error: {state['error_message']}"
            if state.get("reuse_message"):
                head += f" · {state['reuse_message']}"
        errors = [f"{key}: {message}" for key, message in self.errors.items() if message]
        if errors:
            head += " · " + "; ".join(errors)
        return head

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Shown now: fetch the schema list, so the picker fills while the view loads.
        if self.schemas_status == "idle":
            self._load_schemas()
        return super()._repr_mimebundle_(**kwargs)

    # -- commands from the browser ------------------------------------------------------------

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            if kind == "refresh":
                self._load_schemas()
            elif kind == "select_schema":
                self._select_schema(str(content.get("schema_id") or ""))
            elif kind == "submit":
                values = content.get("values")
                self.submit(values if isinstance(values, dict) else {})
            elif kind == "file_start":
                self._file_start(content)
            elif kind == "file_chunk":
                self._file_chunk(content, buffers)
            elif kind == "file_end":
                self._file_end(content)
            elif kind == "file_remove":
                self._file_remove(str(content.get("fid") or ""))
            elif kind == "reset":
                self.reset()
            elif kind == "extract_again":
                self.extract_again()
            else:
                log.debug("SubmitForm: unknown message %r", kind)
        except Exception as exc:  # a bug here must show in the form, not vanish in a log
            log.exception("SubmitForm: %s failed", kind)
            message = f"Internal error ({type(exc).__name__}): {exc}"
            if kind in ("file_start", "file_chunk"):
                self._file_failed(str(content.get("fid") or ""), message)
            self._set_errors({"form": message})

    def _file_failed(self, fid: str, message: str) -> None:
        # The browser waits for an answer to every start and chunk: a failure is one too.
        with contextlib.suppress(Exception):  # the comm may be what failed
            self._refuse_file(fid, message)
        if self._inbox.fail(fid, message):
            self._publish_files()

    # -- files: browser → kernel --------------------------------------------------------------

    def _publish_files(self) -> None:
        with self._lock:
            self.files = self._inbox.public()

    def _file_start(self, content: dict[str, Any]) -> None:
        # Every start is answered: an ack at 0 bytes lets the browser send the first chunk, a
        # refusal ends its transfer and shows its message on that file (so it is not repeated
        # in ``errors``). Until then the browser sends nothing: a refused file costs no bytes.
        fid = str(content.get("fid") or "")
        refused = self._inbox.start(
            fid,
            str(content.get("name") or ""),
            content.get("size"),
            str(content.get("mime") or ""),
            limit=self.max_file_bytes,
            busy=self.phase in ("submitting", "running"),
        )
        if refused:
            self._refuse_file(fid, refused)
            return
        self.send({"type": "file_ack", "fid": fid, "received": 0})
        self._publish_files()

    def _file_chunk(self, content: dict[str, Any], buffers: list[Any]) -> None:
        fid = str(content.get("fid") or "")
        data = bytes(buffers[0]) if buffers else b""
        outcome, received, message = self._inbox.chunk(fid, content.get("offset"), data)
        if outcome == "ack":
            self.send({"type": "file_ack", "fid": fid, "received": received})
        else:
            self._refuse_file(fid, message)
        if outcome != "gone":
            self._publish_files()

    def _refuse_file(self, fid: str, message: str) -> None:
        """Tell the browser to stop sending ``fid``, and why (shown on that file)."""
        self.send({"type": "file_refused", "fid": fid, "message": message})

    def _file_end(self, content: dict[str, Any]) -> None:
        if self._inbox.end(str(content.get("fid") or ""), content.get("sha256")):
            self._publish_files()

    def _file_remove(self, fid: str) -> None:
        if self.phase in ("submitting", "running"):
            return  # the job may be reading the file right now
        if not self._inbox.remove(fid):
            return
        self._publish_files()
        if self.errors.get("files"):
            self._set_errors({k: v for k, v in self.errors.items() if k != "files"}, merge=False)

    # -- validation (the browser checked already; the kernel never trusts it) ----------------

    def _validate(self, values: dict[str, Any]) -> tuple[FormRequest | None, dict[str, str]]:
        return validate(values, self._inbox.snapshot())

    def _set_errors(self, errors: dict[str, str], merge: bool = True) -> None:
        with self._lock:
            self.errors = {**self.errors, **errors} if merge else dict(errors)

    # -- submit, follow, finish --------------------------------------------------------------

    def submit(
        self, values: dict[str, Any] | None = None, *, refresh: bool = False
    ) -> TableJob | None:
        """Submit the form (what the Extract button does); ``values`` default to the form's
        current state. Returns the started ``TableJob`` (also ``form.job``), or None when the
        input was refused (the reasons are in ``form.errors``). An identical earlier extraction
        is reused unless ``refresh=True``."""
        if values is None:
            values = {
                "schema_id": self.schema_id,
                "name": self.name,
                "source": self.source,
                "text": self.text,
                "urls": self.urls,
                "context": self.context,
                "enhance": self.enhance,
                "webhook": self.webhook,
                "files": [f["fid"] for f in self.files],
            }
        with self._lock:
            if self.phase in ("submitting", "running"):
                return None  # one job per form at a time; the button is disabled too
            # What the user submitted becomes the form's state (a saved notebook shows it).
            with self.hold_sync():
                for key in ("name", "text", "urls", "context", "enhance", "webhook"):
                    value = values.get(key)
                    if isinstance(value, str) and getattr(self, key) != value:
                        setattr(self, key, value)
                if values.get("source") in SOURCES:
                    self.source = values["source"]
                if isinstance(values.get("schema_id"), str):
                    self.schema_id = values["schema_id"]
            request, errors = self._validate(values)
            if request is None:
                self.errors = errors
                return None
            self._generation += 1
            generation = self._generation
            self._last_values = dict(values)
            self._job_fids = [incoming.fid for incoming in request.files]
            with self.hold_sync():
                self.errors = {}
                self.phase = "submitting"
                self.job_state = {"name": request.name, "status": "submitting", "progress": 0}
                self.preview = {}
            self._job = None
            self._df = None
        # ``jobs.submit`` only checks its input here and returns at once: uploads, the create
        # call and polling run on the runtime thread, so the kernel's thread stays free.
        try:
            job = self._start_job(request, refresh)
        except Exception as exc:
            self._submission_failed(exc, generation)
            return None
        with self._lock:
            if generation != self._generation:
                return job
            self._job = job
            self.phase = "running"
        self._copy_job_state(job)
        job.add_update_callback(lambda changed: self._job_changed(changed, generation))
        job.add_done_callback(lambda done: self._job_done(done, generation))
        return job

    def extract_again(self) -> TableJob | None:
        """What "Extract again" does after a reused result: submit the same request once more
        with ``refresh=True`` (a new extraction). None when the last job was not reused."""
        job = self._job
        with self._lock:
            values = self._last_values
        if job is None or not job.reused or values is None or self.phase != "completed":
            return None
        return self.submit(values, refresh=True)

    def _start_job(self, request: FormRequest, refresh: bool = False) -> TableJob:
        from .. import jobs

        job = jobs.submit(
            request.schema_id,
            request.name,
            text=request.text,
            # The reassembled temp files; the job uploads them with the Files API under the
            # browser's file name (the temp file carries it).
            files=[incoming.path for incoming in request.files] or None,
            urls=request.urls,
            context=request.context,
            enhance=request.enhance,
            webhook=request.webhook,
            client=self.client,
            progress=False,
            refresh=refresh,
        )
        job.refresh_hint = 'click "Extract again"'
        return job

    def _submission_failed(self, exc: BaseException, generation: int) -> None:
        """No table was created: the error goes next to its field (or on top), the form is
        editable again and nothing the user entered is lost."""
        field_name, message = field_for(exc), describe(exc)
        if not isinstance(exc, LassoError):
            log.error("SubmitForm: submission failed", exc_info=exc)
        with self._lock:
            if generation != self._generation:
                return
            # No table, so the bytes were kept (they are deleted once a table exists).
            self._inbox.move(self._job_fids, ("uploading", "uploaded"), "received")
            with self.hold_sync():
                self._publish_files()
                self.errors = {field_name: message}
                self.phase = "idle"
                self.job_state = {}

    def _copy_job_state(self, job: TableJob) -> bool:
        """Copy what the job knows into ``job_state``; True when something changed."""
        phase = getattr(job, "phase", None)
        elapsed = getattr(job, "elapsed", None)
        state = {
            "id": job.id or "",
            "name": job.name or "",
            "status": str(job.status or ""),
            "phase": str(getattr(phase, "value", phase) or ""),
            "progress": int(job.progress or 0),
            "total_rows": int(job.total_rows or 0),
            # The browser keeps the clock ticking between updates.
            "elapsed": elapsed,
            "error_message": self.job_state.get("error_message", ""),
            "reused": bool(getattr(job, "reused", False)),
            "reuse_message": str(getattr(job, "reuse_message", "")),
        }
        self._mirror_uploads(job)
        if state == self.job_state:
            return False
        self.job_state = state
        return True

    def _mirror_uploads(self, job: TableJob) -> None:
        # The job uploads the files before it creates the table: "uploading" while it says so,
        # "uploaded" once the table exists (it was created from them). From then on the server
        # has the bytes, so the temp files go at once instead of waiting for reset or close.
        with self._lock:
            target = "uploaded" if job.id else "uploading" if job.status == "uploading" else ""
            if getattr(job, "reused", False):
                # Nothing was uploaded: the bytes stay for "Extract again".
                target = ""
            if not target:
                return
            changed = self._inbox.move(self._job_fids, ("received", "uploading"), target)
            if target == "uploaded":
                self._inbox.discard_data(self._job_fids)
            if changed:
                self._publish_files()

    def _job_changed(self, job: TableJob, generation: int) -> None:
        # The job calls this on every change of its state; the final state is copied on done.
        if generation == self._generation and self.phase == "running":
            self._copy_job_state(job)

    def _job_done(self, job: TableJob, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
        error = getattr(job, "error", None)
        df = None
        if error is None:
            try:
                df = job.df
            except Exception as exc:  # a job without a frame must still end the form's wait
                error = exc
            if df is None and error is None:
                error = LassoError("the job ended without a DataFrame")
        if error is not None and not job.id:
            # The table was never created (unknown schema, refused request, failed upload):
            # that is a submission error, shown next to its field.
            self._submission_failed(error, generation)
            return
        if error is not None:
            message = (
                error.error_message if isinstance(error, TableFailedError) else describe(error)
            )
            self._copy_job_state(job)
            report = outcome_lines(job.table, None)[1]
            with self.hold_sync():
                self.job_state = {**self.job_state, "error_message": message, "report": report}
                self.phase = "failed"
            return
        self._df = df
        self._copy_job_state(job)
        with self.hold_sync():
            self.preview = preview_of(df, self.schema_preview.get("columns", []))
            validation, report = outcome_lines(job.table, df)
            self.job_state = {
                **self.job_state,
                "total_rows": len(df),
                "progress": 100,
                "validation": validation,
                "report": report,
            }
            self.phase = "completed"
        self._deliver(df)

    def _deliver(self, df: pd.DataFrame) -> None:
        if self.result_var:
            namespace = _user_namespace()
            if namespace is not None:
                namespace[self.result_var] = df
            else:
                log.info("SubmitForm: no IPython namespace for result_var=%r", self.result_var)
        with self._lock:
            callbacks = list(self._callbacks)
        for fn in callbacks:
            try:
                fn(df)
            except Exception as exc:
                log.exception("SubmitForm: on_result callback %r failed", fn)
                self._set_errors({"form": f"on_result callback failed: {exc!r}"})

    def reset(self) -> None:
        """Start over ("New extraction"): clear the request and the result view, keep the
        schema. ``form.df`` and ``form.job`` keep the last result until the next submit."""
        with self._lock:
            if self.phase in ("submitting", "running"):
                return
            self._generation += 1
            self._inbox.clear()
            self._job_fids = []
            with self.hold_sync():
                self.name = _default_name()
                self.text = ""
                self.urls = ""
                self.context = ""
                self.enhance = ""
                self.webhook = ""
                self.files = []
                self.errors = {}
                self.phase = "idle"
                self.job_state = {}
                self.preview = {}
