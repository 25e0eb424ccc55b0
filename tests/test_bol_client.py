"""The real BolClient against the bol.com emulator, over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from bot.backend.transport import DEFAULT_MAX_CONCURRENT_REQUESTS, HttpOptions
from bot.bol.client import BolClient, Waits
from bot.bol.errors import BolAuthError, BolBadRequest, BolError, BolRateLimited, BolUnavailable
from bot.bol.models import ENTITY_PAGE_SIZE, MAX_BULK_IDS, ProcessState
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.bol import MEDIA_TYPE, BolEmulator

T = TypeVar("T")
API = "/shared/process-status"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class RecordingSleep:
    """Injected ``sleep``: records the requested delays, then yields to the loop without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def emulator() -> Iterator[BolEmulator]:
    server = BolEmulator()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


WAIT_OPTIONS = ("jitter_seconds", "max_rate_limit_waits", "max_retry_after_seconds", "sleep")


@asynccontextmanager
async def client_for(emulator: BolEmulator, **options: Any) -> AsyncIterator[BolClient]:
    settings: dict[str, Any] = {"timeout": 2.0, "jitter_seconds": 0.0}  # exact backoffs to assert on
    settings.update(options)
    secret = settings.pop("secret", emulator.client_secret)
    api_url = settings.pop("api_url", emulator.api_url)
    http = HttpOptions(
        timeout=settings.pop("timeout"),
        max_concurrent_requests=settings.pop("max_concurrent_requests", DEFAULT_MAX_CONCURRENT_REQUESTS),
    )
    waits = Waits(**{k: settings.pop(k) for k in WAIT_OPTIONS if k in settings})
    async with BolClient(
        api_url, emulator.token_url, emulator.client_id, SecretStr(secret), http=http, waits=waits, **settings
    ) as client:
        yield client


def single_gets(emulator: BolEmulator) -> list[RecordedRequest]:
    return emulator.single_requests()


def api_requests(emulator: BolEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.path.startswith("/shared/")]


# -- tokens ------------------------------------------------------------------------------
def test_token_is_fetched_once_with_basic_auth_and_form_body_then_reused(emulator: BolEmulator) -> None:
    first, second = emulator.add_process(), emulator.add_process()

    async def scenario() -> None:
        async with client_for(emulator) as client:
            assert (await client.get_process_status(first)) is not None
            assert (await client.get_process_status(second)) is not None
            await client.get_process_statuses([first, second])

    run(scenario())

    [token_request] = emulator.token_requests()
    expected_basic = base64.b64encode(b"bol-client:bol-secret").decode()
    assert token_request.headers["authorization"] == f"Basic {expected_basic}"
    assert token_request.headers["accept"] == "application/json"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_request.form() == {"grant_type": "client_credentials"}
    assert emulator.token_fetches == 1
    token = emulator.issued_tokens[0]
    calls = api_requests(emulator)
    assert len(calls) == 3
    for call in calls:
        assert call.headers["authorization"] == f"Bearer {token}"
        assert call.headers["accept"] == MEDIA_TYPE


def test_concurrent_first_calls_share_one_token_fetch(emulator: BolEmulator) -> None:
    ids = [emulator.add_process() for _ in range(20)]

    async def scenario() -> list[Any]:
        async with client_for(emulator) as client:
            return await asyncio.gather(*(client.get_process_status(i) for i in ids))

    statuses = run(scenario())

    assert [s.process_status_id for s in statuses] == ids
    assert emulator.token_fetches == 1
    assert len(emulator.token_requests()) == 1


def test_expired_token_is_replaced_once_and_the_call_repeated(emulator: BolEmulator) -> None:
    process_id = emulator.add_process()

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            await client.get_process_status(process_id)
            emulator.expire_tokens()
            return await client.get_process_status(process_id)

    status = run(scenario())

    assert status is not None and status.process_status_id == process_id
    assert emulator.token_fetches == 2
    gets = single_gets(emulator)
    assert len(gets) == 3  # ok, 401 Expired JWT, ok with the new token
    assert gets[1].headers["authorization"] == f"Bearer {emulator.issued_tokens[0]}"
    assert gets[2].headers["authorization"] == f"Bearer {emulator.issued_tokens[1]}"


