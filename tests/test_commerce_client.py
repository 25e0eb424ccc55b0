"""The real CommerceClient against the Commerce emulator, over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from bot.backend.retry import ReadRetry
from bot.backend.transport import DEFAULT_MAX_CONCURRENT_REQUESTS, HttpOptions
from bot.commerce.client import READ_ATTEMPTS, READ_JITTER_SECONDS, CommerceClient
from bot.commerce.errors import (
    ApprovalNotFound,
    ApprovalRejectedByCommerce,
    CommerceAuthError,
    CommerceError,
    CommerceForbidden,
    CommerceUnavailable,
    OrderNotFound,
)
from bot.commerce.models import (
    ApprovalKind,
    ApprovalListing,
    ApprovalQuery,
    ApprovalState,
    Decision,
    OrderSummary,
)
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.commerce_people import DEFAULT_ORGANIZATION

T = TypeVar("T")
LIST_PATH = "/approval_status"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.fixture
def emulator() -> Iterator[CommerceEmulator]:
    server = CommerceEmulator()
    server.start()
    yield server
    server.stop()


async def skip_wait(seconds: float) -> None:
    """Injected ``sleep`` for read retries: yields to the loop without waiting."""
    await asyncio.sleep(0)


@asynccontextmanager
async def client_for(emulator: CommerceEmulator, **options: Any) -> AsyncIterator[CommerceClient]:
    settings: dict[str, Any] = {"timeout": 2.0, "backoff_seconds": 0.01, "sleep": skip_wait}
    settings.update(options)
    password = settings.pop("password", emulator.password)
    base_url = settings.pop("base_url", None) or emulator.base_url
    http = HttpOptions(
        timeout=settings.pop("timeout"),
        max_concurrent_requests=settings.pop("max_concurrent_requests", DEFAULT_MAX_CONCURRENT_REQUESTS),
    )
    read_retry = ReadRetry(
        attempts=settings.pop("read_attempts", READ_ATTEMPTS),
        backoff_seconds=settings.pop("backoff_seconds"),
        jitter_seconds=settings.pop("jitter_seconds", READ_JITTER_SECONDS),
        sleep=settings.pop("sleep"),
    )
    async with CommerceClient(
        base_url,
        emulator.store_id,
        emulator.logon_id,
        SecretStr(password),
        http=http,
        read_retry=read_retry,
        **settings,
    ) as client:
        yield client


def approval_gets(emulator: CommerceEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "GET" and "/approval_status" in r.path]


def posts_to(emulator: CommerceEmulator, approval_id: str) -> list[RecordedRequest]:
    return emulator.requests_to("POST", f"/approval_status/{approval_id}")


def expired_token_response() -> Response:
    return Response(
        status=401,
        body={
            "errors": [
                {
                    "errorKey": "_ERR_ACTIVITY_TOKEN",
                    "errorParameters": ["10023"],
                    "errorMessage": "CWXFR0223E: The activity token 10023 is invalid or has expired.",
                    "errorCode": "CWXFR0223E",
                }
            ]
        },
    )


def only(predicate: Callable[[RecordedRequest], bool], response: Response) -> Callable[..., Response | None]:
    return lambda request: response if predicate(request) else None


def is_get(request: RecordedRequest) -> bool:
    return request.method == "GET"


def is_post(request: RecordedRequest) -> bool:
    return request.method == "POST" and "/approval_status/" in request.path


class Slow:
    """An injected rule that delays matching requests; ``settle()`` waits until they are answered."""

    def __init__(self, predicate: Callable[[RecordedRequest], bool], seconds: float) -> None:
        self.predicate = predicate
        self.seconds = seconds
        self.in_flight = 0
        self.changed = threading.Condition()

    def __call__(self, request: RecordedRequest) -> Response | None:
        if self.predicate(request):
            with self.changed:
                self.in_flight += 1
            time.sleep(self.seconds)
            with self.changed:
                self.in_flight -= 1
                self.changed.notify_all()
        return None

    def settle(self) -> None:
        """Keep the server's late answers (to a client that gave up) inside the test."""
        with self.changed:
            assert self.changed.wait_for(lambda: self.in_flight == 0, timeout=5)
        time.sleep(0.05)


def slow(emulator: CommerceEmulator, predicate: Callable[[RecordedRequest], bool], seconds: float) -> Slow:
    rule = Slow(predicate, seconds)
    emulator.inject(rule)
    return rule


# -- login and session ---------------------------------------------------------------------


