"""The exception tree of lasso_notebook, and the mapping from an HTTP error response to it.

    LassoError
    ├── APIConnectionError            the request may not have reached the server
    │   ├── APITimeoutError
    │   └── TableMayExistError        a create got no answer and the look-up none either: a
    │                                 table may exist (the message says how to find it)
    ├── APIStatusError                the server answered with an error status
    │   ├── BadRequestError           400 invalid_request
    │   ├── AuthenticationError       401 unauthenticated
    │   ├── InsufficientCreditsError  402 insufficient_credits
    │   ├── PermissionDeniedError     403 forbidden
    │   ├── NotFoundError             404 not_found
    │   ├── ConflictError             409 conflict
    │   ├── UnprocessableEntityError  422 validation_error
    │   ├── RateLimitError            429 rate_limited (also: a job rate limited for longer
    │   │                             than its budget; .table_id names the table it followed)
    │   └── InternalServerError       5xx
    ├── TableFailedError              the table ended failed or cancelled
    ├── BatchFailedError              a batch gave no DataFrame (every table failed; strict)
    ├── WaitTimeoutError              a wait ran out before the table finished (also a TimeoutError)
    ├── JobDetachedError              a job stopped following its table (detach / "Stop watching")
    ├── EngineStartError              the embedded engine cannot start (port taken, data dir unusable)
    └── RuntimeThreadError            a blocking call was made from the runtime thread itself

Input mistakes caught before any request (a bad create-table request) raise ``ValueError``
subclasses: ``InvalidRequestError``. Values that did not fit their column type (set to NA in
the DataFrame) are reported with a warning, ``UnparsedValuesWarning`` (a ``UserWarning``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from .models import Table

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchFailedError",
    "ConflictError",
    "EngineStartError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidRequestError",
    "JobDetachedError",
    "LassoError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RuntimeThreadError",
    "TableFailedError",
    "TableMayExistError",
    "UnparsedValuesWarning",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "from_response",
]


class LassoError(Exception):
    """Base of every error lasso_notebook raises on purpose."""


class UnparsedValuesWarning(UserWarning):
    """Some values of a table did not fit their column's type and are NA in the DataFrame."""


class InvalidRequestError(LassoError, ValueError):
    """A request was refused before it was sent; the message says what to change."""


class RuntimeThreadError(LassoError, RuntimeError):
    """A blocking call was made on the background runtime thread, where it would deadlock."""


class APIConnectionError(LassoError):
    """The server could not be reached, or the connection broke before an answer arrived."""

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        #: False when the connection was never made, so the server cannot have acted on it.
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class TableMayExistError(APIConnectionError):
    """``POST /tables`` got no usable answer (its response was lost, or a 500/502/504), and the
    look-up for the table it may have made got no answer either, for as long as the create
    would have been retried (an outage). A table named ``table_name`` may exist on the server;
    the message says how to find and attach it. ``recorded``: the reuse index remembers the
    create, so the same ``submit()`` or cell run again looks for that table first."""

    def __init__(self, table_name: str, reason: str) -> None:
        self.table_name = table_name
        #: What went wrong: the create's failure and the look-up's.
        self.reason = reason
        self.recorded = False
        super().__init__(self._text(), request_sent=True)

    def mark_recorded(self) -> None:
        """The reuse index keeps the create as lost: say that a re-run finds the table."""
        self.recorded = True
        self.message = self._text()
        self.args = (self.message,)

    def _text(self) -> str:
        name = self.table_name
        rerun = (
            "Run the same cell or submit() again once the API answers: it looks for that "
            "table first and attaches to it. Or find it yourself: "
            if self.recorded
            else "Find it: "
        )
        return (
            f"a table named {name!r} may have been created, but the Lasso API did not confirm "
            f"it ({self.reason}). {rerun}%lasso tables --search {search_arg(name)} (or "
            f"client.tables.list(search={name!r})) lists it; take the one created just now "
            "and follow it with lasso_notebook.attach('tbl_…') (its id)."
        )


def search_arg(name: str) -> str:
    """``name`` quoted for a magic line (``%lasso tables --search "Q1 catalog"``)."""
    if '"' not in name:
        return f'"{name}"'
    return f"'{name}'" if "'" not in name else name


class APIStatusError(LassoError):
    """The server answered with an error status (the Lasso error envelope, when it sent one)."""

    status_code: int = 0
    default_error_type = "error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: str | None = None,
        request_id: str = "",
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_type = error_type or self.default_error_type
        self.request_id = request_id
        self.body = body
        self.response = response

    def __str__(self) -> str:
        text = f"{self.status_code} {self.error_type}: {self.message}"
        return f"{text} (request {self.request_id})" if self.request_id else text


