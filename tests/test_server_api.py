"""The embedded engine's HTTP contract over real loopback HTTP: every endpoint, every error
envelope, pagination edges, key isolation and export formats."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import sqlite3
import time
import uuid
from typing import Any

import httpx
import pytest

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CSV = "name,sku,price,in_stock,tags\n" + "".join(
    f"Widget {i},W{i:03d},{i}.5,{'yes' if i % 2 else 'no'},a;b\n" for i in range(12)
)


@pytest.fixture
def api(engine: Any) -> httpx.Client:
    with httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}, timeout=30
    ) as client:
        yield client


def assert_envelope(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "error_type", "message", "request_id"}
    assert body["status_code"] == status and body["error_type"] == error_type
    assert body["message"] and UUID_RE.match(body["request_id"])
    return body


def products(api: httpx.Client) -> dict[str, Any]:
    listed = api.get("/schemas", params={"limit": 100}).json()["data"]
    return api.get(f"/schemas/{next(s['id'] for s in listed if s['name'] == 'Products')}").json()


def wait(api: httpx.Client, table_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = api.get(f"/tables/{table_id}").json()
        if table["status"] in ("completed", "failed"):
            return table
        time.sleep(0.02)
    raise AssertionError(f"table {table_id} did not finish: {table}")


def completed_table(api: httpx.Client, text: str = CSV, name: str = "T") -> dict[str, Any]:
    created = api.post(
        "/tables", json={"name": name, "schema_id": products(api)["id"], "source_text": text}
    )
    assert created.status_code == 201, created.text
    table = wait(api, created.json()["id"])
    assert table["status"] == "completed", table
    return table


# -- auth and generic envelopes ----------------------------------------------------------------
def test_key_format_file_permissions_and_repr(engine: Any) -> None:
    assert re.fullmatch(r"lasso_[0-9a-f]{64}", engine.api_key)
    assert (engine.data_dir / "api_key").stat().st_mode & 0o777 == 0o600
    assert engine.data_dir.stat().st_mode & 0o777 == 0o700
    assert engine.base_url.startswith("http://127.0.0.1:") and engine.base_url.endswith("/api/v1")
    assert engine.api_key not in repr(engine)
    assert re.fullmatch(r"lasso_[0-9a-f]{64}", engine.create_key())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer lasso_" + "0" * 64},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ],
)
def test_missing_or_unknown_key_is_401(engine: Any, headers: dict[str, str]) -> None:
    response = httpx.get(f"{engine.base_url}/tables", headers=headers)
    body = assert_envelope(response, 401, "unauthenticated")
    assert body["message"] == "Missing or invalid Authorization header. Use: Bearer lasso_..."


def test_unknown_route_and_wrong_method(api: httpx.Client) -> None:
    first = assert_envelope(api.get("/no/such/route"), 404, "not_found")
    second = assert_envelope(api.get("/no/such/route"), 404, "not_found")
    assert first["request_id"] != second["request_id"]  # fresh on every error
    # A method the path does not take is 400 invalid_request (docs/architecture.md §6), not 405.
    wrong = api.delete("/schemas")
    body = assert_envelope(wrong, 400, "invalid_request")
    assert wrong.headers["allow"] == "GET, POST"  # every method of the path, not just one route's
    assert (
        body["message"] == "Method DELETE is not supported on /api/v1/schemas; allowed: GET, POST"
    )
    assert api.get("/tables/t/rows/bulk-delete").status_code == 404  # matches rows/{row_id}
    literal = api.options("/tables/t/rows/bulk-update")  # literal path beats rows/{row_id}
    body = assert_envelope(literal, 400, "invalid_request")
    assert literal.headers["allow"] == "POST" and body["message"].endswith("allowed: POST")
    put = api.put("/tables")
    assert_envelope(put, 400, "invalid_request")
    assert put.headers["allow"] == "GET, POST"


def test_validation_errors_are_human_422(api: httpx.Client) -> None:
    body = assert_envelope(
        api.post("/schemas", json={"columns": [{"key": "a"}]}), 422, "validation_error"
    )
    assert body["message"] == "Missing required field: name"
    body = assert_envelope(
        api.post("/schemas", content=b"{not json", headers={"Content-Type": "application/json"}),
        422,
        "validation_error",
    )
    assert "JSON" in body["message"]
    for bad in (
        {"name": "x", "columns": []},
        {"name": " ", "columns": [{"key": "a"}]},
        {"name": "x", "columns": [{"key": "a", "type": "colour"}]},
        {"name": "x", "columns": [{"key": "a"}, {"key": "a"}]},
        {"name": "x", "columns": [{"key": "e", "type": "enum"}]},
        {"name": "x", "columns": [{"key": "a"}], "surprise": 1},
    ):
        assert_envelope(api.post("/schemas", json=bad), 422, "validation_error")


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"page": 0}, {"page": -1}, {"limit": "ten"}],
)
def test_pagination_bounds_are_422(api: httpx.Client, params: dict[str, Any]) -> None:
    body = assert_envelope(api.get("/schemas", params=params), 422, "validation_error")
    assert next(iter(params)) in body["message"]


def test_pagination_edges(api: httpx.Client) -> None:
    for i in range(4):
        api.post("/schemas", json={"name": f"S{i}", "columns": [{"key": "a"}]})
    first = api.get("/schemas", params={"limit": 2}).json()
    assert first["pagination"] == {"page": 1, "limit": 2, "total": 5}  # 4 + seeded Products
    assert [s["name"] for s in first["data"]] == ["S3", "S2"]  # newest first
    last = api.get("/schemas", params={"page": 3, "limit": 2}).json()
    assert [s["name"] for s in last["data"]] == ["Products"]
    past = api.get("/schemas", params={"page": 99, "limit": 2}).json()
    assert past == {"data": [], "pagination": {"page": 99, "limit": 2, "total": 5}}
    huge = api.get("/schemas", params={"page": 10**30, "limit": 100})
    assert huge.status_code == 200 and huge.json()["data"] == []
    assert api.get("/schemas", params={"limit": 100}).json()["pagination"]["limit"] == 100
    assert api.get("/schemas").json()["pagination"]["limit"] == 25  # documented default


# -- schemas ------------------------------------------------------------------------------------
def test_seeded_products_schema(api: httpx.Client) -> None:
    schema = products(api)
    assert [(c["key"], c["label"], c["type"]) for c in schema["columns"]] == [
        ("name", "Name", "text"),
        ("sku", "SKU", "text"),
        ("brand", "Brand", "text"),
        ("price", "Price", "number"),
        ("currency", "Currency", "text"),
        ("in_stock", "In stock", "boolean"),
        ("release_date", "Release date", "date"),
        ("tags", "Tags", "tags"),
        ("url", "URL", "url"),
    ]
    assert schema["columns"][0]["required"] is True
    assert schema["id"].startswith("schema_") and TS_RE.match(schema["created_at"])


def test_schema_crud(api: httpx.Client) -> None:
    created = api.post(
        "/schemas",
        json={
            "name": "Tools",
            "description": "hand tools",
            "columns": [
                {"key": "title", "label": "Title", "type": "text", "required": True},
                {"key": "kind", "type": "enum", "enum_values": ["Drill", "Saw"]},
            ],
        },
    )
    assert created.status_code == 201
    schema = created.json()
    assert schema["columns"][1]["label"] == "kind"  # label defaults to the key
    assert schema["is_default"] is False and schema["description"] == "hand tools"
    summary = next(s for s in api.get("/schemas").json()["data"] if s["id"] == schema["id"])
    assert summary["columns_count"] == 2 and "columns" not in summary
    updated = api.put(
        f"/schemas/{schema['id']}", json={"columns": [{"key": "weight", "type": "number"}]}
    )
    assert updated.status_code == 200
    assert [c["key"] for c in updated.json()["columns"]] == ["weight"]  # whole-list replacement
    assert updated.json()["name"] == "Tools"  # untouched fields stay
    renamed = api.put(f"/schemas/{schema['id']}", json={"name": "Power tools", "description": None})
    assert renamed.json()["name"] == "Power tools" and renamed.json()["description"] is None
    assert_envelope(
        api.put(f"/schemas/{schema['id']}", json={"columns": []}), 422, "validation_error"
    )
    deleted = api.delete(f"/schemas/{schema['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_envelope(api.get(f"/schemas/{schema['id']}"), 404, "not_found")
    assert_envelope(api.delete(f"/schemas/{schema['id']}"), 404, "not_found")
    assert_envelope(api.put("/schemas/schema_nope", json={"name": "x"}), 404, "not_found")


def test_schema_is_default_is_unique(api: httpx.Client) -> None:
    new = api.post(
        "/schemas", json={"name": "D", "is_default": True, "columns": [{"key": "a"}]}
    ).json()
    defaults = [s["id"] for s in api.get("/schemas").json()["data"] if s["is_default"]]
    assert defaults == [new["id"]]


def test_schema_generate_infers_types(api: httpx.Client) -> None:
    sample = (
        "Product Name,Price,In Stock,Released,Link,Contact\n"
        "Drill,129.00,yes,2024-03-01,https://x.test/d,a@b.co\n"
        "Saw,19.5,no,2023-12-24,https://x.test/s,c@d.co\n"
    )
    response = api.post("/schemas/generate", json={"sample_data": sample, "name": "Gen"})
    assert response.status_code == 201
    schema = response.json()
    assert (
        schema["name"] == "Gen" and schema["is_default"] is False and schema["description"] is None
    )
    types = {c["key"]: c["type"] for c in schema["columns"]}
    assert types == {
        "product_name": "text",
        "price": "number",
        "in_stock": "boolean",
        "released": "date",
        "link": "url",
        "contact": "email",
    }
    assert schema["columns"][0]["label"] == "Product Name"
    from_json = api.post(
        "/schemas/generate",
        json={"sample_data": json.dumps({"items": [{"sku": "A1", "tags": ["x"]}]})},
    ).json()
    assert {c["key"]: c["type"] for c in from_json["columns"]} == {"sku": "text", "tags": "tags"}
    assert from_json["name"] == "Generated schema"
    kv = api.post("/schemas/generate", json={"sample_data": "Name: Drill\nWeight: 2.5\n"}).json()
    assert {c["key"]: c["type"] for c in kv["columns"]} == {"name": "text", "weight": "number"}
    assert_envelope(
        api.post("/schemas/generate", json={"sample_data": "just words"}), 422, "validation_error"
    )
    assert_envelope(api.post("/schemas/generate", json={}), 422, "validation_error")


# -- files --------------------------------------------------------------------------------------
def test_files_upload_list_delete(api: httpx.Client, engine: Any) -> None:
    uploaded = api.post(
        "/files", files={"file": ("../../etc/cat alog.csv", CSV.encode(), "text/csv")}
    )
    assert uploaded.status_code == 201, uploaded.text
    meta = uploaded.json()
    assert meta["id"].startswith("file_") and meta["size"] == len(CSV.encode())
    assert meta["filename"] == "cat alog.csv" and meta["content_type"] == "text/csv"
    stored = engine.data_dir / "files" / meta["id"]
    assert stored.read_bytes() == CSV.encode()  # stored under the generated id only
    guessed = api.post(
        "/files", files={"file": ("notes.json", b"[]", "application/octet-stream")}
    ).json()
    assert guessed["content_type"] == "application/json"
    listed = api.get("/files", params={"limit": 1}).json()
    assert listed["pagination"]["total"] == 2 and listed["data"][0]["id"] == guessed["id"]
    assert api.delete(f"/files/{meta['id']}").status_code == 204
    assert not stored.exists()
    assert_envelope(api.delete(f"/files/{meta['id']}"), 404, "not_found")
    assert_envelope(
        api.post("/files", data={"other": "x"}, files={"nope": ("a", b"1")}),
        422,
        "validation_error",
    )
    assert_envelope(api.post("/files", json={"file": "x"}), 400, "invalid_request")


def test_upload_size_limit(engine_factory: Any) -> None:
    engine = engine_factory(max_upload_bytes=1000)
    headers = {"Authorization": f"Bearer {engine.api_key}"}
    with httpx.Client(base_url=engine.base_url, headers=headers) as api:
        ok = api.post("/files", files={"file": ("ok.csv", b"x" * 1000)})
        assert ok.status_code == 201 and ok.json()["size"] == 1000
        body = assert_envelope(
            api.post("/files", files={"file": ("big.csv", b"x" * 5000)}), 413, "invalid_request"
        )
        assert "1000 bytes" in body["message"]

        # Streaming (chunked, no Content-Length): refused while reading, nothing kept on disk.
        def chunks() -> Any:
            yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\n'
            for _ in range(10):
                yield b"y" * 500
            yield b"\r\n--B--\r\n"

        streamed = api.post(
            "/files", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=B"}
        )
        assert_envelope(streamed, 413, "invalid_request")
        assert api.get("/files").json()["pagination"]["total"] == 1
    assert sorted(p.name for p in (engine.data_dir / "files").iterdir()) == [ok.json()["id"]]


def test_interrupted_upload_leaves_no_part_file(tmp_path: Any) -> None:
    from starlette.requests import Request

    from lasso_notebook.server.routes.files import receive_upload

    sent = []

    async def receive() -> dict[str, Any]:
        if sent:
            raise asyncio.CancelledError  # e.g. the engine stopping mid-upload
        sent.append(1)
        head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        return {"type": "http.request", "body": head + b"x" * 1000, "more_body": True}

    headers = [(b"content-type", b"multipart/form-data; boundary=B")]
    request = Request({"type": "http", "method": "POST", "headers": headers}, receive)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(receive_upload(request, tmp_path, 1 << 20))
    assert list(tmp_path.iterdir()) == []  # the .part file went with the upload


def test_upload_the_store_refuses_leaves_no_file(
    api: httpx.Client, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(engine.store, "create_file", refuse)
    assert_envelope(api.post("/files", files={"file": ("a.csv", b"a,b\n")}), 500, "internal_error")
    assert list((engine.data_dir / "files").iterdir()) == []  # no orphan under a new id


# -- tables -------------------------------------------------------------------------------------
def test_create_table_shape_and_validation(api: httpx.Client) -> None:
    schema = products(api)
    response = api.post(
        "/tables",
        json={
            "name": "Q1",
            "schema_id": schema["id"],
            "source_text": CSV,
            "additional_context": "EU catalog",
            "enhancement_context": "Focus on specs",
        },
    )
    assert response.status_code == 201
    table = response.json()
    assert set(table) == {
        "id",
        "name",
        "schema_id",
        "status",
        "progress",
        "total_rows",
        "source_type",
        "additional_context",
        "enhancement_context",
        "error_message",
        "files",
        "created_at",
        "updated_at",
    }
    assert table["id"].startswith("tbl_") and table["status"] == "queued" and table["progress"] == 0
    assert (
        table["source_type"] == "text" and table["files"] == [] and table["error_message"] is None
    )
    assert TS_RE.match(table["created_at"]) and TS_RE.match(table["updated_at"])
    sid = schema["id"]
    for bad in (
        {"name": "x", "schema_id": sid},
        {"name": "x", "schema_id": sid, "source_text": "a", "file_urls": ["http://x.test/a.csv"]},
        {"name": "x", "schema_id": sid, "source_text": "   "},
        {"name": "x", "schema_id": sid, "file_ids": []},
        {"name": "x", "schema_id": sid, "file_urls": ["ftp://x.test/a.csv"]},
        {"name": "x", "schema_id": sid, "source_text": "a", "webhook_url": "file:///etc/passwd"},
        {"name": "", "schema_id": sid, "source_text": "a"},
    ):
        assert_envelope(api.post("/tables", json=bad), 422, "validation_error")
    body = assert_envelope(
        api.post("/tables", json={"name": "x", "schema_id": "schema_nope", "source_text": "a"}),
        422,
        "validation_error",
    )
    assert "schema_nope" in body["message"]
    body = assert_envelope(
        api.post("/tables", json={"name": "x", "schema_id": sid, "file_ids": ["file_nope"]}),
        422,
        "validation_error",
    )
    assert "file_nope" in body["message"]


@pytest.mark.parametrize(
    "name",
    [
        "Content-Length",
        "host",  # case does not matter
        "Content-Type",
        "Transfer-Encoding",
        "X-Lasso-Signature",
        "x-lasso-event",
        "X-Lasso-Delivery-Id",
    ],
)
def test_webhook_auth_header_name_may_not_be_a_reserved_one(api: httpx.Client, name: str) -> None:
    body = {
        "name": "x",
        "schema_id": products(api)["id"],
        "source_text": "a",
        "webhook_url": "http://127.0.0.1:9/hook",
        "webhook_auth_header_name": name,
        "webhook_auth_header_value": "v",
    }
    refused = assert_envelope(api.post("/tables", json=body), 422, "validation_error")
    assert "is reserved" in refused["message"]
    for reserved in ("Host", "Content-Length", "Transfer-Encoding", "X-Lasso-*"):
        assert reserved in refused["message"]  # says which names are reserved
    assert api.get("/tables").json()["data"] == []  # nothing was created


@pytest.mark.parametrize("name", ["X Token", "X-Token:", "X-Token\n", "X-Token\r\nHost", ""])
def test_webhook_auth_header_name_must_be_a_header_token(api: httpx.Client, name: str) -> None:
    body = {
        "name": "x",
        "schema_id": products(api)["id"],
        "source_text": "a",
        "webhook_auth_header_name": name,
    }
    assert_envelope(api.post("/tables", json=body), 422, "validation_error")
    fine = api.post("/tables", json={**body, "webhook_auth_header_name": "Authorization"})
    assert fine.status_code == 201, fine.text  # an ordinary auth header is still accepted


def test_table_keeps_its_own_copy_of_columns(api: httpx.Client) -> None:
    schema = api.post(
        "/schemas",
        json={"name": "S", "columns": [{"key": "name"}, {"key": "price", "type": "number"}]},
    ).json()
    created = api.post(
        "/tables", json={"name": "x", "schema_id": schema["id"], "source_text": CSV}
    ).json()
    api.put(f"/schemas/{schema['id']}", json={"columns": [{"key": "other"}]})
    api.delete(f"/schemas/{schema['id']}")
    columns = api.get(f"/tables/{created['id']}/columns").json()
    assert [c["key"] for c in columns["data"]] == ["name", "price"] and set(columns) == {"data"}
    assert wait(api, created["id"])["status"] == "completed"
    assert_envelope(api.get("/tables/tbl_nope/columns"), 404, "not_found")


def test_tables_list_search_status_update_delete(api: httpx.Client) -> None:
    a = completed_table(api, name="Spring Catalog")
    b = completed_table(api, name="autumn")
    failed = api.post(
        "/tables", json={"name": "broken", "schema_id": products(api)["id"], "source_text": "x"}
    ).json()
    assert wait(api, failed["id"])["status"] == "failed"
    listed = api.get("/tables").json()
    assert [t["id"] for t in listed["data"]] == [failed["id"], b["id"], a["id"]]  # newest first
    assert {"id", "name", "status", "total_rows", "schema_id", "created_at"} <= set(
        listed["data"][0]
    )
    assert [t["id"] for t in api.get("/tables", params={"search": "CATALOG"}).json()["data"]] == [
        a["id"]
    ]
    assert [t["id"] for t in api.get("/tables", params={"status": "failed"}).json()["data"]] == [
        failed["id"]
    ]
    assert api.get("/tables", params={"search": "%"}).json()["data"] == []  # not a wildcard
    assert_envelope(api.get("/tables", params={"status": "done"}), 422, "validation_error")
    other = api.post("/schemas", json={"name": "Other", "columns": [{"key": "title"}]}).json()
    patched = api.patch(
        f"/tables/{a['id']}",
        json={"name": "Renamed", "enhancement_context": "ctx", "schema_id": other["id"]},
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed" and patched.json()["enhancement_context"] == "ctx"
    assert patched.json()["schema_id"] == other["id"]
    assert [c["key"] for c in api.get(f"/tables/{a['id']}/columns").json()["data"]] == ["title"]
    assert_envelope(
        api.patch(f"/tables/{a['id']}", json={"schema_id": "schema_x"}), 422, "validation_error"
    )
    assert_envelope(api.patch(f"/tables/{a['id']}", json={"name": " "}), 422, "validation_error")
    assert_envelope(api.patch("/tables/tbl_nope", json={"name": "x"}), 404, "not_found")
    assert api.delete(f"/tables/{a['id']}").status_code == 204
    assert_envelope(api.get(f"/tables/{a['id']}"), 404, "not_found")
    assert_envelope(api.get(f"/tables/{a['id']}/rows"), 404, "not_found")
    assert_envelope(api.delete(f"/tables/{a['id']}"), 404, "not_found")


# -- rows ---------------------------------------------------------------------------------------
def test_rows_keep_their_ids_and_validation_errors(api: httpx.Client) -> None:
    table = completed_table(api, "name,price\nGood,1.5\nBad,not a price\n", name="V")
    good, bad = api.get(f"/tables/{table['id']}/rows").json()["data"]
    # Ids are the row's never-reused sequence number in hex (short, index-friendly).
    assert all(re.fullmatch(r"row_[0-9a-f]+", r["id"]) for r in (good, bad))
    assert good["id"] != bad["id"]
    assert good["validation_errors"] == [] and good["validation_status"] == "valid"
    assert bad["data"]["price"] is None and bad["validation_status"] != "valid"
    assert [e["column_key"] for e in bad["validation_errors"]] == ["price"]


def test_rows_list_sort_get(api: httpx.Client) -> None:
    table = completed_table(api)
    assert table["total_rows"] == 12 and table["progress"] == 100
    page = api.get(f"/tables/{table['id']}/rows", params={"limit": 5, "page": 3}).json()
    assert page["pagination"] == {"page": 3, "limit": 5, "total": 12}
    assert [r["row_index"] for r in page["data"]] == [10, 11]
    row = page["data"][0]
    assert set(row) == {
        "id",
        "row_index",
        "data",
        "validation_status",
        "validation_errors",
        "enhancement_status",
        "is_edited",
        "created_at",
        "source",  # provenance: the file (or "text") and line the row was read from
    }
    assert row["data"]["name"] == "Widget 10" and row["data"]["price"] == 10.5
    assert row["data"]["in_stock"] is False and row["data"]["tags"] == ["a", "b"]
    assert row["validation_status"] == "valid" and row["is_edited"] is False
    assert row["source"] == {"file": "text", "line": 12}  # header on line 1: Widget 10 is 12
    desc = api.get(
        f"/tables/{table['id']}/rows", params={"sort_by": "price", "sort_order": "desc", "limit": 3}
    )
    assert [r["data"]["price"] for r in desc.json()["data"]] == [11.5, 10.5, 9.5]
    asc = api.get(f"/tables/{table['id']}/rows", params={"sort_by": "name", "limit": 2}).json()
    assert [r["data"]["name"] for r in asc["data"]] == ["Widget 0", "Widget 1"]
    assert_envelope(
        api.get(f"/tables/{table['id']}/rows", params={"sort_by": "nope"}), 422, "validation_error"
    )
    assert_envelope(
        api.get(f"/tables/{table['id']}/rows", params={"sort_order": "up"}), 422, "validation_error"
    )
    assert_envelope(
        api.get(f"/tables/{table['id']}/rows", params={"limit": 101}), 422, "validation_error"
    )
    assert api.get(f"/tables/{table['id']}/rows/{row['id']}").json() == row
    assert_envelope(api.get(f"/tables/{table['id']}/rows/row_nope"), 404, "not_found")


def test_rows_update_delete_create_bulk(api: httpx.Client) -> None:
    table = completed_table(api)
    tid = table["id"]
    rows = api.get(f"/tables/{tid}/rows", params={"limit": 100}).json()["data"]
    first = rows[0]
    merged = api.put(
        f"/tables/{tid}/rows/{first['id']}", json={"data": {"price": 99, "brand": "Acme"}}
    )
    assert merged.status_code == 200
    assert merged.json()["data"] == {**first["data"], "price": 99, "brand": "Acme"}  # merge
    assert merged.json()["is_edited"] is True
    assert_envelope(
        api.put(f"/tables/{tid}/rows/{first['id']}", json={"data": {"colour": 1}}),
        422,
        "validation_error",
    )
    assert_envelope(api.put(f"/tables/{tid}/rows/{first['id']}", json={}), 422, "validation_error")
    assert_envelope(api.put(f"/tables/{tid}/rows/row_nope", json={"data": {}}), 404, "not_found")

    assert api.delete(f"/tables/{tid}/rows/{rows[1]['id']}").status_code == 204
    assert_envelope(api.delete(f"/tables/{tid}/rows/{rows[1]['id']}"), 404, "not_found")
    assert api.get(f"/tables/{tid}").json()["total_rows"] == 11

    created = api.post(
        f"/tables/{tid}/rows", json={"rows": [{"name": "New", "price": 1}, {"sku": "N2"}]}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["inserted_count"] == 2 and [r["row_index"] for r in body["data"]] == [12, 13]
    assert set(body["data"][0]) == {"id", "row_index", "data", "created_at"}
    bad = assert_envelope(
        api.post(
            f"/tables/{tid}/rows", json={"rows": [{"name": "ok"}, {"colour": "red", "size": 1}]}
        ),
        422,
        "validation_error",
    )
    assert "colour" in bad["message"] and "size" in bad["message"]
    assert_envelope(api.post(f"/tables/{tid}/rows", json={"rows": []}), 422, "validation_error")
    assert_envelope(
        api.post(f"/tables/{tid}/rows", json={"rows": [{}] * 1001}), 422, "validation_error"
    )
    assert api.get(f"/tables/{tid}").json()["total_rows"] == 13  # nothing from the refused calls

    ids = [rows[2]["id"], rows[3]["id"], "row_unknown"]
    updated = api.post(
        f"/tables/{tid}/rows/bulk-update",
        json={"row_ids": ids, "column_key": "tags", "value": ["x", 1]},
    )
    assert updated.status_code == 200 and updated.json() == {"updated_count": 2}
    after = api.get(f"/tables/{tid}/rows/{rows[2]['id']}").json()
    assert after["data"]["tags"] == ["x", 1] and after["is_edited"] is True
    assert_envelope(
        api.post(
            f"/tables/{tid}/rows/bulk-update",
            json={"row_ids": ids, "column_key": "nope", "value": 1},
        ),
        422,
        "validation_error",
    )
    assert_envelope(
        api.post(f"/tables/{tid}/rows/bulk-update", json={"row_ids": ids, "column_key": "sku"}),
        422,
        "validation_error",
    )
    deleted = api.post(f"/tables/{tid}/rows/bulk-delete", json={"row_ids": ids})
    assert deleted.json() == {"deleted_count": 2}
    assert_envelope(
        api.post(f"/tables/{tid}/rows/bulk-delete", json={"row_ids": []}), 422, "validation_error"
    )
    assert api.get(f"/tables/{tid}").json()["total_rows"] == 11
    assert_envelope(
        api.post("/tables/tbl_nope/rows/bulk-delete", json={"row_ids": ["x"]}), 404, "not_found"
    )


# -- export -------------------------------------------------------------------------------------
def test_export_formats(api: httpx.Client) -> None:
    table = completed_table(api, name="My export")
    tid = table["id"]
    as_csv = api.get(f"/tables/{tid}/export", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "My_export.csv" in as_csv.headers["content-disposition"]
    parsed = list(csv.reader(io.StringIO(as_csv.text), delimiter=";"))
    assert parsed[0] == [
        "Name",
        "SKU",
        "Brand",
        "Price",
        "Currency",
        "In stock",
        "Release date",
        "Tags",
        "URL",
    ]
    assert parsed[1] == ["Widget 0", "W000", "", "0.5", "", "false", "", "a, b", ""]
    assert len(parsed) == 13
    subset = api.get(
        f"/tables/{tid}/export", params={"format": "csv", "columns": "price,name"}
    ).text
    assert subset.splitlines()[:2] == ["Price;Name", "0.5;Widget 0"]
    as_json = api.get(
        f"/tables/{tid}/export", params={"format": "json", "columns": "name,in_stock"}
    )
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()[:2] == [
        {"name": "Widget 0", "in_stock": False},
        {"name": "Widget 1", "in_stock": True},
    ]
    as_xlsx = api.get(f"/tables/{tid}/export", params={"format": "xlsx"})
    assert (
        as_xlsx.headers["content-type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert (
        values[0][:4] == ("Name", "SKU", "Brand", "Price")
        and values[1][3] == 0.5
        and len(values) == 13
    )
    assert_envelope(
        api.get(f"/tables/{tid}/export", params={"format": "pdf"}), 422, "validation_error"
    )
    assert_envelope(api.get(f"/tables/{tid}/export"), 422, "validation_error")
    assert_envelope(
        api.get(f"/tables/{tid}/export", params={"format": "json", "columns": "nope"}),
        422,
        "validation_error",
    )
    assert_envelope(
        api.get(f"/tables/{tid}/export", params={"format": "images"}), 400, "invalid_request"
    )
    assert_envelope(api.get("/tables/tbl_nope/export", params={"format": "csv"}), 404, "not_found")


# -- isolation ----------------------------------------------------------------------------------
def test_two_keys_are_isolated(engine: Any, api: httpx.Client) -> None:
    table = completed_table(api)
    file_id = api.post("/files", files={"file": ("a.csv", b"name\nx\n")}).json()["id"]
    schema_id = products(api)["id"]
    row_id = api.get(f"/tables/{table['id']}/rows").json()["data"][0]["id"]
    other_key = engine.create_key()
    with httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {other_key}"}
    ) as other:
        theirs = products(other)
        assert theirs["id"] != schema_id  # each key has its own seeded schema
        assert other.get("/tables").json()["pagination"]["total"] == 0
        assert other.get("/files").json()["pagination"]["total"] == 0
        for method, path in (
            ("GET", f"/tables/{table['id']}"),
            ("GET", f"/tables/{table['id']}/rows"),
            ("GET", f"/tables/{table['id']}/rows/{row_id}"),
            ("GET", f"/tables/{table['id']}/columns"),
            ("DELETE", f"/tables/{table['id']}"),
            ("GET", f"/schemas/{schema_id}"),
            ("DELETE", f"/schemas/{schema_id}"),
            ("DELETE", f"/files/{file_id}"),
        ):
            assert_envelope(other.request(method, path), 404, "not_found")
        assert_envelope(
            other.post(
                "/tables", json={"name": "x", "schema_id": schema_id, "source_text": "a,b\n1,2"}
            ),
            422,
            "validation_error",
        )
        assert_envelope(
            other.post(
                "/tables", json={"name": "x", "schema_id": theirs["id"], "file_ids": [file_id]}
            ),
            422,
            "validation_error",
        )
    assert api.get(f"/tables/{table['id']}").status_code == 200  # untouched by the other key


def test_openapi_document_declares_bodies_and_security(engine: Any) -> None:
    doc = httpx.get(engine.base_url.removesuffix("/api/v1") + "/openapi.json").json()
    assert "/api/v1/files" in doc["paths"]
    upload = doc["paths"]["/api/v1/files"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert any("HTTPBearer" in s for s in doc["components"]["securitySchemes"])
    params = {p["name"]: p for p in doc["paths"]["/api/v1/tables"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100


def test_request_ids_are_unique_uuids(api: httpx.Client) -> None:
    ids = {api.get(f"/tables/tbl_{uuid.uuid4().hex}").json()["request_id"] for _ in range(5)}
    assert len(ids) == 5