def test_logs_in_lazily_and_sends_both_tokens_on_every_call(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)

    async def scenario() -> None:
        async with client_for(emulator) as client:
            assert emulator.requests == []  # nothing until the first call
            await client.list_approvals(ApprovalQuery())
            await client.get_approval(approval_id)
            await client.decide(approval_id, Decision.APPROVE, "ok")

    run(scenario())
    logins = emulator.requests_to("POST", "/loginidentity")
    assert len(logins) == 1
    assert logins[0].json() == {"logonId": "approver1", "logonPassword": "passw0rd"}
    assert emulator.requests[0] is logins[0]
    ((wc_token, trusted),) = emulator.issued_tokens.items()
    approval_calls = [r for r in emulator.requests if "/approval_status" in r.path]
    assert len(approval_calls) == 3
    for request in approval_calls:
        assert request.headers["wctoken"] == wc_token
        assert request.headers["wctrustedtoken"] == trusted
        assert request.path.startswith("/wcs/resources/store/10801/")


def test_concurrent_first_calls_log_in_once(emulator: CommerceEmulator) -> None:
    slow(emulator, lambda r: r.path.endswith("/loginidentity"), 0.2)

    async def scenario() -> None:
        async with client_for(emulator) as client:
            pages = await asyncio.gather(*(client.list_approvals(ApprovalQuery()) for _ in range(8)))
            assert all(page.items == [] for page in pages)

    run(scenario())
    assert emulator.logins == 1
    assert len(emulator.requests_to("POST", "/loginidentity")) == 1
    assert len(approval_gets(emulator)) == 8


def test_expired_session_logs_in_again_once_for_concurrent_callers(emulator: CommerceEmulator) -> None:
    ids = [emulator.add_approval(ApprovalKind.ORDER) for _ in range(5)]

    async def scenario() -> list[str]:
        async with client_for(emulator) as client:
            await client.login()
            emulator.expire_tokens()
            approvals = await asyncio.gather(*(client.get_approval(i) for i in ids))
            return [a.id for a in approvals]

    assert run(scenario()) == ids
    assert emulator.logins == 2
    # every call was tried once with the dead token and once with the new one
    assert len(approval_gets(emulator)) == 10


def test_expired_session_before_a_decision_repeats_the_post_once(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.BUYER)

    async def scenario() -> str:
        async with client_for(emulator) as client:
            await client.login()
            emulator.expire_tokens()
            return await client.decide(approval_id, Decision.REJECT, "no")

    assert "rejected" in run(scenario())
    assert emulator.logins == 2
    assert [r.headers.get("wctoken") in emulator.issued_tokens for r in posts_to(emulator, approval_id)] == [
        False,
        True,
    ]
    assert emulator.approval(approval_id)["status"] == "2"


def test_session_still_rejected_after_logging_in_again_is_an_auth_error(emulator: CommerceEmulator) -> None:
    emulator.inject(only(lambda r: "/approval_status" in r.path, expired_token_response()))

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.list_approvals(ApprovalQuery())

    with pytest.raises(CommerceAuthError) as caught:
        run(scenario())
    assert "CWXFR0223E" in caught.value.message
    assert caught.value.status == 401
    assert caught.value.error_code == "CWXFR0223E"
    assert emulator.logins == 2
    assert len(approval_gets(emulator)) == 2


def test_wrong_password_is_an_auth_error_with_commerce_message(emulator: CommerceEmulator) -> None:
    async def scenario() -> None:
        async with client_for(emulator, password="not-the-password-42") as client:
            await asyncio.gather(*(client.list_approvals(ApprovalQuery()) for _ in range(3)))

    with pytest.raises(CommerceAuthError) as caught:
        run(scenario())
    assert caught.value.message.startswith("Either the logon ID or password entered is incorrect")
    assert caught.value.error_key == "_ERR_AUTHENTICATION_ERROR"
    assert caught.value.error_code == "2030"
    assert emulator.failed_logins == 1  # concurrent callers share the one failed attempt
    assert approval_gets(emulator) == []
    assert "not-the-password-42" not in f"{caught.value} {caught.value!r}"


# -- listing -----------------------------------------------------------------------------------


