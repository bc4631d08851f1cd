"""The form's preview cells: numbers alike per column (the decimals the column needs, two for
money), booleans as ✓ / ✗, missing values empty; and the completed form's validation line."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from lasso_notebook import Lasso, SubmitForm, resolve_schema
from lasso_notebook.widgets._form_preview import number_format, preview_of


def test_preview_formats_each_column_consistently() -> None:
    df = pd.DataFrame(
        {
            "price": pd.array([129.0, 89.5, None], dtype="Float64"),
            "Preis (brutto)": pd.array([10.0, 20.0, 30.0], dtype="Float64"),
            "weight": pd.array([1.25, 3.5, 2.0], dtype="Float64"),
            "qty": pd.array([3, None, 4], dtype="Int64"),
            "in_stock": pd.array([True, False, None], dtype="boolean"),
            "name": pd.array(["Drill", None, "Saw"], dtype="string"),
            "tags": [["a", "b"], [], None],
            "released": pd.to_datetime(["2025-03-10", None, "2025-03-10 14:30"], format="ISO8601"),
        }
    )
    columns = [{"key": "price", "label": "Price", "type": "number"}]
    preview = preview_of(df, columns)
    cells = [row["cells"] for row in preview["rows"]]
    assert cells == [
        ["129.00", "10.00", "1.25", "3", "✓", "Drill", "a, b", "2025-03-10"],
        ["89.50", "20.00", "3.50", "", "✗", "", "", ""],
        ["", "30.00", "2.00", "4", "", "Saw", "", "2025-03-10 14:30:00"],
    ]
    assert preview["columns"][0] == {"key": "price", "label": "Price", "type": "number"}


def test_number_format() -> None:
    assert [number_format([0.5, 1.0])(v) for v in (0.5, 1.0)] == ["0.5", "1.0"]
    assert number_format([1e-9])(1e-9) == "0.000000"  # at most six decimals
    assert number_format([], money=True)(3) == "3.00"
    assert number_format([2, 3])(float("nan")) == ""


def test_the_completed_form_shows_the_validation_line(engine: Any) -> None:
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    products = resolve_schema(client, "Products")
    form = SubmitForm(client=client)
    job = form.submit(
        {
            "schema_id": products.id,
            "name": "form with bad values",
            "source": "text",
            "text": "name;sku;price\nDrill;D1;129.00\nSaw;S1;free\n",
        }
    )
    assert job is not None
    job.wait(timeout=60)
    deadline = time.monotonic() + 10
    while form.phase != "completed":
        assert time.monotonic() < deadline, (form.phase, form.errors)
        time.sleep(0.05)
    assert form.job_state["validation"] == (
        '2 rows: 1 valid · 1 with errors — price: 1 value not a number ("free")'
    )
    price = [c["key"] for c in form.preview["columns"]].index("price")
    assert [row["cells"][price] for row in form.preview["rows"]] == ["129.00", ""]
    assert form.job_state["validation"] in form.fallback_text()
    form.close()
