"""Wire models: both status vocabularies, unknown fields and types, dict-style reads, and the
create-table request validated before any network call."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lasso_notebook.models import (
    Column,
    CreateTableRequest,
    Page,
    Phase,
    Row,
    Table,
    phase_of,
)


@pytest.mark.parametrize(
    ("status", "phase", "terminal"),
    [
        ("queued", Phase.PENDING, False),
        ("queued_for_processing", Phase.PENDING, False),
        ("processing", Phase.RUNNING, False),
        ("processing_by_worker", Phase.RUNNING, False),
        ("completed", Phase.COMPLETED, True),
        ("failed", Phase.FAILED, True),
        ("error", Phase.FAILED, True),
        ("cancelled", Phase.CANCELLED, True),
        ("COMPLETED", Phase.COMPLETED, True),
        ("reticulating_splines", Phase.RUNNING, False),
        ("", Phase.RUNNING, False),
    ],
)
def test_both_status_vocabularies_normalize(status: str, phase: Phase, terminal: bool) -> None:
    table = Table(id="t", status=status)
    assert table.phase is phase_of(status) is phase
    assert table.is_terminal is terminal


def test_unknown_fields_are_kept_and_readable_like_a_dict() -> None:
    table = Table.model_validate(
        {"id": "tbl_1", "name": "Q1", "status": "processing", "locked": True, "progress": 35}
    )
    assert table["id"] == "tbl_1"
    assert table["status"] == "processing"
    assert table["locked"] is True
    assert table.get("missing", 7) == 7
    assert "locked" in table and "nope" not in table
    assert table.to_dict()["locked"] is True
    with pytest.raises(KeyError):
        table["nope"]


def test_progress_is_clamped_and_null_rows_are_zero() -> None:
    assert Table(id="t", progress=140).progress == 100
    assert Table(id="t", progress=-3).progress == 0
    assert Table(id="t", progress="35.6").progress == 36
    assert Table.model_validate({"id": "t", "total_rows": None}).total_rows == 0


def test_unknown_column_type_is_kept_not_rejected() -> None:
    column = Column.model_validate({"key": "spec", "type": "runnable", "kind": "helper"})
    assert column.type == "runnable"
    assert column.label == "spec"  # label defaults to the key
    assert column["kind"] == "helper"


def test_row_keeps_newer_validation_shapes() -> None:
    row = Row.model_validate(
        {
            "id": "r",
            "row_index": 3,
            "data": {"price": "abc"},
            "validation_status": "error",
            "validation_errors": [{"column_key": "price", "message": "not a number"}],
        }
    )
    assert row["validation_errors"][0]["column_key"] == "price"


def test_page_stop_rule() -> None:
    page = Page[Row].model_validate(
        {"data": [], "pagination": {"page": 2, "limit": 10, "total": 20}}
    )
    assert page.pagination.is_last
    assert (
        not Page[Row]
        .model_validate({"data": [], "pagination": {"page": 1, "limit": 10, "total": 11}})
        .pagination.is_last
    )


def _request(**overrides: object) -> CreateTableRequest:
    fields: dict[str, object] = {"schema_id": "s", "name": "n", "source_text": "a,b"}
    fields.update(overrides)
    return CreateTableRequest(**fields)  # type: ignore[arg-type]


def test_create_request_accepts_each_single_source() -> None:
    assert _request().to_body() == {"schema_id": "s", "name": "n", "source_text": "a,b"}
    body = _request(source_text=None, file_ids=["f1"]).to_body()
    assert body["file_ids"] == ["f1"] and "source_text" not in body
    assert _request(source_text=None, file_urls=["https://x.test/a.pdf"]).file_urls


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"source_text": None}, "exactly one source"),
        ({"file_ids": ["f"]}, "exactly one source"),
        ({"source_text": "   "}, "source_text must not be blank"),
        ({"name": " "}, "name must not be blank"),
        ({"schema_id": ""}, "schema_id must not be blank"),
        ({"source_text": None, "file_urls": ["ftp://x/a"]}, "http(s) URLs"),
        ({"source_text": None, "file_urls": []}, "at least one URL"),
        ({"source_text": None, "file_ids": []}, "at least one uploaded file"),
        ({"webhook_url": "javascript:alert(1)"}, "webhook_url must be an http(s) URL"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_create_request_refuses_bad_input_with_a_fix(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        _request(**overrides)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.test/x.pdf", True),
        ("http://127.0.0.1:8000", True),
        ("ftp://a.test", False),
        ("https://", False),
        ("http://[::1", False),
        ("", False),
        ("javascript:alert(1)", False),
    ],
)
def test_is_http_url(url: str, ok: bool) -> None:
    from lasso_notebook.models import is_http_url

    assert is_http_url(url) is ok


def test_explicit_nulls_read_as_the_documented_defaults() -> None:
    column = Column.model_validate({"key": "sku", "label": None, "required": None, "type": None})
    assert (column.label, column.required, column.type) == ("sku", False, "text")
    table = Table.model_validate(
        {"id": "tbl_1", "name": None, "files": None, "progress": None, "total_rows": None}
    )
    assert (table.name, table.files, table.progress, table.total_rows) == ("", [], 0, 0)
    row = Row.model_validate({"id": "row_1", "row_index": 0, "data": None, "is_edited": None})
    assert row.data == {} and row.is_edited is False


def test_table_files_given_as_bare_names_or_urls() -> None:
    table = Table.model_validate({"id": "tbl_1", "files": ["catalog.pdf", {"name": "b.csv"}]})
    assert table.files == [{"name": "catalog.pdf", "path": "catalog.pdf"}, {"name": "b.csv"}]