def test_list_sends_every_filter_and_returns_matching_approvals(emulator: CommerceEmulator) -> None:
    wanted = emulator.add_approval(
        ApprovalKind.ORDER,
        entity_id="7000000000000001234",
        first_name="Jane",
        last_name="Doe",
        submit_time=datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
    )
    emulator.add_approval(ApprovalKind.ORDER, first_name="Jane", last_name="Doe")  # other entity
    emulator.add_approval(ApprovalKind.BUYER, first_name="Jane", last_name="Doe")  # other kind
    query = ApprovalQuery(
        kind=ApprovalKind.ORDER,
        state=ApprovalState.PENDING,
        submitter_first_name="Jane",
        submitter_last_name="Doe",
        start_submit_time=date(2024, 3, 1),
        end_submit_time=date(2024, 3, 31),
        entity_id="7000000000000001234",
        page_number=1,
        page_size=10,
        order_by="A-submitTime",
        extra={"responseFormat": "json"},
    )

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.list_approvals(query)

    page = run(scenario())
    (sent,) = approval_gets(emulator)
    assert {k: v for k, (v,) in sent.query.items()} == {
        "q": "orderApprovals",
        "status": "0",
        "submitterFirstName": "Jane",
        "submitterLastName": "Doe",
        "startSubmitTime": "2024-03-01",
        "endSubmitTime": "2024-03-31",
        "entityId": "7000000000000001234",
        "orderBy": "A-submitTime",
        "pageNumber": "1",
        "pageSize": "10",
        "responseFormat": "json",
    }
    assert [a.id for a in page.items] == [wanted]
    assert (page.total, page.start, page.complete) == (1, 0, True)
    item = page.items[0]
    assert item.kind is ApprovalKind.ORDER
    assert item.state is ApprovalState.PENDING
    assert item.entity_id == "7000000000000001234"
    assert item.flow_type_id == "10005"
    assert item.submit_time == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def test_list_all_returns_both_kinds_and_buyer_names(emulator: CommerceEmulator) -> None:
    order_id = emulator.add_approval(ApprovalKind.ORDER)
    buyer_id = emulator.add_approval(ApprovalKind.BUYER, first_name="Bert", last_name="Buyer")
    decided = emulator.add_approval(ApprovalKind.ORDER)
    emulator.decide_elsewhere(decided, ApprovalState.APPROVED)

    async def scenario() -> tuple[Any, Any, Any]:
        async with client_for(emulator) as client:
            everything = await client.list_approvals(ApprovalQuery(kind=None, state=None))
            pending = await client.list_approvals(ApprovalQuery(kind=None))
            buyers = await client.list_approvals(ApprovalQuery(kind=ApprovalKind.BUYER))
            return everything, pending, buyers

    everything, pending, buyers = run(scenario())
    assert [r.q("q") for r in approval_gets(emulator)] == ["all", "all", "buyerApprovals"]
    assert "status" not in approval_gets(emulator)[0].query
    assert {a.id for a in everything.items} == {order_id, buyer_id, decided}
    assert {a.id for a in pending.items} == {order_id, buyer_id}
    assert all(a.kind is None for a in pending.items)
    by_id = {a.id: a for a in pending.items}
    assert by_id[order_id].guessed_kind is ApprovalKind.ORDER
    assert by_id[buyer_id].guessed_kind is ApprovalKind.BUYER
    (buyer,) = buyers.items
    assert (buyer.id, buyer.kind, buyer.submitter_name) == (buyer_id, ApprovalKind.BUYER, "Bert Buyer")
    assert buyer.entity_id == buyer.submitter_id


def test_listing_every_approval_pages_through_everything(emulator: CommerceEmulator) -> None:
    ids = [emulator.add_approval(ApprovalKind.ORDER) for _ in range(12)]
    emulator.add_approval(ApprovalKind.BUYER)
    emulator.decide_elsewhere(ids.pop(3), ApprovalState.REJECTED)

    async def scenario() -> ApprovalListing:
        async with client_for(emulator) as client:
            return await client.list_every_approval(ApprovalKind.ORDER, page_size=4)

    listing = run(scenario())
    assert [a.id for a in listing.items] == ids
    assert listing.complete
    gets = approval_gets(emulator)
    assert [(r.q("q"), r.q("status"), r.q("pageNumber"), r.q("pageSize")) for r in gets] == [
        ("orderApprovals", "0", "1", "4"),
        ("orderApprovals", "0", "2", "4"),
        ("orderApprovals", "0", "3", "4"),
    ]


def test_a_listing_stops_incomplete_when_the_server_repeats_a_page(emulator: CommerceEmulator) -> None:
    stuck = {
        "recordSetCompleteIndicator": "false",
        "recordSetCount": "1",
        "recordSetStartNumber": "0",
        "recordSetTotal": "1000",
        "resultList": [{"approvalStatusId": "10003", "status": "0", "entityId": "1", "submitterId": "2"}],
    }
    emulator.inject(only(is_get, Response(body=stuck)))

    async def scenario() -> ApprovalListing:
        async with client_for(emulator) as client:
            return await client.list_every_approval(None, page_size=1)

    listing = run(scenario())
    assert [a.id for a in listing.items] == ["10003"]
    assert not listing.complete
    assert len(approval_gets(emulator)) == 2


def test_a_listing_stops_incomplete_on_an_empty_page_before_the_total(emulator: CommerceEmulator) -> None:
    empty = {"recordSetTotal": "500", "recordSetStartNumber": "0", "resultList": []}
    emulator.inject(only(is_get, Response(body=empty)))

    async def scenario() -> ApprovalListing:
        async with client_for(emulator) as client:
            return await client.list_every_approval(None, page_size=50)

    listing = run(scenario())
    assert listing.items == []
    assert not listing.complete
    assert len(approval_gets(emulator)) == 1


