"""The IPython shell the magic tests drive: a real ``InteractiveShell`` without history (a
SQLite file per shell) and with a flush-free displayhook (an internal gc.collect can hang at
exit), as jupysql's tests do."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


class TestingShell(InteractiveShell):
    __test__ = False  # not a test class, despite the name

    @classmethod
    def make(cls) -> TestingShell:
        config = Config()
        config.HistoryAccessor.enabled = False
        # Not .instance(): the global singleton would clash with any other test's shell.
        shell = cls(config=config)
        shell.displayhook.flush = lambda: None  # type: ignore[method-assign]
        return shell


def loaded_shell() -> TestingShell:
    """A new shell with ``%load_ext lasso_notebook`` run."""
    shell = TestingShell.make()
    shell.run_line_magic("load_ext", "lasso_notebook")
    return shell
