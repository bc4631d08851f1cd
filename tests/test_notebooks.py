"""Executes every example notebook in ``notebooks/`` with nbclient against the embedded engine
(isolated data dir, no API key or base URL) and checks what each produced: no error output, the
final check cell's line, and the progress widget's final state saved in the notebook."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

pytestmark = pytest.mark.kernel

#: The check cell of each notebook prints one line starting with this.
EXPECTED_LINE = {
    "01_quickstart": "quickstart ok: (5, 9)",
    "02_background_jobs": "background jobs ok: (3, 9) (2, 9) (2, 9)",
    "03_submit_form": "form ok: (5, 9)",
    "04_client_api": "client api ok: (3, 9)",
    "05_schemas_and_validation": "schemas ok: (5, 6) (2, 6)",
}
#: Progress widgets each notebook leaves behind, all of which must end ``completed``.
EXPECTED_PROGRESS_WIDGETS = {
    "01_quickstart": 1,
    "02_background_jobs": 3,
    "03_submit_form": 0,
    "04_client_api": 0,
    "05_schemas_and_validation": 1,
}
#: The combined display of ``%lasso wait`` (a progress widget with no table of its own).
EXPECTED_WAIT_WIDGETS = {"02_background_jobs": "waiting for 1 job: audio"}


class Executed(NamedTuple):
    nb: nbformat.NotebookNode
    workdir: Path


def kernel_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh user: no key, no base URL, own data and IPython dirs."""
    env = {k: v for k, v in os.environ.items() if k not in ("LASSO_API_KEY", "LASSO_BASE_URL")}
    env.update(
        LASSO_NOTEBOOK_DATA_DIR=str(tmp_path / "lasso-data"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("LASSO_ENGINE_PACE", None)
    return env


def execute_notebook(path: Path, workdir: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run ``path`` top to bottom in a python3 kernel (cwd ``workdir``); errors raise."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=180,
        startup_timeout=60,
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env)
    return nb


def widget_states(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """model id → saved widget model (``{"model_name", "state", …}``)."""
    saved = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
    return dict(saved.get("state", {}))


def progress_widget_states(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """States of the progress widgets displayed in the outputs (closed leftovers ignored)."""
    states = widget_states(nb)
    shown: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view and view.get("model_id") in states:
                shown.append(view["model_id"])
    return [
        states[mid]["state"]
        for mid in shown
        if "table_id" in states[mid]["state"] and "phase" in states[mid]["state"]
    ]


def job_and_wait_widgets(
    nb: nbformat.NotebookNode,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The progress widgets of jobs (each with its table) and those of ``%lasso wait``."""
    states = progress_widget_states(nb)
    return [s for s in states if s["table_id"]], [s for s in states if not s["table_id"]]


def text_of(nb: nbformat.NotebookNode) -> str:
    parts: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    errors = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"{output.get('ename')}: {output.get('evalue')}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output.get("text", "")
                if "Traceback" in text or "Error" in text:
                    errors.append(text)
    return errors


def test_notebooks_are_committed_clean() -> None:
    """Executed copies never go into notebooks/: no outputs, no counts, no widget state."""
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.stem for p in paths] == sorted(EXPECTED_LINE)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        assert "widgets" not in nb.metadata, path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Executed]:
    """Executes a notebook on first use and returns the same result afterwards (the tests of
    one notebook share a run)."""
    cache: dict[str, Executed | Exception] = {}

    def run(name: str) -> Executed:
        if name not in cache:
            workdir = tmp_path_factory.mktemp(name)
            try:
                nb = execute_notebook(NOTEBOOKS / f"{name}.ipynb", workdir, kernel_env(workdir))
            except Exception as exc:  # a broken notebook fails each of its tests, runs once
                cache[name] = exc
            else:
                nbformat.write(nb, workdir / f"{name}.executed.ipynb")
                cache[name] = Executed(nb, workdir)
        result = cache[name]
        if isinstance(result, Exception):
            raise result
        return result

    return run


@pytest.mark.parametrize("name", sorted(EXPECTED_LINE))
def test_notebook_executes(name: str, executed: Callable[[str], Executed]) -> None:
    nb, workdir = executed(name)
    assert not error_outputs(nb)
    text = text_of(nb)
    assert EXPECTED_LINE[name] in text, text[-2000:]
    # It ran against the embedded engine in its own data dir, with no configuration.
    assert any((workdir / "lasso-data").iterdir()), "the engine's data dir was not used"
    if name != "03_submit_form":  # there the client starts on the form's thread, not in a cell
        assert "embedded Lasso engine" in text
        assert str(workdir / "lasso-data") in text


@pytest.mark.parametrize(
    "name", sorted(name for name, count in EXPECTED_PROGRESS_WIDGETS.items() if count)
)
def test_saved_progress_widgets_show_the_final_status(
    name: str, executed: Callable[[str], Executed]
) -> None:
    """The executed notebook, opened without a kernel, shows each job as it ended. Background
    jobs finish while a later cell runs: their last updates must be saved as well."""
    nb, _ = executed(name)
    progress, waits = job_and_wait_widgets(nb)
    assert len(progress) == EXPECTED_PROGRESS_WIDGETS[name], progress
    if name in EXPECTED_WAIT_WIDGETS:
        # %lasso wait's one display: it ended when its job did, and says so.
        (wait,) = waits
        assert wait["name"] == EXPECTED_WAIT_WIDGETS[name]
        assert (wait["phase"], wait["status"], wait["progress"]) == (
            "completed",
            "1 of 1 done",
            100,
        )
        assert wait["total_rows"] == 3 and wait["error_message"] == ""
    else:
        assert waits == []
    summary = [(s["name"], s["phase"], s["status"], s["progress"]) for s in progress]
    for state in progress:
        assert state["phase"] == "completed", summary
        assert state["status"] == "completed", summary
        assert state["total_rows"] > 0 and state["table_id"], summary
        assert state["error_message"] == ""


def test_form_notebook_saves_the_completed_form(executed: Callable[[str], Executed]) -> None:
    """03 drives the form through its Python API; the saved form shows the preview."""
    nb, _ = executed("03_submit_form")
    forms = [m["state"] for m in widget_states(nb).values() if "job_state" in m["state"]]
    assert len(forms) == 1
    (form,) = forms
    assert form["phase"] == "completed", (form["phase"], form["job_state"])
    assert form["job_state"]["total_rows"] == 5
    assert form["preview"]["total_rows"] == 5
    assert len(form["preview"]["rows"]) == 5


def test_quickstart_saves_the_dataframe_and_final_widget_state(
    executed: Callable[[str], Executed],
) -> None:
    """What a reader of the executed quickstart sees: the typed frame as HTML, the widget's
    final status and note saved with the notebook (so it renders without a kernel)."""
    nb, _ = executed("01_quickstart")
    html = "\n".join(
        output["data"]["text/html"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    )
    assert "<table" in html and "AUR-100" in html and "Aurora ANC Wireless Headphones" in html
    (state,) = job_and_wait_widgets(nb)[0]
    assert state["status"] == "completed"
    assert state["total_rows"] == 5
    assert state["name"] == "Quickstart listing"
    assert "products" in state["note"]
    # The widget's front end travels with the state (anywidget keeps _esm in the model).
    model = next(
        m for m in widget_states(nb).values() if m["state"].get("table_id") == state["table_id"]
    )
    assert "lasso-progress" in model["state"].get("_esm", "")


def test_demo_prints_the_extracted_dataframe(tmp_path: Path) -> None:
    """``make demo``: the quickstart runs headlessly and its DataFrame is printed."""
    output = tmp_path / "out" / "quickstart.ipynb"
    env = kernel_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lasso_notebook.demo", "--output", str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "AUR-100" in done.stdout and "Ember Cast Iron Skillet 28 cm" in done.stdout
    assert "Float64" in done.stdout and "boolean" in done.stdout
    assert f"Executed notebook: {output}" in done.stdout
    nb = nbformat.read(output, as_version=4)
    assert len(nb.cells) == len(nbformat.read(NOTEBOOKS / "01_quickstart.ipynb", 4).cells)
    assert "quickstart ok: (5, 9)" in text_of(nb)


def progress_outputs(nb: nbformat.NotebookNode) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(output data, saved widget state) of every progress widget shown in the outputs."""
    states = widget_states(nb)
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            state = states.get(view["model_id"], {}).get("state", {}) if view else {}
            if state.get("table_id") and "phase" in state:  # a job's, not %lasso wait's
                found.append((data, state))
    return found


def wait_outputs(nb: nbformat.NotebookNode) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(output data, saved widget state) of every ``%lasso wait`` display in the outputs."""
    states = widget_states(nb)
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            state = states.get(view["model_id"], {}).get("state", {}) if view else {}
            if "table_id" in state and not state["table_id"] and "phase" in state:
                found.append((data, state))
    return found


def test_saved_wait_output_shows_that_the_wait_ended(
    executed: Callable[[str], Executed],
) -> None:
    nb, _ = executed("02_background_jobs")
    ((data, state),) = wait_outputs(nb)
    assert state["status"] == "1 of 1 done"
    assert state["name"] in data["text/plain"] and "1 of 1 done" in data["text/plain"]
    assert 'data-state="completed"' in data["text/html"] and "1 of 1 done" in data["text/html"]


@pytest.mark.parametrize(
    "name", sorted(name for name, count in EXPECTED_PROGRESS_WIDGETS.items() if count)
)
def test_saved_progress_outputs_show_the_outcome_without_widgets(
    name: str, executed: Callable[[str], Executed]
) -> None:
    """What a text export, nbconvert or GitHub shows of each progress display (they render
    text/plain or text/html, not the widget): the final state, not the state when shown."""
    nb, _ = executed(name)
    outputs = progress_outputs(nb)
    assert len(outputs) == EXPECTED_PROGRESS_WIDGETS[name]
    for data, state in outputs:
        rows = f"{state['total_rows']} rows"
        first, *more = data["text/plain"].splitlines()
        assert f'"{state["name"]}" · completed · {rows}' in first, data["text/plain"]
        assert state["table_id"][:6] in first and "submitting" not in first
        assert more and more[0] == state["validation"] and f"{rows}" in more[0]
        html = data["text/html"]
        assert 'data-state="completed"' in html and "✓" in html and f"completed · {rows}" in html
        assert "submitting" not in html and escape(state["validation"]) in html
        if state["note"]:
            assert state["note"] in first and escape(state["note"]) in html


def test_saved_form_output_shows_the_outcome_and_the_preview(
    executed: Callable[[str], Executed],
) -> None:
    nb, _ = executed("03_submit_form")
    forms = [
        output["data"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "SubmitForm" in output.get("data", {}).get("text/plain", "")
    ]
    assert len(forms) == 1
    (data,) = forms
    assert "· completed ·" in data["text/plain"] and "5 rows" in data["text/plain"]
    assert "idle" not in data["text/plain"].splitlines()[0]
    html = data["text/html"]
    assert 'data-state="completed"' in html and "<table" in html and "AUR-100" in html


def test_exports_show_the_outcome(executed: Callable[[str], Executed]) -> None:
    """nbconvert to markdown, and to HTML both with the saved widget state (the page renders
    the widget from it) and without it (GitHub, or a notebook saved without widget state)."""
    import copy

    from nbconvert import HTMLExporter, MarkdownExporter

    nb, _ = executed("01_quickstart")
    markdown, _ = MarkdownExporter().from_notebook_node(nb)
    assert "Quickstart listing&quot; · completed · 5 rows" in markdown
    assert "submitting" not in markdown and "→ products (5 rows)" in markdown
    with_state, _ = HTMLExporter().from_notebook_node(nb)
    assert WIDGET_STATE_MIME in with_state and '"phase": "completed"' in with_state
    bare = copy.deepcopy(nb)
    bare.metadata.pop("widgets")
    without_state, _ = HTMLExporter().from_notebook_node(bare)
    assert 'class="lasso-static" data-state="completed"' in without_state
    assert "· completed · 5 rows" in without_state and "submitting" not in without_state