# -- lenient parsing ------------------------------------------------------------------------------


def test_numbers_as_json_numbers_are_parsed_too() -> None:
    server = CommerceEmulator(string_numbers=False)
    server.start()
    try:
        approval_id = server.add_approval(ApprovalKind.BUYER)

        async def scenario() -> tuple[Any, Any]:
            async with client_for(server) as client:
                page = await client.list_approvals(ApprovalQuery(page_size=5))
                return page, await client.get_approval(approval_id)

        page, one = run(scenario())
        raw = server.approval(approval_id)
        assert (page.total, page.complete, [a.id for a in page.items]) == (1, True, [approval_id])
        assert (one.id, one.state, one.entity_id) == (approval_id, ApprovalState.PENDING, raw["entityId"])
    finally:
        server.stop()


def test_seed_example_shapes_are_parsed_leniently(emulator: CommerceEmulator) -> None:
    listing = {
        "recordSetCompleteIndicator": False,
        "recordSetCount": 2,
        "recordSetStartNumber": 0,
        "resultList": [
            {
                "approvalStatusId": 13003,
                "approveTime": None,
                "approverGroupId": "-999",
                "approverId": -1004,
                "entityId": "12050",
                "flowTypeId": "10004",
                "status": 0,
                "submitTime": "2014-11-24T18:58:06.804000000Z",
                "submitter": {"firstName": "Jane", "lastName": "Smith", "middleName": ""},
                "submitterId": "12050",
            },
            {
                "approvalStatusId": "13004",
                "status": "2",
                "entityId": 7000000000000000903,
                "submitterId": 4036,
                "submitTime": "2014-11-06T20:01:05.736000000Z",
                "approveTime": "2014-11-07T08:00:00Z",
                "comment": "no budget",
            },
        ],
    }
    emulator.inject(only(is_get, Response(body=listing)))

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.list_approvals(ApprovalQuery(kind=ApprovalKind.BUYER, page_size=2))

    page = run(scenario())
    first, second = page.items
    assert (first.id, first.state, first.approver_id) == ("13003", ApprovalState.PENDING, "-1004")
    assert first.submitter_name == "Jane Smith"
    assert first.submit_time == datetime(2014, 11, 24, 18, 58, 6, 804000, tzinfo=UTC)
    assert first.approve_time is None
    assert (second.id, second.state, second.entity_id) == (
        "13004",
        ApprovalState.REJECTED,
        "7000000000000000903",
    )
    assert second.submitter_id == "4036"
    assert second.submit_time == datetime(2014, 11, 6, 20, 1, 5, 736000, tzinfo=UTC)
    assert second.approve_time == datetime(2014, 11, 7, 8, 0, tzinfo=UTC)
    assert second.comment == "no budget"
    # no recordSetTotal: derived from what was returned, completeness from the indicator
    assert (page.total, page.complete) == (2, False)


