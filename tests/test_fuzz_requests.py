"""Property tests: whatever a user passes to ``tables.create``, either the request is valid and
sent once, or ``InvalidRequestError`` explains why before any network call. Nothing else.
``LASSO_FUZZ_EXAMPLES`` sets the number of examples (``make fuzz``: 500)."""

from __future__ import annotations

import os

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lasso_notebook.client import Lasso
from lasso_notebook.errors import InvalidRequestError

text = st.text(max_size=40)
maybe_text = st.none() | text
urls = st.lists(
    st.sampled_from(["https://a.test/x.pdf", "http://b.test", "ftp://c", "", "x"]) | text,
    max_size=3,
)
ids = st.lists(text, max_size=3)
EXAMPLES = int(os.environ.get("LASSO_FUZZ_EXAMPLES") or 150)
anything = st.none() | text | st.integers() | st.lists(text, max_size=2) | st.booleans()

sent: list[httpx.Request] = []


def handler(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    return httpx.Response(201, json={"id": "tbl_1", "name": "n", "status": "queued"})


client = Lasso(
    api_key="lasso_fuzz", base_url="http://fuzz.test/api/v1", transport=httpx.MockTransport(handler)
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schema_id=text | anything,
    name=text | anything,
    file_ids=st.none() | ids,
    file_urls=st.none() | urls,
    source_text=maybe_text,
    additional_context=maybe_text,
    webhook_url=st.none() | st.sampled_from(["https://hook.test/x", "javascript:x", ""]) | text,
)
def test_create_table_input_is_sent_or_refused_clearly(**kwargs: object) -> None:
    before = len(sent)
    try:
        table = client.tables.create(**kwargs)  # type: ignore[arg-type]
    except InvalidRequestError as exc:
        message = str(exc)
        assert message.startswith("invalid create-table request: ")
        assert len(message) < 600 and "Traceback" not in message
        assert len(sent) == before
    else:
        assert table.id == "tbl_1"
        assert len(sent) == before + 1
        sources = [k for k in ("file_ids", "file_urls", "source_text") if kwargs[k] is not None]
        assert len(sources) == 1
