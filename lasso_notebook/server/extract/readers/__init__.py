"""Readers for binary document formats (PDF, Excel, Word, images). Each turns a stored file
into records and ``Step`` progress markers; text formats live in ``records``/``html``/``listing``."""
