"""What the magics say when something goes wrong: ``MagicError`` (shown without a traceback),
the one- or two-line message for each library error, and the checks of a ``%lasso_table`` line
that need no server."""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from typing import Any

from .errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BatchFailedError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TableFailedError,
    TableMayExistError,
    UnprocessableEntityError,
    WaitTimeoutError,
    search_arg,
)
from .models import is_http_url

__all__ = [
    "MagicError",
    "check_attach",
    "check_source",
    "check_var",
    "check_wait",
    "user_message",
]


class MagicError(Exception):
    """A mistake or failure the user can act on. IPython shows only these lines (no traceback)
    and the cell still ends in error, so "Run All" stops here instead of at a later NameError."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)

    def _render_traceback_(self) -> list[str]:
        # IPython's hook for exceptions that format themselves (ipyparallel uses it too).
        return self.lines


# --------------------------------------------------------------------------- library errors

#: (error class, first line after "%magic: ", second line or None), most specific class first:
#: the first class the error is an instance of gives its message. A line is a string or a
#: function of the error.
_Line = Callable[[Any], str]
_MESSAGES: tuple[tuple[type[BaseException], _Line, _Line | str | None], ...] = (
    (
        TableFailedError,
        lambda e: f"table {e.table_id} ({e.table.name!r}) {e.table.status}: {e.error_message}",
        lambda e: (
            f"It holds {e.total_rows:,} row{'s' * (e.total_rows != 1)} all the same: "
            f"import lasso_notebook; df = lasso_notebook.attach({e.table_id!r}).wait().frame()"
            if e.total_rows
            else "Check the source and options, then run the cell again."
        ),
    ),
    (BatchFailedError, str, None),
    (WaitTimeoutError, str, None),
    (
        AuthenticationError,
        lambda e: (
            f"the Lasso API refused the key (401: {e.message})."
            if e.key_sent
            else f"no API key is set, and the Lasso API asks for one (401: {e.message})."
        ),
        lambda e: (
            "Check LASSO_API_KEY, or unset it (and LASSO_BASE_URL) to use the embedded engine."
            if e.key_sent
            else "Set LASSO_API_KEY, or unset LASSO_BASE_URL to use the embedded engine."
        ),
    ),
    (
        InsufficientCreditsError,
        lambda e: f"not enough credits (402: {e.message}).",
        "Add credits to the Lasso account, or unset LASSO_API_KEY to use the embedded engine.",
    ),
    (
        PermissionDeniedError,
        lambda e: f"this key may not do that (403: {e.message}).",
        "Use a key of the workspace that owns the schema or table.",
    ),
    (
        NotFoundError,
        lambda e: f"not found (404: {e.message}).",
        "Check the id; %lasso tables and %lasso schemas list what exists.",
    ),
    (
        UnprocessableEntityError,
        lambda e: f"the server rejected the request (422: {e.message}).",
        lambda e: _fix_hint(e.message),
    ),
    (
        RateLimitError,
        lambda e: (
            f"rate limited (429) for longer than the job's budget: gave up following table "
            f"{e.table_id}, which goes on on the server."
            if e.table_id
            else f"the Lasso API is rate limiting this key (429: {e.message})."
        ),
        lambda e: (
            f"Later: df = %lasso_table --attach {e.table_id} (%config "
            "LassoMagics.rate_limit_budget sets how long a job waits)."
            if e.table_id
            else "Wait a minute and run the cell again."
        ),
    ),
    (
        APIStatusError,
        lambda e: f"the Lasso API answered {e}.",
        "Try again in a moment; if it persists, check %lasso config.",
    ),
    (
        TableMayExistError,
        lambda e: (
            f"the Lasso API stopped answering while creating table {e.table_name!r}; "
            "it may exist on the server."
        ),
        lambda e: (
            "Run the cell again once the API answers: it attaches to that table instead of "
            "making another."
            if e.recorded
            else f"Find it with %lasso tables --search {search_arg(e.table_name)}, then "
            "df = %lasso_table --attach tbl_… (the one created just now)."
        ),
    ),
    (
        APIConnectionError,
        lambda e: f"cannot reach the Lasso API ({e.message}).",
        "Check your network and LASSO_BASE_URL (%lasso config shows it).",
    ),
)


#: Words of a refusal (request fields and plain words) → the part of the cell they concern.
_OPTION_WORDS = (
    (r"webhook(?:_url)?", "--webhook"),
    (r"(?:file_)?urls?", "--url"),
    (r"files?|file_ids", "--file"),
    (r"source_text", "the cell body"),
    (r"additional_context", "--context"),
    (r"enhancement_context", "--enhance"),
    (r"schema(?:_id)?", "--schema"),
    (r"name", "--name"),
)


def _fix_hint(message: str) -> str:
    """What to fix after a 422: the option the refusal names first, or, when it names none,
    the cell as a whole."""
    text = str(message).lower()
    found = [
        (match.start(), option)
        for pattern, option in _OPTION_WORDS
        if (match := re.search(rf"\b(?:{pattern})\b", text))
    ]
    if found:
        return f"Fix {min(found)[1]} as the message says, then run the cell again."
    return "Change the cell as the message says, then run it again."


def user_message(exc: BaseException, *, magic: str = "lasso_table") -> list[str]:
    """One or two lines for an error the user can act on, each led by ``%magic:`` (the key never
    appears: error messages of the client are built without headers)."""
    if isinstance(exc, MagicError):
        return exc.lines
    for cls, headline, hint in _MESSAGES:
        if isinstance(exc, cls):
            second = hint(exc) if callable(hint) else hint
            return [f"%{magic}: {headline(exc)}", *([second] if second else [])]
    return [f"%{magic}: {exc}"]


# --------------------------------------------------------------------------- %lasso_table checks


def check_var(var: str | None) -> None:
    if var is not None and (not var.isidentifier() or keyword.iskeyword(var)):
        raise MagicError(
            f"%lasso_table: {var!r} is not a valid Python variable name; the first word after "
            "the magic is the variable that receives the DataFrame"
        )


def check_wait(args: Any) -> None:
    """``--timeout`` is positive and only limits a blocking wait."""
    if args.timeout is not None and not args.timeout > 0:  # also refuses nan
        raise MagicError("%lasso_table: --timeout must be a positive number of seconds")
    if args.background and args.timeout is not None:
        raise MagicError(
            "%lasso_table: --timeout limits a blocking wait; drop it or drop --background"
        )


def check_attach(args: Any, text: str | None) -> None:
    """``--attach`` follows an existing table: nothing that would start one may be given."""
    extra = [
        flag
        for flag, given in (
            ("the cell body", text is not None),
            ("--file", bool(args.file)),
            ("--url", bool(args.url)),
            ("--schema", args.schema is not None),
            ("--name", args.name is not None),
            ("--context", args.context is not None),
            ("--enhance", args.enhance is not None),
            ("--webhook", args.webhook is not None),
            ("--refresh", bool(getattr(args, "refresh", False))),
            ("--no-reuse", bool(getattr(args, "no_reuse", False))),
        )
        if given
    ]
    if extra:
        raise MagicError(
            f"%lasso_table: --attach follows an existing table; remove {', '.join(extra)}"
        )


def check_source(args: Any, text: str | None) -> None:
    """Exactly one kind of source, and every URL an http(s) one."""
    kinds = [
        kind
        for kind, given in (
            ("the cell body", text is not None),
            ("--file", bool(args.file)),
            ("--url", bool(args.url)),
        )
        if given
    ]
    if not kinds:
        raise MagicError(
            "%lasso_table: no source: write the text in the cell body (%%lasso_table), "
            "or pass --file PATH or --url URL (or --attach TABLE_ID)"
        )
    if len(kinds) > 1:
        raise MagicError(
            f"%lasso_table: one kind of source per table, got {' and '.join(kinds)}; "
            "keep one of them"
        )
    for flag, url in [("--url", u) for u in args.url] + [("--webhook", args.webhook)]:
        if url is not None and not _is_http(url):
            raise MagicError(f"%lasso_table: {flag} {url!r} is not an http(s) URL; fix it")


def _is_http(url: str) -> bool:
    try:
        return is_http_url(url)
    except ValueError:  # urlsplit: "Invalid IPv6 URL" (e.g. 'http://[::1')
        return False