@pytest.mark.parametrize("bad_id", ["9" * 300, "\u0661\u0662\u0663", "10003\n", "10-03", "+10003", True])
def test_a_record_with_an_invalid_approval_id_is_skipped_with_a_warning(
    emulator: CommerceEmulator, caplog: pytest.LogCaptureFixture, bad_id: object
) -> None:
    good = {"approvalStatusId": "13003", "status": "0", "entityId": "12050", "submitterId": "12050"}
    listing = {"recordSetTotal": 2, "resultList": [{**good, "approvalStatusId": bad_id}, good]}
    emulator.inject(only(is_get, Response(body=listing)))

    async def scenario() -> Any:
        async with client_for(emulator) as client:
            return await client.list_approvals(ApprovalQuery(page_size=2))

    page = run(scenario())
    assert [a.id for a in page.items] == ["13003"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("invalid approvalStatusId" in w for w in warnings), warnings
    assert all(len(w) < 200 for w in warnings), "a huge id is not echoed in full"


def test_get_one_accepts_the_object_form_of_result_list() -> None:
    server = CommerceEmulator(single_result_as_object=True)
    server.start()
    try:
        approval_id = server.add_approval(ApprovalKind.ORDER)

        async def scenario() -> Any:
            async with client_for(server) as client:
                return await client.get_approval(approval_id)

        approval = run(scenario())
        assert server.requests_to("GET", f"/approval_status/{approval_id}")[0].q("q") is None
        assert (approval.id, approval.state, approval.kind) == (approval_id, ApprovalState.PENDING, None)
        assert approval.entity_id == server.approval(approval_id)["entityId"]
    finally:
        server.stop()


# -- get and decide ---------------------------------------------------------------------------------


def test_unknown_approval_is_not_found_with_commerce_message(emulator: CommerceEmulator) -> None:
    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_approval("99999")

    with pytest.raises(ApprovalNotFound) as caught:
        run(scenario())
    assert caught.value.message == "CWXFR0222E: The approval status record 99999 cannot be found."
    assert caught.value.status == 404


def test_empty_result_list_is_not_found(emulator: CommerceEmulator) -> None:
    emulator.inject(only(is_get, Response(body={"resultList": []})))

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.get_approval("10003")

    with pytest.raises(ApprovalNotFound, match="10003"):
        run(scenario())


def test_decide_posts_exactly_the_documented_body(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)

    async def scenario() -> tuple[str, Any]:
        async with client_for(emulator) as client:
            message = await client.decide(approval_id, Decision.APPROVE, "fine by <@U1>")
            return message, await client.get_approval(approval_id)

    message, after = run(scenario())
    (post,) = posts_to(emulator, approval_id)
    assert post.path == f"/wcs/resources/store/10801/approval_status/{approval_id}"
    assert post.query == {"action": ["updateApprovalStatus"]}
    assert post.json() == {"aprv_act": "1", "comments": "fine by <@U1>"}
    assert emulator.decisions == [{"aprv_act": "1", "comments": "fine by <@U1>"}]
    assert message == f"The approval request {approval_id} was approved."
    assert after.state is ApprovalState.APPROVED
    assert after.comment == "fine by <@U1>"
    assert after.approve_time is not None


def test_decision_on_a_decided_approval_is_rejected_by_commerce(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    emulator.decide_elsewhere(approval_id, ApprovalState.APPROVED, comment="at the desk")

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.decide(approval_id, Decision.REJECT, "too late")

    with pytest.raises(ApprovalRejectedByCommerce) as caught:
        run(scenario())
    assert caught.value.message == f"The approval request {approval_id} has already been processed."
    assert emulator.approval(approval_id)["status"] == "1"
    assert len(posts_to(emulator, approval_id)) == 1


def test_approvals_failed_without_message_gets_a_clear_default(emulator: CommerceEmulator) -> None:
    emulator.inject(only(is_post, Response(body={"viewTaskName": "approvalsFailed"})))

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.decide("10003", Decision.APPROVE, "")

    with pytest.raises(ApprovalRejectedByCommerce, match="did not accept the decision on approval 10003"):
        run(scenario())


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, ApprovalRejectedByCommerce), (403, CommerceForbidden), (404, ApprovalNotFound)],
)
def test_decide_error_statuses_map_to_typed_errors(
    emulator: CommerceEmulator, status: int, error_type: type[CommerceError]
) -> None:
    body = {
        "errors": [
            {
                "errorKey": "_ERR_SOMETHING",
                "errorParameters": [],
                "errorMessage": f"CWXBB9999E: Commerce said no ({status}).",
                "errorCode": "CWXBB9999E",
            }
        ]
    }
    emulator.inject(only(is_post, Response(status=status, body=body)))

    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.decide("10003", Decision.APPROVE, "x")

    with pytest.raises(error_type) as caught:
        run(scenario())
    assert type(caught.value) is error_type
    assert caught.value.message == f"CWXBB9999E: Commerce said no ({status})."
    assert (caught.value.status, caught.value.error_code) == (status, "CWXBB9999E")


def test_invalid_request_from_emulator_carries_its_message(emulator: CommerceEmulator) -> None:
    async def scenario() -> None:
        async with client_for(emulator) as client:
            await client.list_approvals(ApprovalQuery(order_by="D-nonsense"))

    with pytest.raises(CommerceError) as caught:
        run(scenario())
    assert type(caught.value) is CommerceError
    assert "orderBy" in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "bad_id", ["", "10003/../../x", "10003?x=1", "abc", " 10003", "\uff11\uff12", "10003\n"]
)
def test_approval_ids_are_validated_before_any_request(emulator: CommerceEmulator, bad_id: str) -> None:
    async def scenario() -> None:
        async with client_for(emulator) as client:
            with pytest.raises(ValueError, match="invalid approval id"):
                await client.get_approval(bad_id)
            with pytest.raises(ValueError, match="invalid approval id"):
                await client.decide(bad_id, Decision.APPROVE, "x")

    run(scenario())
    assert emulator.requests == []


def test_base_url_with_trailing_slash(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)

    async def scenario() -> str:
        async with client_for(emulator, base_url=emulator.base_url + "/") as client:
            return (await client.get_approval(approval_id)).id

    assert run(scenario()) == approval_id
    assert emulator.requests[-1].path == f"/wcs/resources/store/10801/approval_status/{approval_id}"


# -- retries, timeouts, unavailability ---------------------------------------------------------------


