"""Property tests of ``tables.create``: a well-formed request is sent once, exactly as given; a
request that breaks one rule is refused before any network call with ``InvalidRequestError``
naming what to fix; and whatever else a user passes, it is one or the other, nothing else.
Examples: tests/conftest.py's hypothesis profiles (``make test`` fixed, ``make fuzz`` random)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
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
anything = st.none() | text | st.integers() | st.lists(text, max_size=2) | st.booleans()

# -- well-formed parts -------------------------------------------------------------------------
nonblank = st.text(min_size=1, max_size=40).filter(str.strip)
http_urls = st.builds(
    "{}://{}.test/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._~/%-]{0,24}", fullmatch=True),
)
SOURCES = ("source_text", "file_ids", "file_urls")

sent: list[httpx.Request] = []


def handler(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    return httpx.Response(201, json={"id": "tbl_1", "name": "n", "status": "queued"})


client = Lasso(
    api_key="lasso_fuzz", base_url="http://fuzz.test/api/v1", transport=httpx.MockTransport(handler)
)


@st.composite
def well_formed(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments of a valid ``tables.create`` call: each optional part present or not."""
    request: dict[str, Any] = {"schema_id": draw(nonblank), "name": draw(nonblank)}
    source = draw(st.sampled_from(SOURCES))
    if source == "source_text":
        request["source_text"] = draw(st.text(min_size=1, max_size=200).filter(str.strip))
    elif source == "file_ids":
        request["file_ids"] = draw(st.lists(nonblank, min_size=1, max_size=4))
    else:
        request["file_urls"] = draw(st.lists(http_urls, min_size=1, max_size=4))
    for optional in ("additional_context", "enhancement_context"):
        if draw(st.booleans()):
            request[optional] = draw(text)
    if draw(st.booleans()):
        request["webhook_url"] = draw(http_urls)
    return request


#: One rule broken at a time: (how, the words the refusal must contain).
BREAKAGES = {
    "blank schema": "schema_id must not be blank",
    "blank name": "name must not be blank",
    "no source": "exactly one source",
    "two sources": "exactly one source",
    "blank text": "source_text must not be blank",
    "no file ids": "file_ids must list at least one",
    "no urls": "file_urls must list at least one",
    "a non-http url": "file_urls must be http(s) URLs",
    "a non-http webhook": "webhook_url must be an http(s) URL",
}


@st.composite
def broken(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A well-formed request with one rule broken, and the words its refusal must contain."""
    request = draw(well_formed())
    how = draw(st.sampled_from(sorted(BREAKAGES)))
    blank = draw(st.sampled_from(["", " ", "\t", " \n "]))
    not_http = draw(st.sampled_from(["ftp://a.test/x", "file:///etc/passwd", "x", "", "http://"]))
    for source in SOURCES:
        request.pop(source, None)
    source = {"source_text": "a;b\n1;2\n"}
    if how == "blank schema":
        request["schema_id"] = blank
    elif how == "blank name":
        request["name"] = blank
    elif how == "no source":
        source = {}
    elif how == "two sources":
        source = {"source_text": "a", "file_urls": ["https://a.test/x.pdf"]}
    elif how == "blank text":
        source = {"source_text": blank}
    elif how == "no file ids":
        source = {"file_ids": []}
    elif how == "no urls":
        source = {"file_urls": []}
    elif how == "a non-http url":
        source = {"file_urls": [*draw(st.lists(http_urls, max_size=2)), not_http]}
    else:
        request["webhook_url"] = not_http
    return request | source, BREAKAGES[how]


@given(request=well_formed())
def test_a_well_formed_request_is_sent_once_exactly_as_given(request: dict[str, Any]) -> None:
    before = len(sent)
    table = client.tables.create(**request)
    assert table.id == "tbl_1"
    assert len(sent) == before + 1
    assert sent[-1].method == "POST" and sent[-1].url.path == "/api/v1/tables"
    assert json.loads(sent[-1].content) == request


@given(case=broken())
def test_a_request_breaking_one_rule_is_refused_before_sending(
    case: tuple[dict[str, Any], str],
) -> None:
    request, words = case
    before = len(sent)
    try:
        client.tables.create(**request)
    except InvalidRequestError as exc:
        message = str(exc)
    else:
        raise AssertionError(f"sent, though it breaks a rule ({words}): {request!r}")
    assert len(sent) == before
    assert message.startswith("invalid create-table request: ") and words in message, message
    assert len(message) < 600 and "Traceback" not in message


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
