"""Turning a magic line into arguments: splitting it (outer quotes, parse errors as a short
``MagicError``) and expanding the ``--file`` paths and globs into the files to upload."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring

from ._magic_errors import MagicError

__all__ = ["expand_files", "parse"]


def parse(func: Any, line: str, magic: str) -> Any:
    """The arguments of ``func``'s ``@magic_arguments`` in ``line``, outer quotes removed."""
    hint = f"see %{magic}? for the options"
    try:
        args = parse_argstring(func, line)
    except UsageError as exc:
        raise MagicError(f"%{magic}: {exc} ({hint})") from None
    except ValueError as exc:  # shlex: "No closing quotation"
        raise MagicError(f"%{magic}: cannot split the options: {exc} ({hint})") from None
    for name, value in vars(args).items():
        setattr(args, name, _unquote(value))
    return args


def _unquote(value: Any) -> Any:
    """magic_arguments splits the line without removing quotes (so Windows paths keep their
    backslashes); strip one pair of matching outer quotes from each value ourselves."""
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def expand_files(patterns: list[str]) -> list[str]:
    """Each ``--file`` value is a path or a glob; every pattern must match at least one file."""
    paths: list[str] = []
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        if glob.has_magic(expanded):
            matches = sorted(p for p in glob.glob(expanded, recursive=True) if Path(p).is_file())
            if not matches:
                raise MagicError(
                    f"%lasso_table: no file matches --file {pattern!r} (in {os.getcwd()}); "
                    "check the pattern"
                )
            paths.extend(matches)
        elif Path(expanded).is_file():
            paths.append(expanded)
        elif Path(expanded).is_dir():
            raise MagicError(
                f"%lasso_table: --file {pattern!r} is a folder; use a glob such as "
                f"--file '{pattern.rstrip('/')}/*.pdf'"
            )
        else:
            raise MagicError(
                f"%lasso_table: no such file: {pattern!r} (in {os.getcwd()}); check the path"
            )
    # A file matched by two patterns is uploaded once.
    return list(dict.fromkeys(paths))
