"""``lasso-engine`` / ``python -m lasso_notebook.server``: run the engine in the foreground,
print its base URL and API key (as Jupyter prints its token), serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from . import serve
from .engine import _LOOPBACK, DATA_DIR_ENV, DEFAULT_DATA_DIR


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (a service manager stopping us) stops like Ctrl-C


def _prog_name() -> str:
    """How the user started us, for ``usage:``: the ``lasso-engine`` script, or ``-m``."""
    started_as = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if not started_as or started_as in ("__main__.py", "-c", "-m"):
        return "python -m lasso_notebook.server"
    return started_as.removesuffix(".exe")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=_prog_name(), description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 = any free port)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"data directory (default ${DATA_DIR_ENV}, else {DEFAULT_DATA_DIR})",
    )
    parser.add_argument("--pace", type=float, default=0.0, help="minimum seconds per progress step")
    parser.add_argument("--workers", type=int, default=2, help="tables extracted at once")
    parser.add_argument("--webhook-secret", default=None, help="sign webhooks with this secret")
    args = parser.parse_args(argv)
    if args.host not in _LOOPBACK:
        print(
            f"WARNING: binding {args.host}, a non-loopback address: other machines can reach the "
            "engine (every request still needs an API key).",
            file=sys.stderr,
        )
    engine = serve(
        args.port,
        args.data_dir,
        host=args.host,
        pace=args.pace,
        workers=args.workers,
        webhook_secret=args.webhook_secret,
    )
    print("lasso_notebook engine running", flush=True)
    print(f"    LASSO_BASE_URL={engine.base_url}", flush=True)
    print(f"    LASSO_API_KEY={engine.api_key}", flush=True)
    print(f"    data dir: {engine.data_dir}   (Ctrl-C to stop)", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping…", file=sys.stderr)
    finally:
        engine.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
