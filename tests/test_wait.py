"""``lasso_notebook.wait(*jobs)`` and ``%lasso wait [VAR ...]`` against the real engine (and a
real IPython shell for the magic): they return once every job finished and, for background
cells, only after their variables were set; one combined display; Ctrl-C and timeouts end the
wait, never the jobs; unknown variables and failed jobs are one-line errors."""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from shells import TestingShell, loaded_shell

import lasso_notebook as ln
from lasso_notebook import Lasso
from lasso_notebook._magic_vars import VarOwners
from lasso_notebook._wait import WaitInterrupted, wait_for
from lasso_notebook.errors import InvalidRequestError, WaitTimeoutError
from lasso_notebook.jobs import submit
from lasso_notebook.magics import MagicError


def catalog(n: int, tag: str) -> str:
    rows = "".join(f"{tag} item {i},{tag}-{i},{i}.5\n" for i in range(n))
    return "name,sku,price\n" + rows


@pytest.fixture
def paced(
    engine_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Tables take ~17 × 0.06 s: long enough to wait for, short enough for CI."""
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "lasso-data"))
    return engine_factory(pace=0.06)


@pytest.fixture
def client(paced: Any) -> Iterator[Lasso]:
    lasso = Lasso(api_key=paced.api_key, base_url=paced.base_url)
    yield lasso
    lasso.close()


# ------------------------------------------------------------------------------ wait()


def test_wait_returns_when_every_job_finished(client: Lasso) -> None:
    jobs = [
        submit("Products", f"w{i}", text=catalog(10 + i, f"W{i}"), client=client, progress=False)
        for i in range(3)
    ]
    bad = submit("Products", "bad", text="no table here\n", client=client, progress=False)
    assert not any(job.done() for job in jobs)
    done = ln.wait(*jobs, bad)
    assert done == [*jobs, bad] and all(job.done() for job in done)
    assert [len(job.df) for job in jobs] == [10, 11, 12]
    assert bad.error is not None  # a failure does not raise here: its result() does
    assert ln.wait() == []  # nothing left running
    with pytest.raises(InvalidRequestError, match="wait\\(\\) takes jobs"):
        ln.wait("tbl_123")  # type: ignore[arg-type]


def test_wait_without_jobs_waits_for_every_running_job(client: Lasso) -> None:
    jobs = [
        submit("Products", f"all{i}", text=catalog(8, f"A{i}"), client=client, progress=False)
        for i in range(2)
    ]
    done = ln.wait()
    assert set(jobs) <= set(done) and all(job.done() for job in jobs)
    assert ln.wait(jobs) == jobs  # a list of jobs works too


def test_wait_shows_one_combined_line(client: Lasso, capsys: pytest.CaptureFixture[str]) -> None:
    jobs = [
        submit("Products", f"line{i}", text=catalog(6, f"L{i}"), client=client, progress=False)
        for i in range(2)
    ]
    jobs.append(submit("Products", "broken", text="nothing\n", client=client, progress=False))
    wait_for(jobs, progress="text", label="a, b, c")
    (line,) = capsys.readouterr().out.splitlines()  # piped: the final line only
    assert line.startswith("waiting for 3 jobs: a, b, c · 3 of 3 done · 12 rows · 1 failed · ")
    assert "'broken'" in line


def test_wait_shows_one_widget(client: Lasso, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [
        submit("Products", f"wid{i}", text=catalog(5, f"G{i}"), client=client, progress=False)
        for i in range(2)
    ]
    shown: list[Any] = []
    from lasso_notebook import _wait

    real = _wait._CombinedDisplay

    def recording(*args: Any, **kwargs: Any) -> Any:
        display = real(*args, **kwargs)
        shown.append(display)
        return display

    monkeypatch.setattr(_wait, "_CombinedDisplay", recording)
    wait_for(jobs, progress="widget", label="x, y")
    (display,) = shown
    widget = display.widget
    assert widget is not None and widget.name == "waiting for 2 jobs: x, y"
    assert widget.phase == "completed" and widget.status == "2 of 2 done"
    assert widget.total_rows == 10 and widget.progress == 100 and widget.table_id == ""


def test_wait_timeout_and_ctrl_c_leave_the_jobs_running(client: Lasso) -> None:
    job = submit("Products", "long", text=catalog(40, "T"), client=client, progress=False)
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError, match=r"1 job still running after 0\.3 s"):
        ln.wait(job, timeout=0.3)
    assert time.monotonic() - started < 0.8 and not job.done()

    threading.Timer(0.3, _thread.interrupt_main).start()
    started = time.monotonic()
    with pytest.raises(WaitInterrupted) as info:
        ln.wait(job)
    assert time.monotonic() - started < 0.9  # 0.3 s until Ctrl-C, then at once
    assert isinstance(info.value, KeyboardInterrupt) and info.value.jobs == [job]
    assert "go on in the background" in str(info.value)
    assert len(job.result(timeout=30)) == 40  # it went on


# ------------------------------------------------------------------------- %lasso wait


@pytest.fixture(scope="module")
def shell() -> TestingShell:
    ip = loaded_shell()
    return ip


@pytest.fixture
def ip(shell: TestingShell, paced: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestingShell]:
    from lasso_notebook.magics import LassoMagics

    monkeypatch.setenv("LASSO_API_KEY", paced.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", paced.base_url)
    magics = LassoMagics(shell=shell)
    shell.register_magics(magics)
    yield shell
    shell.configurables.remove(magics)
    shell.config.pop("LassoMagics", None)
    for name in [
        n for n in shell.user_ns if not n.startswith("_") and n not in shell.user_ns_hidden
    ]:
        del shell.user_ns[name]


def run(
    shell: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]
) -> tuple[ExecutionResult, str]:
    result = shell.run_cell(code, store_history=True)
    out = capsys.readouterr()
    return result, out.out + out.err


def test_lasso_wait_returns_after_the_variables_were_set(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Storing VAR happens in a done-callback on the runtime thread, after the job counts as
    # done; slowed down here, so a wait that returned on "done" alone would miss it.
    real_store = VarOwners.store

    def slow_store(self: VarOwners, *args: Any, **kwargs: Any) -> bool:
        time.sleep(0.4)
        return real_store(self, *args, **kwargs)

    monkeypatch.setattr(VarOwners, "store", slow_store)
    for var, tag in (("audio", "AU"), ("kitchen", "KI")):
        result, output = run(
            ip, f"%%lasso_table {var} --schema Products --background\n{catalog(6, tag)}", capsys
        )
        assert result.success, output
    assert "audio" not in ip.user_ns
    result, output = run(ip, "%lasso wait audio kitchen", capsys)
    assert result.success, output
    # Set by the time the magic returned: no polling here.
    assert len(ip.user_ns["audio"]) == 6 and len(ip.user_ns["kitchen"]) == 6
    # Without a widget each job's note (and its validation line) is printed as it stores,
    # then the wait's summary.
    *lines, summary = output.strip().splitlines()
    assert sorted(line for line in lines if line.startswith("→")) == [
        "→ audio (6 rows)",
        "→ kitchen (6 rows)",
    ]
    assert lines.count("6 rows, all valid") == 2
    assert summary == "%lasso wait: 2 of 2 done · 12 rows (audio, kitchen)"

    # Waiting again for a variable whose job finished long ago is fine (Run All reaches the
    # cell after a quick job), and no name waits for whatever still runs.
    result, output = run(ip, "%lasso wait audio", capsys)
    assert result.success, output
    run(ip, f"%%lasso_table later --schema Products --background\n{catalog(4, 'LA')}", capsys)
    result, output = run(ip, "%lasso wait", capsys)
    assert result.success and len(ip.user_ns["later"]) == 4, output


def test_lasso_wait_errors_are_one_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    run(ip, f"%%lasso_table pending --schema Products --background\n{catalog(30, 'PE')}", capsys)
    result, output = run(ip, "%lasso wait pending nosuch", capsys)
    assert isinstance(result.error_in_exec, MagicError)
    assert output.strip() == "%lasso wait: no job of this kernel sets nosuch; pending: pending"
    result, output = run(ip, "%lasso tables extra", capsys)
    assert isinstance(result.error_in_exec, MagicError) and "unexpected 'extra'" in output
    result, output = run(ip, "%lasso wait pending --timeout 0.2", capsys)
    assert isinstance(result.error_in_exec, MagicError)
    assert "1 job still running after 0.2 s" in output and "Traceback" not in output

    # A job that fails leaves its variable unset: the cell fails, so Run All stops here.
    run(ip, "%%lasso_table broken --schema Products --background\nnothing to see\n", capsys)
    result, output = run(ip, "%lasso wait broken pending", capsys)
    assert isinstance(result.error_in_exec, MagicError)
    lines = result.error_in_exec.lines  # (the job's own failure was printed as it happened)
    assert lines[0].startswith("%lasso wait: broken not set: table tbl_") and "failed" in lines[0]
    assert lines[1] == "Check the source and options, then run the cell again."
    assert len(lines) == 2 and "broken" not in ip.user_ns and len(ip.user_ns["pending"]) == 30


def test_ctrl_c_ends_lasso_wait_not_the_jobs(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    run(ip, f"%%lasso_table big --schema Products --background\n{catalog(40, 'BI')}", capsys)
    threading.Timer(0.3, _thread.interrupt_main).start()
    result, output = run(ip, "%lasso wait big", capsys)
    assert isinstance(result.error_in_exec, MagicError)
    assert output.strip() == (
        "%lasso wait: stopped waiting; 1 of 1 jobs go on in the background; big will be set "
        "when they complete."
    )
    result, output = run(ip, "%lasso wait big", capsys)
    assert result.success and len(ip.user_ns["big"]) == 40, output


def test_wait_is_refused_on_the_runtime_thread(client: Lasso) -> None:
    job = submit("Products", "cb", text=catalog(3, "CB"), client=client, progress=False)
    errors: list[BaseException] = []

    def callback(done: Any) -> None:
        try:
            ln.wait(done)
        except BaseException as exc:
            errors.append(exc)

    job.add_done_callback(callback)
    job.wait(timeout=30)
    deadline = time.monotonic() + 5
    while not errors and time.monotonic() < deadline:
        time.sleep(0.02)
    assert errors and "runtime thread" in str(errors[0])
