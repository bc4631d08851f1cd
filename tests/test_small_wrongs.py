"""The small wrongs of issue 16, each pinned: ``submit()`` refuses an unknown schema before a job
exists, a 401 without a key says there is no key, ``lasso-engine --help`` names itself,
``JobInterrupted`` is public, and an uploaded CSV's progress moves in steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import lasso_notebook as ln
from lasso_notebook import InvalidRequestError, Lasso
from lasso_notebook.errors import AuthenticationError
from lasso_notebook.server.extract import Source, extract

CSV = "name;sku;price\n" + "".join(f"Widget {i};W{i:03d};{i}.50\n" for i in range(5))


def test_submit_with_an_unknown_schema_raises_before_a_job_exists(engine: Any) -> None:
    with Lasso(api_key=engine.api_key, base_url=engine.base_url) as client:
        jobs_before = len(ln.jobs())
        tables_before = client.tables.list().pagination.total
        with pytest.raises(InvalidRequestError) as info:
            ln.submit("Prodcts", text=CSV, client=client, progress=False)
        assert "did you mean 'Products'" in str(info.value)
        assert len(ln.jobs()) == jobs_before  # no job was started
        assert client.tables.list().pagination.total == tables_before
        # A known name still starts a job, and the job keeps the resolved schema.
        job = ln.submit("products", text=CSV, client=client, progress=False)
        assert job.result(timeout=60).shape[0] == 5


def test_a_401_without_a_key_says_no_key_was_sent(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lasso_notebook._magic_errors import user_message

    monkeypatch.delenv("LASSO_API_KEY", raising=False)
    with Lasso(base_url=engine.base_url) as keyless, pytest.raises(AuthenticationError) as info:
        keyless.schemas.list()
    assert info.value.key_sent is False
    assert "no API key was sent" in str(info.value) and "refused" not in str(info.value)
    first, second = user_message(info.value)
    assert first.startswith("%lasso_table: no API key is set") and "401" in first
    assert "Set LASSO_API_KEY" in second

    wrong = Lasso(api_key="lasso_" + "0" * 64, base_url=engine.base_url)
    with wrong, pytest.raises(AuthenticationError) as refused:
        wrong.schemas.list()
    assert refused.value.key_sent is True
    assert "refused the key" in user_message(refused.value)[0]


def test_lasso_engine_help_names_the_script() -> None:
    script = Path(sys.executable).parent / "lasso-engine"
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.startswith("usage: lasso-engine ")
    module = subprocess.run(
        [sys.executable, "-m", "lasso_notebook.server", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert module.stdout.startswith("usage: python -m lasso_notebook.server ")


def test_job_interrupted_is_public() -> None:
    from lasso_notebook import JobInterrupted
    from lasso_notebook.jobs import JobInterrupted as same

    assert JobInterrupted is same and issubclass(JobInterrupted, KeyboardInterrupt)
    assert "JobInterrupted" in ln.__all__


def test_every_error_of_the_readme_tree_is_public() -> None:
    # The README's error tree names TableMayExistError, JobDetachedError, RuntimeThreadError…:
    # `except lasso_notebook.<Name>` must work for each, not only via lasso_notebook.errors.
    from lasso_notebook import errors

    classes = [name for name in errors.__all__ if isinstance(getattr(errors, name), type)]
    assert {"TableMayExistError", "JobDetachedError", "RuntimeThreadError"} <= set(classes)
    for name in classes:
        assert getattr(ln, name) is getattr(errors, name), name
        assert name in ln.__all__, name


COLUMNS = [
    {"key": "name", "label": "name", "type": "text"},
    {"key": "sku", "label": "sku", "type": "text"},
    {"key": "price", "label": "price", "type": "number"},
]


@pytest.mark.parametrize("rows", [5, 150, 900, 20_000])
def test_an_uploaded_csv_moves_in_steps(tmp_path: Path, rows: int) -> None:
    """About 16 steps per file (one per row for tiny files), each reported only after the rows
    read so far were handed out, so the engine stores them before it raises progress."""
    path = tmp_path / "catalog.csv"
    path.write_text("name,sku,price\n" + "".join(f"W {i},S{i},{i}.5\n" for i in range(rows)))
    steps: list[tuple[float, int]] = []
    produced = 0

    def progress(fraction: float) -> None:
        steps.append((fraction, produced))

    for _row in extract(Source(path=path, filename="catalog.csv"), COLUMNS, None, progress):
        produced += 1
    fractions = [f for f, _ in steps]
    assert len(steps) >= min(rows, 14), fractions
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # Evenly spread: no jump of more than a quarter (the old 0 → 99 → 100).
    assert max(b - a for a, b in zip([0.0, *fractions], fractions, strict=False)) <= 0.25
    # A step never runs ahead of the rows: at fraction f, about f of the rows were yielded
    # (bytes and rows differ a little: later rows are longer here).
    for fraction, seen in steps[:-1]:
        assert seen >= 1 and fraction <= seen / rows + 0.05, (fraction, seen)