def test_concurrent_calls_with_an_expired_token_refresh_only_once(emulator: BolEmulator) -> None:
    ids = [emulator.add_process() for _ in range(10)]

    async def scenario() -> list[Any]:
        async with client_for(emulator) as client:
            await client.fetch_token()
            emulator.expire_tokens()
            return await asyncio.gather(*(client.get_process_status(i) for i in ids))

    statuses = run(scenario())

    assert all(s is not None for s in statuses)
    assert emulator.token_fetches == 2


def test_token_is_renewed_before_it_expires(emulator: BolEmulator) -> None:
    emulator.token_ttl = 1  # cached for half its life: 0.5 s
    process_id = emulator.add_process()

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_process_status(process_id)
            await asyncio.sleep(0.6)
            await client.get_process_status(process_id)

    run(scenario())

    assert emulator.token_fetches == 2
    assert len(single_gets(emulator)) == 2  # no 401 round trip: renewed proactively


def test_fresh_token_still_refused_raises_auth_error(emulator: BolEmulator) -> None:
    process_id = emulator.add_process()
    emulator.fail_api_next(
        10,
        Response(status=401, body={"title": "Unauthorized", "status": 401, "detail": "No access"}),
    )

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_process_status(process_id)

    with pytest.raises(BolAuthError) as caught:
        run(scenario())

    assert caught.value.status == 401
    assert emulator.token_fetches == 2
    assert len(single_gets(emulator)) == 2


