"""The client against the embedded engine over real loopback HTTP: every resource, auto-
pagination, the documented SDK example, error mapping and the embedded default."""

from __future__ import annotations

import asyncio
import io

import pytest

from lasso_notebook import AsyncLasso, Lasso
from lasso_notebook.errors import (
    AuthenticationError,
    NotFoundError,
    UnprocessableEntityError,
)

CSV = "name;sku;price;in_stock\n" + "".join(
    f"Widget {i};W{i:03d};{i}.50;{'yes' if i % 2 else 'no'}\n" for i in range(30)
)


@pytest.fixture
def client(engine) -> Lasso:
    with Lasso(api_key=engine.api_key, base_url=engine.base_url) as client:
        yield client


def products_id(client: Lasso) -> str:
    return next(s.id for s in client.schemas.list(limit=100) if s.name == "Products")


def test_documented_sdk_example_runs_unchanged(client: Lasso) -> None:
    table = client.tables.create(
        schema_id=products_id(client), name="Q1 Product Catalog", source_text=CSV
    )
    assert table["id"] and table["status"] in ("queued", "processing")
    completed = client.tables.wait_for_completion(table["id"], interval_s=0.2, timeout_s=60)
    assert completed["status"] == "completed"
    assert completed["total_rows"] == 30


def test_rows_pages_iterate_every_row_exactly_once(client: Lasso) -> None:
    table = client.tables.create(schema_id=products_id(client), name="paging", source_text=CSV)
    client.tables.wait_for_completion(table.id, interval_s=0.1, timeout_s=60)
    first = client.tables.rows(table.id, page=1, limit=7)
    assert len(first.data) == 7 and first.pagination.total == 30
    indexes = [row.row_index for row in first]  # walks pages 1..5
    assert sorted(indexes) == list(range(30)) and len(set(indexes)) == 30
    assert [row.data["sku"] for row in client.tables.iter_rows(table.id, limit=11)] == [
        f"W{i:03d}" for i in range(30)
    ]
    descending = client.tables.rows(table.id, limit=3, sort_by="price", sort_order="desc")
    assert [row.data["price"] for row in descending.data] == [29.5, 28.5, 27.5]


def test_schemas_crud_and_generate(client: Lasso) -> None:
    schema = client.schemas.create(
        name="Tools",
        description="hand tools",
        columns=[{"key": "title", "label": "Title", "type": "text", "required": True}],
    )
    assert schema.columns[0].key == "title" and schema.description == "hand tools"
    assert client.schemas.get(schema.id).name == "Tools"
    updated = client.schemas.update(
        schema.id,
        columns=[
            {"key": "title", "label": "Title", "type": "text"},
            {"key": "weight", "label": "Weight", "type": "number"},
        ],
    )
    assert [c.key for c in updated.columns] == ["title", "weight"]
    generated = client.schemas.generate(
        "name,price,url\nDrill,129.00,https://x.test/d\n", name="Gen"
    )
    assert {c.key for c in generated.columns} >= {"name", "price", "url"}
    client.schemas.delete(schema.id)
    with pytest.raises(NotFoundError):
        client.schemas.get(schema.id)


def test_files_upload_list_delete_and_table_from_file(client: Lasso, tmp_path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(CSV)
    from_path = client.files.upload(path)
    from_bytes = client.files.upload(CSV.encode(), filename="bytes.csv")
    from_stream = client.files.upload(io.BytesIO(CSV.encode()), filename="stream.csv")
    assert from_path.filename == "catalog.csv" and from_path.size == len(CSV.encode())
    listed = {f.id for f in client.files.list(limit=2)}  # iterates across pages
    assert {from_path.id, from_bytes.id, from_stream.id} <= listed
    table = client.tables.create(
        schema_id=products_id(client), name="from file", file_ids=[from_path.id]
    )
    done = client.tables.wait_for_completion(table.id, interval_s=0.1, timeout_s=60)
    assert done.status == "completed" and done.total_rows == 30
    client.files.delete(from_bytes.id)
    assert from_bytes.id not in {f.id for f in client.files.list(limit=100)}


def test_tables_list_filter_update_columns_export_delete(client: Lasso) -> None:
    table = client.tables.create(schema_id=products_id(client), name="Export me", source_text=CSV)
    client.tables.wait_for_completion(table.id, interval_s=0.1, timeout_s=60)
    assert [t.id for t in client.tables.list(search="export ME").data] == [table.id]
    assert table.id in {t.id for t in client.tables.list(status="completed", limit=100).data}
    assert client.tables.update(table.id, name="Renamed").name == "Renamed"
    keys = [c.key for c in client.tables.columns(table.id)]
    assert keys[:4] == ["name", "sku", "brand", "price"]
    csv_text = client.tables.export(table.id, "csv", columns=["name", "price"])
    assert csv_text.splitlines()[1].split(";") == ["Widget 0", "0.5"]
    as_json = client.tables.export(table.id, "json")
    assert as_json[3]["sku"] == "W003" and len(as_json) == 30
    xlsx = client.tables.export(table.id, "xlsx")
    assert xlsx[:2] == b"PK"
    client.tables.delete(table.id)
    with pytest.raises(NotFoundError):
        client.tables.get(table.id)


def test_server_errors_map_to_exceptions(client: Lasso, engine) -> None:
    with pytest.raises(NotFoundError) as info:
        client.tables.get("tbl_does_not_exist")
    assert info.value.request_id and info.value.error_type == "not_found"
    with pytest.raises(UnprocessableEntityError):
        client.tables.create(schema_id="schema_missing", name="x", source_text="a,b")
    with Lasso(api_key="lasso_" + "0" * 64, base_url=engine.base_url) as stranger:
        with pytest.raises(AuthenticationError) as auth:
            stranger.schemas.list()
        assert "LASSO_API_KEY" in str(auth.value)


def test_async_client_against_engine(engine) -> None:
    async def main() -> tuple[int, str]:
        async with AsyncLasso(api_key=engine.api_key, base_url=engine.base_url) as client:
            schemas = await client.schemas.list()
            schema = next(s for s in schemas.data if s.name == "Products")
            table = await client.tables.create(schema_id=schema.id, name="async", source_text=CSV)
            done = await client.tables.wait_for_completion(table.id, interval_s=0.1, timeout_s=60)
            rows = [row async for row in client.tables.iter_rows(table.id, limit=9)]
            return len(rows), done.status

    assert asyncio.run(main()) == (30, "completed")


def test_two_keys_do_not_see_each_other(engine) -> None:
    other_key = engine.create_key()
    with (
        Lasso(api_key=engine.api_key, base_url=engine.base_url) as mine,
        Lasso(api_key=other_key, base_url=engine.base_url) as theirs,
    ):
        table = mine.tables.create(schema_id=products_id(mine), name="private", source_text=CSV)
        with pytest.raises(NotFoundError):
            theirs.tables.get(table.id)
        assert table.id not in {t.id for t in theirs.tables.list(limit=100).data}