def test_reads_are_retried_on_503_then_succeed(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    html = Response(status=503, body="<html>Service Unavailable</html>", content_type="text/html")
    emulator.fail_next(2, html, when=lambda r: r.method == "GET")

    async def scenario() -> str:
        async with client_for(emulator, read_attempts=3) as client:
            return (await client.get_approval(approval_id)).id

    assert run(scenario()) == approval_id
    assert len(approval_gets(emulator)) == 3


def test_reads_give_up_after_read_attempts(emulator: CommerceEmulator) -> None:
    boom = Response(
        status=500,
        body={"errors": [{"errorKey": "_ERR_GENERIC", "errorMessage": "boom", "errorCode": "CWXFR0230E"}]},
    )
    emulator.fail_next(100, boom, when=lambda r: r.method == "GET")

    async def scenario() -> None:
        async with client_for(emulator, read_attempts=4) as client:
            await client.list_approvals(ApprovalQuery())

    with pytest.raises(CommerceUnavailable) as caught:
        run(scenario())
    assert caught.value.message == "Commerce answered 500: boom"
    assert (caught.value.status, caught.value.error_code) == (500, "CWXFR0230E")
    assert len(approval_gets(emulator)) == 4


def test_decision_post_is_never_retried_on_503(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    emulator.fail_next(5, Response(status=503, body="unavailable", content_type="text/plain"), when=is_post)

    async def scenario() -> None:
        async with client_for(emulator, read_attempts=3) as client:
            await client.decide(approval_id, Decision.APPROVE, "ok")

    with pytest.raises(CommerceUnavailable) as caught:
        run(scenario())
    assert caught.value.message == "Commerce answered 503"
    assert len(posts_to(emulator, approval_id)) == 1
    assert emulator.approval(approval_id)["status"] == "0"


def test_login_is_not_retried_on_503(emulator: CommerceEmulator) -> None:
    emulator.fail_next(5, Response(status=503, body=""), when=lambda r: r.path.endswith("/loginidentity"))

    async def scenario() -> None:
        async with client_for(emulator, read_attempts=3) as client:
            await client.list_approvals(ApprovalQuery())

    with pytest.raises(CommerceUnavailable, match="Commerce answered 503"):
        run(scenario())
    assert len(emulator.requests_to("POST", "/loginidentity")) == 1
    assert approval_gets(emulator) == []


def test_slow_reads_time_out_after_retries(emulator: CommerceEmulator) -> None:
    delay = slow(emulator, is_get, 0.6)

    async def scenario() -> None:
        async with client_for(emulator, timeout=0.2, read_attempts=2) as client:
            await client.list_approvals(ApprovalQuery())

    with pytest.raises(CommerceUnavailable) as caught:
        run(scenario())
    assert caught.value.message == "Commerce did not answer in 0.2s"
    assert len(approval_gets(emulator)) == 2
    delay.settle()


def test_slow_decision_times_out_without_a_second_post(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    delay = slow(emulator, is_post, 0.6)

    async def scenario() -> None:
        async with client_for(emulator, timeout=0.2) as client:
            await client.decide(approval_id, Decision.APPROVE, "ok")

    with pytest.raises(CommerceUnavailable, match=r"did not answer in 0\.2s"):
        run(scenario())
    delay.settle()
    assert len(posts_to(emulator, approval_id)) == 1
    # Commerce applied it after all: exactly why a timed-out decision must not be repeated blindly
    assert emulator.approval(approval_id)["status"] == "1"


def test_unreachable_commerce_is_unavailable() -> None:
    server = CommerceEmulator()
    server.start()
    base_url = server.base_url
    server.stop()

    async def scenario() -> None:
        async with client_for(server, base_url=base_url, read_attempts=2) as client:
            await client.get_approval("10003")

    with pytest.raises(CommerceUnavailable, match="not reachable"):
        run(scenario())


# -- order summaries -----------------------------------------------------------------------------------


def order_gets(emulator: CommerceEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "GET" and "/order/" in r.path]


def summary_of(emulator: CommerceEmulator, order_id: str, **options: Any) -> OrderSummary:
    async def scenario() -> OrderSummary:
        async with client_for(emulator, **options) as client:
            return await client.get_order_summary(order_id)

    return run(scenario())


def test_order_summary_of_an_order_approval(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(
        ApprovalKind.ORDER, order_total="1234.5", order_currency="EUR", order_items=3
    )
    order_id = emulator.approval(approval_id)["entityId"]
    assert emulator.order(order_id)["grandTotal"] == "1234.50000"  # Commerce's wire form

    summary = summary_of(emulator, order_id)

    assert summary == OrderSummary(
        order_id=order_id,
        grand_total=Decimal("1234.5"),
        currency="EUR",
        item_count=3,
        status="W",
        organization_id=DEFAULT_ORGANIZATION,
    )
    (request,) = order_gets(emulator)
    assert request.path == f"/wcs/resources/store/10801/order/{order_id}"


def test_order_summary_sends_both_tokens_and_logs_in_again_once_when_expired(
    emulator: CommerceEmulator,
) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    order_id = emulator.approval(approval_id)["entityId"]

    async def scenario() -> tuple[OrderSummary, OrderSummary]:
        async with client_for(emulator) as client:
            first = await client.get_order_summary(order_id)
            emulator.expire_tokens()
            return first, await client.get_order_summary(order_id)

    first, second = run(scenario())
    assert first == second and first.item_count == 2
    assert len(emulator.requests_to("POST", "/loginidentity")) == 2
    ((wc_token, trusted),) = emulator.issued_tokens.items()
    gets = order_gets(emulator)
    assert len(gets) == 3  # ok, expired, ok again
    assert (gets[-1].headers["wctoken"], gets[-1].headers["wctrustedtoken"]) == (wc_token, trusted)
    assert all(r.headers.get("wctoken") and r.headers.get("wctrustedtoken") for r in gets)


def test_the_emulator_refuses_order_reads_without_a_session(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    order_id = emulator.approval(approval_id)["entityId"]
    emulator.inject(only(lambda r: "/order/" in r.path, expired_token_response()))

    with pytest.raises(CommerceAuthError):
        summary_of(emulator, order_id)
    assert len(order_gets(emulator)) == 2  # the second one after logging in again


def test_order_amounts_as_json_numbers_are_parsed_too() -> None:
    server = CommerceEmulator(string_numbers=False)
    server.start()
    try:
        approval_id = server.add_approval(
            ApprovalKind.ORDER, order_total="99.95", order_currency="USD", order_items=1
        )
        order_id = server.approval(approval_id)["entityId"]
        summary = summary_of(server, order_id)
        assert (summary.grand_total, summary.currency, summary.item_count, summary.status) == (
            Decimal("99.95"),
            "USD",
            1,
            "W",
        )
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("grand_total", "expected"),
    [
        ("90.00000", Decimal("90")),
        (" 1234.50000 ", Decimal("1234.5")),
        (90, Decimal("90")),
        (0.1, Decimal("0.1")),
        (1234.5, Decimal("1234.5")),
        ("-10", Decimal("-10")),
        ("", None),
        ("n/a", None),
        ("NaN", None),
        ("Infinity", None),
        (True, None),
        ({"value": "90"}, None),
        (None, None),
    ],
)
def test_order_amounts_are_parsed_leniently(
    emulator: CommerceEmulator, grand_total: Any, expected: Decimal | None
) -> None:
    emulator.inject(only(is_get, Response(body={"orderId": "25206", "grandTotal": grand_total})))

    summary = summary_of(emulator, "25206")

    assert summary.grand_total == expected
    assert (summary.currency, summary.item_count, summary.status) == (None, None, None)


def test_spec_example_shape_is_parsed(emulator: CommerceEmulator) -> None:
    """The 200 example of GET /store/{storeId}/order/{orderId} in the order-capture spec (trimmed)."""
    example = {
        "orderId": "25206",
        "grandTotal": "90.00000",
        "orderItem": [{"orderItemId": "85205", "quantity": "1.0", "orderItemPrice": "100.00000"}],
        "totalProductPriceCurrency": "USD",
        "totalAdjustment": -10,
        "orderStatus": "M",
        "grandTotalCurrency": "USD",
        "recordSetComplete": "true",
        "recordSetStartNumber": "0",
        "recordSetCount": "1",
        "recordSetTotal": "1",
        "resourceName": "order",
    }
    emulator.inject(only(is_get, Response(body=example)))

    assert summary_of(emulator, "25206") == OrderSummary(
        order_id="25206", grand_total=Decimal("90"), currency="USD", item_count=1, status="M"
    )


def test_item_count_covers_every_page_of_order_items(emulator: CommerceEmulator) -> None:
    body = {
        "orderId": "25206",
        "grandTotal": 500,
        "totalProductPriceCurrency": "GBP",  # used when grandTotalCurrency is missing
        "orderItem": [{"orderItemId": str(n)} for n in range(20)],
        "recordSetCount": "20",
        "recordSetTotal": "45",
        "recordSetComplete": "false",
    }
    emulator.inject(only(is_get, Response(body=body)))

    summary = summary_of(emulator, "25206")

    assert (summary.item_count, summary.currency) == (45, "GBP")


def test_empty_order_has_zero_items(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER, order_total="0", order_items=0)
    order_id = emulator.approval(approval_id)["entityId"]

    assert summary_of(emulator, order_id).item_count == 0


def test_unknown_order_is_order_not_found_with_commerce_message(emulator: CommerceEmulator) -> None:
    with pytest.raises(OrderNotFound) as caught:
        summary_of(emulator, "424242")
    assert caught.value.message == "CWXFR0222E: The order 424242 cannot be found."
    assert (caught.value.status, caught.value.error_key) == (404, "_ERR_ORDER_NOT_FOUND")
    assert not isinstance(caught.value, ApprovalNotFound)


def test_removed_order_is_not_found_while_its_approval_stays(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    order_id = emulator.approval(approval_id)["entityId"]
    emulator.remove_order(order_id)

    with pytest.raises(OrderNotFound):
        summary_of(emulator, order_id)
    assert emulator.approval(approval_id)["status"] == "0"


def test_buyer_approvals_create_no_order(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.BUYER)

    with pytest.raises(OrderNotFound):
        summary_of(emulator, emulator.approval(approval_id)["entityId"])


def test_order_reads_are_retried_then_give_up_as_unavailable(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    order_id = emulator.approval(approval_id)["entityId"]
    emulator.fail_next(2, Response(status=503, body="down", content_type="text/plain"), when=is_get)
    assert summary_of(emulator, order_id, read_attempts=3).item_count == 2
    assert len(order_gets(emulator)) == 3

    emulator.fail_next(100, Response(status=500, body={"errors": []}), when=is_get)
    with pytest.raises(CommerceUnavailable):
        summary_of(emulator, order_id, read_attempts=2)
    assert len(order_gets(emulator)) == 5


def test_non_json_order_answer_is_a_commerce_error(emulator: CommerceEmulator) -> None:
    emulator.inject(only(is_get, Response(body="<html>ok</html>", content_type="text/html")))

    with pytest.raises(CommerceError, match="without a JSON object"):
        summary_of(emulator, "25206")


@pytest.mark.parametrize(
    "bad_id", ["", "12a", "../approval_status", "1 2", "@self", "\uff11\uff12", "25206\n"]
)
def test_order_ids_are_validated_before_any_request(emulator: CommerceEmulator, bad_id: str) -> None:
    with pytest.raises(ValueError, match="order id"):
        summary_of(emulator, bad_id)
    assert emulator.requests == []


# -- secrets ------------------------------------------------------------------------------------------


def test_password_and_tokens_never_appear_in_errors_or_logs(
    emulator: CommerceEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    emulator.decide_elsewhere(approval_id, ApprovalState.APPROVED)
    failures: list[BaseException] = []

    async def collect(action: Callable[[CommerceClient], Coroutine[Any, Any, Any]], **options: Any) -> None:
        try:
            async with client_for(emulator, **options) as client:
                await action(client)
        except CommerceError as error:
            failures.append(error)

    async def scenario() -> CommerceClient:
        await collect(lambda c: c.list_approvals(ApprovalQuery()), password="wrong-Secret-77")
        await collect(lambda c: c.decide(approval_id, Decision.APPROVE, "x"))
        await collect(lambda c: c.get_approval("424242"))
        emulator.inject(only(lambda r: "/approval_status" in r.path, expired_token_response()))
        await collect(lambda c: c.get_approval(approval_id))
        emulator.clear_faults()
        delay = slow(emulator, is_get, 0.5)
        await collect(lambda c: c.get_approval(approval_id), timeout=0.1, read_attempts=1)
        delay.settle()
        async with client_for(emulator) as client:
            return client

    client = run(scenario())
    assert [type(f) for f in failures] == [
        CommerceAuthError,
        ApprovalRejectedByCommerce,
        ApprovalNotFound,
        CommerceAuthError,
        CommerceUnavailable,
    ]
    secrets = {emulator.password, "wrong-Secret-77"}
    for wc_token, trusted in emulator.issued_tokens.items():
        secrets |= {wc_token, trusted, wc_token.split("%2C", 1)[1], trusted.split("%2C", 1)[1]}
    texts = [f"{f} {f!r} {f.args!r} {f.__cause__!r}" for f in failures]
    texts += [record.getMessage() for record in caplog.records]
    texts.append(repr(client))
    assert caplog.records  # debug logging happened
    for text in texts:
        for secret in secrets:
            assert secret not in text


# -- bounded concurrency --------------------------------------------------------------------------
def test_requests_in_flight_never_exceed_the_bound(emulator: CommerceEmulator) -> None:
    approval_id = emulator.add_approval(ApprovalKind.ORDER)
    in_flight = [0]
    most = [0]
    counting = threading.Lock()

    def slow_counted(request: RecordedRequest) -> Response | None:
        if request.method == "GET" and request.path.endswith(f"/approval_status/{approval_id}"):
            with counting:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            time.sleep(0.02)  # long enough for the other callers to pile up behind the bound
            with counting:
                in_flight[0] -= 1
        return None

    emulator.inject(slow_counted)

    async def scenario() -> None:
        async with client_for(emulator, max_concurrent_requests=3) as client:
            await asyncio.gather(*(client.get_approval(approval_id) for _ in range(24)))

    run(scenario())
    assert most[0] == 3