def test_wrong_secret_raises_auth_error_without_leaking_the_secret(
    emulator: BolEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-secret-value-7731"
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with client_for(emulator, secret=wrong) as client:
            assert wrong not in repr(client)
            await client.fetch_token()

    with pytest.raises(BolAuthError) as caught:
        run(scenario())

    error = caught.value
    assert error.status == 401
    assert "invalid_client" in error.message
    assert "bol-client" in error.message
    for text in (str(error), repr(error), error.message, str(error.detail), caplog.text):
        assert wrong not in text
    assert emulator.token_fetches == 0


def test_tokens_and_secret_never_reach_logs_or_errors(
    emulator: BolEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.bol")
    process_id = emulator.add_process()
    emulator.fail_api_next(5, Response(status=503, body="down"))

    async def scenario() -> None:
        async with client_for(emulator, sleep=RecordingSleep()) as client:
            await client.get_process_status(process_id)

    with pytest.raises(BolUnavailable) as caught:
        run(scenario())

    token = emulator.issued_tokens[0]
    bot_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert f"GET {API}/{process_id} -> 503" in bot_logs
    for text in (bot_logs, str(caught.value), repr(caught.value)):
        assert token not in text
        assert emulator.client_secret not in text


# -- one status --------------------------------------------------------------------------
def test_get_one_parses_every_field(emulator: BolEmulator) -> None:
    created = datetime(2018, 11, 14, 9, 34, 41, tzinfo=timezone(timedelta(hours=1)))
    process_id = emulator.add_process(
        event_type="UPDATE_OFFER_PRICE",
        entity_id="offer-1",
        description="Update price of offer-1",
        created_at=created,
    )
    emulator.set_status(process_id, "FAILURE", error_message="Price too low")

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.get_process_status(process_id)

    status = run(scenario())

    assert status.process_status_id == process_id
    assert status.event_type == "UPDATE_OFFER_PRICE"
    assert status.entity_id == "offer-1"
    assert status.description == "Update price of offer-1"
    assert status.state is ProcessState.FAILURE
    assert status.error_message == "Price too low"
    assert status.created_at == created
    assert status.created_at.utcoffset() == timedelta(hours=1)
    [request] = single_gets(emulator)
    assert request.path == f"{API}/{process_id}"


def test_get_one_returns_none_for_purged_and_unknown_ids(emulator: BolEmulator) -> None:
    process_id = emulator.add_process()
    emulator.purge(process_id)

    async def scenario() -> tuple[Any, Any]:
        async with client_for(emulator) as client:
            return await client.get_process_status(process_id), await client.get_process_status("nope")

    assert run(scenario()) == (None, None)
    assert [r.path for r in single_gets(emulator)] == [f"{API}/{process_id}", f"{API}/nope"]


def test_ids_are_quoted_in_the_path_and_empty_ids_rejected(emulator: BolEmulator) -> None:
    async def scenario() -> Any:
        async with client_for(emulator) as client:
            for bad in ("", "   ", "..", "a\nb"):
                with pytest.raises(ValueError):
                    await client.get_process_status(bad)
            with pytest.raises(ValueError):
                await client.get_process_statuses(["ok", ""])
            return await client.get_process_status("a/b?c=1#d")

    assert run(scenario()) is None
    [request] = single_gets(emulator)
    assert request.path == f"{API}/a%2Fb%3Fc%3D1%23d"
    assert request.query == {}


def test_lenient_parsing_of_unknown_status_and_bad_timestamp(
    emulator: BolEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    body = {
        "processStatusId": "42",
        "eventType": "CREATE_SHIPMENT",
        "description": "odd",
        "status": "QUEUED",
        "createTimestamp": "yesterday",
        "links": [{"rel": "self", "href": "x", "method": "GET"}, "junk"],
    }
    emulator.fail_api_next(1, Response(body=body, content_type=MEDIA_TYPE))

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.get_process_status("42")

    status = run(scenario())

    assert status.state is ProcessState.PENDING
    assert status.created_at is None
    assert status.entity_id is None
    assert any("QUEUED" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_non_json_success_answer_is_a_bol_error(emulator: BolEmulator) -> None:
    emulator.fail_api_next(1, Response(body="<html>ok</html>", content_type="text/html"))

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_process_status("42")

    with pytest.raises(BolError) as caught:
        run(scenario())
    assert "without a JSON object" in caught.value.message


# -- bulk --------------------------------------------------------------------------------
def test_bulk_of_2500_ids_is_three_posts_of_1000_1000_500(emulator: BolEmulator) -> None:
    ids = [emulator.add_process() for _ in range(2500)]
    with_duplicates = ids + ids[:10]

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.get_process_statuses(with_duplicates)

    result = run(scenario())

    posts = emulator.bulk_requests()
    assert [len(chunk) for chunk in emulator.bulk_ids()] == [MAX_BULK_IDS, MAX_BULK_IDS, 500]
    assert [i for chunk in emulator.bulk_ids() for i in chunk] == ids
    token = emulator.issued_tokens[0]
    for post in posts:
        assert post.headers["content-type"] == MEDIA_TYPE
        assert post.headers["accept"] == MEDIA_TYPE
        assert post.headers["authorization"] == f"Bearer {token}"
        assert list(post.json()) == ["processStatusQueries"]
        assert all(list(q) == ["processStatusId"] for q in post.json()["processStatusQueries"])
    assert set(result.found) == set(ids)
    assert result.purged == set()
    assert all(s.state is ProcessState.PENDING for s in result.found.values())


def test_bulk_reports_purged_and_unknown_ids(emulator: BolEmulator) -> None:
    done, pending, gone = emulator.add_process(), emulator.add_process(), emulator.add_process()
    emulator.set_status(done, "SUCCESS")
    emulator.purge(gone)

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.get_process_statuses([done, gone, pending, "never-existed"])

    result = run(scenario())

    assert set(result.found) == {done, pending}
    assert result.found[done].state is ProcessState.SUCCESS
    assert result.purged == {gone, "never-existed"}
    assert emulator.bulk_ids() == [[done, gone, pending, "never-existed"]]


def test_bulk_without_ids_makes_no_call(emulator: BolEmulator) -> None:
    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.get_process_statuses([])

    result = run(scenario())

    assert result.found == {} and result.purged == set()
    assert emulator.requests == []


# -- by entity ----------------------------------------------------------------------------
def test_entity_query_sends_params_and_pages_newest_first(emulator: BolEmulator) -> None:
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ids = [
        emulator.add_process("CREATE_SHIPMENT", "555", created_at=start + timedelta(minutes=i))
        for i in range(120)
    ]
    emulator.add_process("CREATE_SHIPMENT", "556")
    emulator.add_process("CANCEL_ORDER", "555")
    newest_first = list(reversed(ids))

    async def scenario() -> list[list[Any]]:
        async with client_for(emulator) as client:
            return [await client.get_by_entity("555", "CREATE_SHIPMENT", page) for page in (1, 2, 3, 4)]

    pages = run(scenario())

    assert [len(p) for p in pages] == [ENTITY_PAGE_SIZE, ENTITY_PAGE_SIZE, 20, 0]
    assert [s.process_status_id for page in pages for s in page] == newest_first
    assert all(s.entity_id == "555" and s.event_type == "CREATE_SHIPMENT" for p in pages for s in p)
    requests = emulator.entity_requests()
    assert [r.query for r in requests] == [
        {"entity-id": ["555"], "event-type": ["CREATE_SHIPMENT"], "page": [str(page)]}
        for page in (1, 2, 3, 4)
    ]


def test_entity_ids_with_special_characters_arrive_intact(emulator: BolEmulator) -> None:
    entity = "R 12&page=9/x"
    process_id = emulator.add_process("HANDLE_RETURN_ITEM", entity)

    async def scenario() -> list[Any]:
        async with client_for(emulator) as client:
            with pytest.raises(ValueError):
                await client.get_by_entity("", "HANDLE_RETURN_ITEM")
            with pytest.raises(ValueError):
                await client.get_by_entity("1", "HANDLE_RETURN_ITEM", page=0)
            return await client.get_by_entity(entity, "HANDLE_RETURN_ITEM")

    [status] = run(scenario())

    assert status.process_status_id == process_id
    [request] = emulator.entity_requests()
    assert request.q("entity-id") == entity
    assert request.q("page") == "1"


def test_empty_object_answer_means_no_statuses(emulator: BolEmulator) -> None:
    emulator.empty_as_object = True

    async def scenario() -> tuple[list[Any], Any]:
        async with client_for(emulator) as client:
            return await client.get_by_entity("1", "CREATE_SHIPMENT"), await client.get_process_statuses(
                ["x"]
            )

    listed, bulk = run(scenario())

    assert listed == []
    assert bulk.purged == {"x"}


def test_unknown_event_type_is_a_bad_request_with_violations(emulator: BolEmulator) -> None:
    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_by_entity("555", "SHIP_IT")

    with pytest.raises(BolBadRequest) as caught:
        run(scenario())

    error = caught.value
    assert error.status == 400
    assert error.title is not None and error.title.startswith("Error validating request")
    assert [v.name for v in error.violations] == ["event-type"]
    assert "'SHIP_IT'" in error.violations[0].reason
    assert "SHIP_IT" in error.message


def test_other_4xx_is_a_plain_bol_error(emulator: BolEmulator) -> None:
    emulator.fail_api_next(
        1,
        Response(
            status=403,
            body={
                "type": "https://api.bol.com/problems",
                "title": "Forbidden",
                "status": 403,
                "detail": "No",
            },
            content_type=MEDIA_TYPE,
        ),
    )

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_by_entity("555", "CREATE_SHIPMENT")

    with pytest.raises(BolError) as caught:
        run(scenario())

    assert type(caught.value) is BolError
    assert caught.value.status == 403
    assert caught.value.title == "Forbidden"


# -- rate limits ----------------------------------------------------------------------------
def test_429_waits_retry_after_then_succeeds(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    process_id = emulator.add_process()
    emulator.rate_limit_next(2, retry_after="2")

    async def scenario() -> Any:
        async with client_for(emulator, sleep=sleep) as client:
            return await client.get_process_status(process_id)

    status = run(scenario())

    assert status is not None and status.process_status_id == process_id
    assert sleep.calls == [2.0, 2.0]
    assert len(single_gets(emulator)) == 3


def test_retry_after_http_date_missing_and_huge_values(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    process_id = emulator.add_process()
    in_ten_seconds = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    emulator.rate_limit_next(1, retry_after=in_ten_seconds)
    emulator.rate_limit_next(1, retry_after=None)
    emulator.rate_limit_next(1, retry_after="3600")

    async def scenario() -> Any:
        async with client_for(emulator, sleep=sleep, max_retry_after_seconds=30) as client:
            return await client.get_process_status(process_id)

    assert run(scenario()) is not None
    date_wait, missing_wait, huge_wait = sleep.calls
    assert 7 <= date_wait <= 10
    assert missing_wait == 1.0
    assert huge_wait == 30


def test_persistent_429_raises_rate_limited_after_the_bound(
    emulator: BolEmulator, sleep: RecordingSleep
) -> None:
    emulator.rate_limit_next(100, retry_after="1")

    async def scenario() -> None:
        async with client_for(emulator, sleep=sleep, max_rate_limit_waits=3) as client:
            await client.get_process_statuses(["a", "b"])

    with pytest.raises(BolRateLimited) as caught:
        run(scenario())

    assert caught.value.status == 429
    assert sleep.calls == [1.0, 1.0, 1.0]
    assert len(emulator.bulk_requests()) == 4


# -- unavailability ----------------------------------------------------------------------------
def test_5xx_is_retried_with_backoff_then_unavailable(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    emulator.fail_api_next(
        100,
        Response(status=503, body={"title": "Service Unavailable", "status": 503, "detail": "down"}),
    )

    async def scenario() -> None:
        async with client_for(emulator, sleep=sleep) as client:
            await client.get_process_statuses(["a"])

    with pytest.raises(BolUnavailable) as caught:
        run(scenario())

    assert caught.value.status == 503
    assert caught.value.message == "bol.com is unavailable (HTTP 503): down"
    assert len(emulator.bulk_requests()) == 3
    assert sleep.calls == [0.25, 0.5]


def test_one_5xx_with_html_body_is_retried_and_succeeds(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    process_id = emulator.add_process()
    emulator.fail_api_next(1, Response(status=502, body="<html>Bad Gateway</html>", content_type="text/html"))

    async def scenario() -> Any:
        async with client_for(emulator, sleep=sleep) as client:
            return await client.get_process_status(process_id)

    status = run(scenario())

    assert status is not None and status.process_status_id == process_id
    assert sleep.calls == [0.25]


def test_connection_refused_is_unavailable(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async def scenario() -> None:
        async with client_for(emulator, sleep=sleep, api_url=f"http://127.0.0.1:{closed_port}") as client:
            await client.get_process_status("1")

    with pytest.raises(BolUnavailable) as caught:
        run(scenario())

    assert caught.value.message == "bol.com is not reachable (ConnectError)"
    assert len(sleep.calls) == 2


def test_slow_answers_time_out_as_unavailable(emulator: BolEmulator, sleep: RecordingSleep) -> None:
    def slow(request: RecordedRequest) -> Response | None:
        if request.path.startswith("/shared/"):
            time.sleep(0.5)
        return None

    emulator.inject(slow)

    async def scenario() -> None:
        async with client_for(emulator, sleep=sleep, timeout=0.1) as client:
            await client.get_process_status("1")

    with pytest.raises(BolUnavailable) as caught:
        run(scenario())

    assert "did not answer within 0.1s" in caught.value.message
    assert len(single_gets(emulator)) == 3


# -- the emulator itself follows the spec ---------------------------------------------------------
def test_emulator_enforces_media_types_and_bulk_size(emulator: BolEmulator) -> None:
    token = httpx.post(
        emulator.token_url, data={"grant_type": "client_credentials"}, auth=("bol-client", "bol-secret")
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{emulator.api_url}{API}"

    not_acceptable = httpx.get(f"{url}/1", headers={**auth, "Accept": "application/json"})
    assert not_acceptable.status_code == 406
    unsupported = httpx.post(url, headers={**auth, "Accept": MEDIA_TYPE}, json={"processStatusQueries": []})
    assert unsupported.status_code == 415
    headers = {**auth, "Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE}
    for count in (0, MAX_BULK_IDS + 1):
        body = {"processStatusQueries": [{"processStatusId": str(i)} for i in range(count)]}
        too_many = httpx.post(url, headers=headers, json=body)
        assert too_many.status_code == 400
        assert too_many.json()["violations"][0]["name"] == "processStatusQueries"
    assert httpx.get(f"{url}/1", headers={"Accept": MEDIA_TYPE}).status_code == 401
    bad_grant = httpx.post(
        emulator.token_url, data={"grant_type": "password"}, auth=("bol-client", "bol-secret")
    )
    assert bad_grant.status_code == 400
    assert httpx.post(emulator.token_url, data={"grant_type": "client_credentials"}).json() == {
        "error": "invalid_client",
        "error_description": "Bad client credentials",
    }
