"""The CommerceClient's user search and run-as parameter against the Commerce emulator, over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.backend.transport import HttpOptions
from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceForbidden
from bot.commerce.models import ApprovalKind, ApprovalQuery, Decision
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.commerce_people import DEFAULT_ORGANIZATION


@pytest.fixture
def emulator() -> Iterator[CommerceEmulator]:
    server = CommerceEmulator()
    server.start()
    yield server
    server.stop()


def client_for(emulator: CommerceEmulator) -> CommerceClient:
    return CommerceClient(
        emulator.base_url,
        emulator.store_id,
        emulator.logon_id,
        SecretStr(emulator.password),
        http=HttpOptions(timeout=2.0),
    )


def test_a_logon_id_finds_exactly_that_user_ignoring_case(emulator: CommerceEmulator) -> None:
    with emulator.lock:
        jane = emulator.people.add("Jane")
        emulator.people.add("jane.doe")

    async def body() -> None:
        async with client_for(emulator) as client:
            [found] = await client.find_people(logon_id="jane")
            assert (found.user_id, found.logon_id, found.organization_id) == (
                jane.user_id,
                "Jane",
                DEFAULT_ORGANIZATION,
            )
            assert await client.find_people(logon_id="ghost") == []
            [by_mail] = await client.find_people(email=jane.email.upper())
            assert by_mail.user_id == jane.user_id
            with pytest.raises(ValueError):
                await client.find_people()

    asyncio.run(body())


def test_run_as_goes_out_as_for_user_id_and_commerce_refusals_keep_their_words(
    emulator: CommerceEmulator,
) -> None:
    with emulator.lock:
        approver = emulator.people.add("approver", approver_for=(DEFAULT_ORGANIZATION,))
        outsider = emulator.people.add("outsider")
    mine = emulator.add_approval(ApprovalKind.ORDER)

    async def body() -> None:
        async with client_for(emulator) as client:
            page = await client.list_approvals(ApprovalQuery(kind=None), for_user_id=outsider.user_id)
            assert page.items == []
            with pytest.raises(CommerceForbidden) as refused:
                await client.decide(mine, Decision.APPROVE, "ok", for_user_id=outsider.user_id)
            assert refused.value.error_code == "CMN1501E" and "not an approver" in refused.value.message
            await client.decide(mine, Decision.APPROVE, "ok", for_user_id=approver.user_id)

    asyncio.run(body())
    posts = emulator.requests_to("POST", f"/approval_status/{mine}")
    assert [p.q("forUserId") for p in posts] == [outsider.user_id, approver.user_id]
    assert emulator.approval(mine)["approverId"] == approver.user_id