class BadRequestError(APIStatusError):
    status_code = 400
    default_error_type = "invalid_request"


class AuthenticationError(APIStatusError):
    status_code = 401
    default_error_type = "unauthenticated"
    #: False when the request carried no API key at all (``LASSO_BASE_URL`` set, no key):
    #: the server did not refuse a key, it asked for one. Set by the client that sent it.
    key_sent: bool = True

    def __str__(self) -> str:
        if not self.key_sent:
            return (
                f"{super().__str__()} — no API key was sent: set LASSO_API_KEY (or unset "
                "LASSO_BASE_URL to use the embedded engine)"
            )
        return f"{super().__str__()} — check LASSO_API_KEY (unset it to use the embedded engine)"


class InsufficientCreditsError(APIStatusError):
    status_code = 402
    default_error_type = "insufficient_credits"


class PermissionDeniedError(APIStatusError):
    status_code = 403
    default_error_type = "forbidden"


class NotFoundError(APIStatusError):
    status_code = 404
    default_error_type = "not_found"


class ConflictError(APIStatusError):
    status_code = 409
    default_error_type = "conflict"


class UnprocessableEntityError(APIStatusError):
    status_code = 422
    default_error_type = "validation_error"


class RateLimitError(APIStatusError):
    status_code = 429
    default_error_type = "rate_limited"
    #: The table a job stopped following because it was rate limited for longer than its
    #: ``rate_limit_budget`` (None for a single refused request); it goes on on the server.
    table_id: str | None = None


class InternalServerError(APIStatusError):
    status_code = 500
    default_error_type = "internal_error"


_BY_STATUS: dict[int, type[APIStatusError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        InsufficientCreditsError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        UnprocessableEntityError,
        RateLimitError,
    )
}


def _class_for(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


def from_response(response: httpx.Response) -> APIStatusError:
    """Build the exception for an error response, with or without a JSON envelope."""
    status = response.status_code
    body: Any = None
    message = ""
    error_type = None
    request_id = response.headers.get("x-request-id", "")
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("detail") or "")
        error_type = body.get("error_type")
        request_id = str(body.get("request_id") or request_id)
    if not message:
        text = response.text.strip() if body is None else ""
        # A proxy's HTML error page is noise to the user; keep only short plain text.
        if text and len(text) <= 200 and not text.lstrip().startswith("<"):
            message = text
        else:
            message = response.reason_phrase or "HTTP error"
    return _class_for(status)(
        message,
        status_code=status,
        error_type=error_type,
        request_id=request_id,
        body=body,
        response=response,
    )


class TableFailedError(LassoError):
    """The table ended ``failed`` (or ``cancelled``); ``error_message`` is the server's reason.
    ``total_rows``: the rows it holds all the same (written before it failed);
    ``rows_hint`` says how to get them (``job.frame()`` of the job that followed it)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.table_id = table.id
        self.total_rows = table.total_rows
        self.error_message = table.error_message or f"table ended {table.status}"
        message = f"table {table.id} ({table.name!r}) {table.status}: {self.error_message}"
        if self.total_rows:
            message += f" ({self.rows_hint})"
        super().__init__(message)

    @property
    def rows_hint(self) -> str:
        """E.g. ``it holds 12 rows: lasso_notebook.attach('tbl_…').wait().frame() returns
        them``; "" for a table without rows."""
        if not self.total_rows:
            return ""
        rows = f"{self.total_rows:,} row" + ("" if self.total_rows == 1 else "s")
        return (
            f"it holds {rows}: job.frame() or lasso_notebook.attach({self.table_id!r})"
            ".wait().frame() returns them"
        )


class BatchFailedError(LassoError):
    """A batch gave no DataFrame: every table failed, or (``strict=True``) a file failed.
    ``failures`` lists each failed file (``FileFailure``: source, reason, table id)."""

    def __init__(self, message: str, failures: list[Any]) -> None:
        super().__init__(message)
        self.failures = failures


class EngineStartError(LassoError, RuntimeError):
    """The embedded engine could not start; the message is one line: what happened, what to do."""


class JobDetachedError(LassoError):
    """The job stopped following its table (``detach()`` or "Stop watching"); the table goes on
    on the server and ``attach(id)`` follows it again."""


class WaitTimeoutError(LassoError, TimeoutError):
    """A wait ended before the table finished. The table goes on; ``table`` is the last seen."""

    def __init__(self, message: str, table: Table | None = None) -> None:
        super().__init__(message)
        self.table = table
