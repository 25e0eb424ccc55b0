"""End to end: the ingest API's OpenAPI 3.1 document matches its routes and what they really answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.web.process_api import OPENAPI_PATH
from bot.web.routes import build_web_app
from tests.bot_runner import RunningBot
from tests.ingest_api import API_TOKEN, BATCHES, WATCHES, api_client, post_watches

FOLLOWS = "/api/v1/process-status/follows"
EXAMPLES_PER_OPERATION = 25
"""Bounded so that the property-based run stays well under 30 s on the shared 2-core machine."""
SERVER_ERRORS_EXPECTED = {"503"}  # the database is down: not something a request can cause


@pytest.fixture
def api_bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    return start_bot(api_tokens=API_TOKEN)


def document(bot: RunningBot) -> dict[str, Any]:
    response = httpx.get(bot.url + OPENAPI_PATH, timeout=30)  # no token: the document is public
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_the_document_is_openapi_3_1_and_served_only_while_the_api_is_on(
    api_bot: RunningBot, start_bot: Callable[..., RunningBot]
) -> None:
    assert document(api_bot)["openapi"] == "3.1.0"
    assert httpx.get(start_bot().url + OPENAPI_PATH, timeout=30).status_code == 404


def test_the_document_lists_exactly_the_api_routes(api_bot: RunningBot) -> None:
    runtime = api_bot.runtime
    app = build_web_app(
        runtime.bolt_app,
        signing_secret=runtime.settings.slack_signing_secret.get_secret_value(),
        database_ready=runtime.store.ping,
        mount=runtime.mount_routes,
    )
    routed = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical != OPENAPI_PATH
        and route.method != "HEAD"
    }
    documented = {(method, path) for path, item in document(api_bot)["paths"].items() for method in item}
    assert documented == routed


def _answers(bot: RunningBot) -> list[tuple[str, str, httpx.Response]]:
    """(method, documented path, response) for requests that draw every answer a route gives."""
    created = post_watches(bot, {"ids": ["s1", "s2"], "label": "statuses"})
    batch_id = created.json()["batch_id"]
    with api_client(bot) as client, api_client(bot, token=None) as anonymous:
        json_headers = {"Content-Type": "application/json"}
        huge = b'{"ids": ["p1"], "label": "' + b"x" * (1024 * 1024) + b'"}'
        watches = [
            created,
            post_watches(bot, {"ids": ["s1", "s2"]}),
            post_watches(bot, {"ids": ["not ok!"]}),
            anonymous.post(WATCHES, json={"ids": ["p1"]}),
            client.post(WATCHES, content=huge, headers=json_headers),
            client.post(WATCHES, data={"ids": "p1"}),
        ]
        follow = {"entity_id": "order-1", "event_type": "CREATE_SHIPMENT"}
        follows = [
            client.post(FOLLOWS, json=follow),
            client.post(FOLLOWS, json=follow),
            client.post(FOLLOWS, json={**follow, "event_type": "NOT_AN_EVENT"}),
            anonymous.post(FOLLOWS, json=follow),
            client.post(FOLLOWS, content=huge, headers=json_headers),
            client.post(FOLLOWS, data=follow),
        ]
        one_follow = f"{FOLLOWS}/order-1/CREATE_SHIPMENT"
        return [
            *(("post", WATCHES, r) for r in watches),
            *(
                ("delete", WATCHES + "/{process_id}", r)
                for r in (
                    client.delete(f"{WATCHES}/s1"),
                    client.delete(f"{WATCHES}/s1"),
                    client.delete(f"{WATCHES}/bad%20id"),
                    anonymous.delete(f"{WATCHES}/s2"),
                )
            ),
            *(
                ("get", BATCHES + "/{batch_id}", r)
                for r in (
                    client.get(f"{BATCHES}/{batch_id}"),
                    client.get(f"{BATCHES}/0123456789abcdef"),
                    anonymous.get(f"{BATCHES}/{batch_id}"),
                )
            ),
            *(("post", FOLLOWS, r) for r in follows),
            *(
                ("delete", FOLLOWS + "/{entity_id}/{event_type}", r)
                for r in (
                    client.delete(one_follow),
                    client.delete(one_follow),
                    client.delete(one_follow, params={"channel": "general"}),
                    anonymous.delete(one_follow),
                )
            ),
        ]


def test_every_documented_status_is_one_a_route_really_answers_and_no_other(api_bot: RunningBot) -> None:
    paths = document(api_bot)["paths"]
    seen: dict[tuple[str, str], set[str]] = {}
    for method, path, response in _answers(api_bot):
        documented = paths[path][method]["responses"]
        status = str(response.status_code)
        assert status in documented, f"{method.upper()} {path} answered {status}: {response.text[:200]}"
        if "content" in documented[status]:
            [media_type] = documented[status]["content"]
            assert response.headers["Content-Type"].startswith(media_type)
        seen.setdefault((method, path), set()).add(status)
    for path, item in paths.items():
        for method, operation in item.items():
            assert seen[(method, path)] == set(operation["responses"]) - SERVER_ERRORS_EXPECTED


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_generated_requests_get_answers_that_conform_and_never_a_server_error(
    api_bot: RunningBot, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(api_bot.url + OPENAPI_PATH)
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    paths = document(api_bot)["paths"]
    operations = [schema[path][method] for path, item in paths.items() for method in item]
    assert len(operations) == 5
    strategy = st.one_of(*(operation.as_strategy(mode, headers=auth) for operation in operations))

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=api_bot.url, headers=auth, checks=checks)

    run()
