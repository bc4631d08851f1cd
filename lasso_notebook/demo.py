"""``python -m lasso_notebook.demo`` (``make demo``): execute the quickstart notebook headlessly
against the embedded engine, in a fresh temporary data dir, then print the DataFrame it produced
and where the executed notebook was saved."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["find_quickstart", "main", "run_demo"]

QUICKSTART = "01_quickstart.ipynb"
#: Name of the DataFrame the quickstart's magic cell creates.
RESULT_VAR = "products"
_REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# Run in the same kernel after the notebook, then removed from the saved copy.
_PRINT_RESULT = f"""\
import pandas as _pd
with _pd.option_context("display.width", 200, "display.max_columns", None,
                        "display.max_colwidth", 40):
    print({RESULT_VAR}.to_string())
    print()
    print({RESULT_VAR}.dtypes.to_string())
"""


def find_quickstart() -> Path:
    """The quickstart in a source checkout (``notebooks/``) or shipped in the package."""
    for candidate in (
        _REPO_NOTEBOOKS / QUICKSTART,
        Path(__file__).resolve().parent / "examples" / QUICKSTART,
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{QUICKSTART} not found (looked in {_REPO_NOTEBOOKS} and the installed package)"
    )


def _default_output() -> Path:
    executed = _REPO_NOTEBOOKS / "executed"
    if _REPO_NOTEBOOKS.is_dir() and os.access(_REPO_NOTEBOOKS, os.W_OK):
        return executed / QUICKSTART  # gitignored
    return Path(tempfile.mkdtemp(prefix="lasso-demo-out-")) / QUICKSTART


def _kernel_env(data_dir: Path) -> dict[str, str]:
    # The demo shows the zero-configuration path: no key, no base URL, a data dir of its own.
    env = {k: v for k, v in os.environ.items() if k not in ("LASSO_API_KEY", "LASSO_BASE_URL")}
    env["LASSO_NOTEBOOK_DATA_DIR"] = str(data_dir)
    env.pop("LASSO_ENGINE_PACE", None)
    # A kernelspec that says "python" runs this interpreter; keep its bin dir first anyway.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _stream_text(cell: Any) -> str:
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def run_demo(notebook: Path, output: Path, timeout: float = 300) -> tuple[str, Path]:
    """Execute ``notebook``; returns the printed DataFrame and the executed notebook's path."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:  # the demo needs the notebook tooling of the dev extra
        raise SystemExit(
            f"lasso_notebook.demo needs nbclient and ipykernel ({exc.name} is missing): "
            "pip install 'lasso-notebook[dev]'"
        ) from None

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PRINT_RESULT))
    data_dir = Path(tempfile.mkdtemp(prefix="lasso-demo-data-"))
    workdir = output.parent
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=int(timeout),
            startup_timeout=120,
            store_widget_state=True,
            resources={"metadata": {"path": str(workdir)}},
            # Keeps the kernel's start-up warnings (e.g. about TCP transport) off the terminal.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        client.execute(env=_kernel_env(data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    printed = _stream_text(nb.cells.pop())
    nbformat.write(nb, output)
    return printed, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lasso_notebook.demo",
        description="Execute the quickstart notebook against the embedded engine and print "
        "the DataFrame it extracts.",
    )
    parser.add_argument("--notebook", type=Path, help="notebook to run (default: the quickstart)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to save the executed notebook (default: notebooks/executed/ in a checkout, "
        "else a temporary directory)",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds per cell")
    args = parser.parse_args(argv)

    notebook = args.notebook or find_quickstart()
    output = (args.output or _default_output()).resolve()
    print(f"Executing {notebook} with the embedded Lasso engine (no API key needed)…", flush=True)
    started = time.monotonic()
    try:
        printed, path = run_demo(notebook, output, timeout=args.timeout)
    except Exception as exc:  # nbclient's CellExecutionError names the cell and the error
        print(f"demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"\n{RESULT_VAR} (extracted by the embedded engine):\n")
    print(printed.rstrip())
    print(f"\nExecuted notebook: {path}")
    print(f"Done in {time.monotonic() - started:.1f} s. Open it with `make lab`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
