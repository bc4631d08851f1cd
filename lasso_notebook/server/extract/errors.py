"""The one exception extractors raise: a human message that becomes the table's error_message."""

from __future__ import annotations

__all__ = ["ExtractionError"]


class ExtractionError(Exception):
    """Extraction cannot produce rows; ``str(exc)`` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
