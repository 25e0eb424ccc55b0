"""``approvals-bot demo``: no settings, nothing leaves the machine, a card on the page, a clean stop."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from bot.sandbox.blockkit_html import blocks
from tests.cli_process import EXECUTABLE, base_environment, free_port
from tests.demo_process import DemoProcess
from tests.waiting import wait_for


def test_demo_runs_without_settings_and_ignores_the_bots_environment(tmp_path: Path) -> None:
    # A bot's real settings in .env and in the environment, pointing at a port that answers nothing
    # (and a Socket Mode token): the demo must use none of them.
    dead = f"http://127.0.0.1:{free_port()}"
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN=xoxb-real\nSLACK_API_URL={dead}/api/\n")
    env = base_environment() | {
        "SLACK_APP_TOKEN": "xapp-real",
        "SLACK_SIGNING_SECRET": "real-secret",
        "COMMERCE_BASE_URL": f"{dead}/wcs/resources",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'real.db'}",
    }
    demo = DemoProcess(tmp_path, "--db", str(tmp_path / "demo.db"), env=env)
    try:
        assert "nothing leaves" in demo.lines[0]
        assert demo.url.startswith("http://127.0.0.1:")
        page = httpx.get(demo.url, timeout=10)
        assert page.status_code == 200
        assert "Sandbox workspace" in page.text
        state = wait_for(
            lambda: _state_with(demo.url, "U0ANA", "C0APPROVALS", "Approve"), timeout=20, what="a card"
        )
        assert "Order approval requested" in state
    finally:
        status = demo.stop(signal.SIGINT)
    assert status == 0
    assert demo.lines[-1] == "approvals-bot demo stopped"
    assert (tmp_path / "demo.db").exists()
    assert not (tmp_path / "real.db").exists()


def test_demo_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path)
    assert demo.stop(signal.SIGTERM) == 0
    assert "approvals-bot demo stopped" in demo.lines


def test_the_page_refuses_unknown_users_and_bad_bodies_with_400(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path)
    try:
        assert httpx.get(f"{demo.url}state", params={"user": "U_NOBODY"}, timeout=10).status_code == 400
        assert httpx.post(f"{demo.url}act/click", content=b"not json", timeout=10).status_code == 400
        # What another site's page could send (a form or text/plain, no CORS preflight) is refused.
        cross_site = httpx.post(
            f"{demo.url}act/home",
            content=b'{"user": "U0ANA"}',
            headers={"Content-Type": "text/plain"},
            timeout=10,
        )
        assert cross_site.status_code == 400
        answer = httpx.post(
            f"{demo.url}act/command", json={"user": "U0ANA", "channel": "C0APPROVALS"}, timeout=10
        )
        assert answer.status_code == 400
    finally:
        demo.stop()


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "&lt;img src=x onerror=alert(1)&gt;",
        "<javascript:alert(1)|click me>",
        '*<b onmouseover="x">bold</b>*',
    ],
)
def test_message_text_never_becomes_markup(text: str) -> None:
    message = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "plain_text", "text": text}]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": text,
                    "value": text,
                    "text": {"type": "plain_text", "text": text},
                }
            ],
        },
    ]
    html = blocks(message, {})
    for tag in ("<script", "<img", "<b onmouseover", 'href="javascript'):
        assert tag not in html


def test_mrkdwn_shows_links_mentions_and_emphasis() -> None:
    html = blocks(
        [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Total* <@U1> <https://example.com/a?b=1&amp;c=2|the order> R&amp;D",
                },
            }
        ],
        {"U1": "Ana"},
    )
    assert "<b>Total</b>" in html
    assert '<span class="mention">@Ana</span>' in html
    assert '<a href="https://example.com/a?b=1&amp;c=2"' in html
    assert "R&amp;D" in html


def _state_with(url: str, user: str, place: str, wanted: str) -> str:
    """The page's HTML of ``place`` once it shows ``wanted``, else an empty string."""
    html = _state(url, user, place)
    return html if wanted in html else ""


def _state(url: str, user: str, place: str) -> str:
    answer = httpx.get(f"{url}state", params={"user": user, "place": place}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["main"])


# -- the sample store's stories, clicked through the page's own endpoints (as the page's script does) --


def _click(url: str, user: str, channel: str, card_html: str, action_id: str) -> None:
    ts = re.search(r'class="message" data-channel="[^"]+" data-ts="([^"]+)"', card_html)
    button = re.search(
        rf'data-action-id="{action_id}" data-block-id="([^"]+)" data-value="([^"]+)"', card_html
    )
    assert ts and button
    click = {"user": user, "place": channel, "channel": channel, "ts": ts.group(1)}
    click |= {"action_id": action_id, "block_id": button.group(1), "value": button.group(2)}
    assert httpx.post(f"{url}act/click", json=click, timeout=10).status_code == 200


def _card(url: str, user: str, channel: str, wanted: str) -> str:
    """The HTML of the first conversation in ``channel`` that shows ``wanted``."""

    def find() -> str:
        conversations = _state(url, user, channel).split('<div class="conversation">')
        return next((c for c in conversations if wanted in c), "")

    return wait_for(find, timeout=20, what=f"a card with {wanted!r}")


def test_the_sample_stores_two_person_route_self_approval_and_outsider(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path)
    try:
        large = _card(demo.url, "U0ANA", "C0LARGEORDERS", "USD 48,250.00")
        _click(demo.url, "U0ANA", "C0LARGEORDERS", large, "approval_approve")
        voted = _card(demo.url, "U0ANA", "C0LARGEORDERS", "1 of 2")
        _click(demo.url, "U0BEN", "C0LARGEORDERS", voted, "approval_approve")
        _card(demo.url, "U0BEN", "C0LARGEORDERS", "Approved")

        own = _card(demo.url, "U0CHRIS", "C0APPROVALS", "EUR 2,980.00")
        _click(demo.url, "U0CHRIS", "C0APPROVALS", own, "approval_approve")
        refusal = _card(demo.url, "U0CHRIS", "C0APPROVALS", "Only visible to you")
        assert "yourself" in refusal

        _click(demo.url, "U0DANA", "C0APPROVALS", own, "approval_approve")
        assert wait_for(
            lambda: _state_with(demo.url, "U0DANA", "C0APPROVALS", "Only visible to you"),
            what="Dana's refusal",
        )
        assert "Only visible to you" not in _state(demo.url, "U0ANA", "C0APPROVALS")
        assert 'data-action-id="approval_approve"' in _card(demo.url, "U0ANA", "C0APPROVALS", "EUR 2,980.00")
    finally:
        demo.stop()


def test_a_taken_port_is_one_plain_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [EXECUTABLE, "demo", "--port", str(port)],
            cwd=tmp_path,
            env=base_environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.startswith("approvals-bot demo: ")
    assert "Traceback" not in result.stderr


def test_an_existing_db_file_is_refused_because_the_sandbox_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "old.db").write_bytes(b"")
    result = subprocess.run(
        [EXECUTABLE, "demo", "--port", "0", "--db", str(tmp_path / "old.db")],
        cwd=tmp_path,
        env=base_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "give --db a new file" in result.stderr


def test_a_bad_port_variable_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [EXECUTABLE, "demo"],
        cwd=tmp_path,
        env=base_environment() | {"PORT": "not-a-port"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PORT must be a port number" in result.stderr


def _modal(url: str, user: str, wanted: str) -> tuple[str, str]:
    """The open modal's id and HTML once it shows ``wanted``."""

    def find() -> tuple[str, str] | None:
        answer = httpx.get(f"{url}state", params={"user": user, "place": "C0APPROVALS"}, timeout=10).json()
        return (answer["modal_id"], answer["modal"]) if wanted in answer["modal"] else None

    return wait_for(find, timeout=20, what=f"a modal with {wanted!r}")


def _click_in_modal(url: str, user: str, view_id: str, modal_html: str, action_id: str) -> httpx.Response:
    button = re.search(
        rf'data-action-id="{action_id}" data-block-id="([^"]*)" data-value="([^"]*)"', modal_html
    )
    assert button, f"no {action_id} button in the modal"
    click = {"user": user, "place": "modal", "view_id": view_id, "action_id": action_id}
    click |= {"block_id": button.group(1), "value": button.group(2)}
    return httpx.post(f"{url}act/click", json=click, timeout=10)


def test_the_buttons_inside_the_details_window_decide_through_the_page(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path)
    try:
        card = _card(demo.url, "U0ANA", "C0APPROVALS", "EUR 4,860.00")
        _click(demo.url, "U0ANA", "C0APPROVALS", card, "approval_details")
        view_id, details = _modal(demo.url, "U0ANA", "Grand total")

        assert _click_in_modal(demo.url, "U0ANA", view_id, details, "approval_approve").status_code == 200

        same_id, outcome = _modal(demo.url, "U0ANA", "approved.")
        assert same_id == view_id and 'data-action-id="approval_approve"' not in outcome
        _card(demo.url, "U0ANA", "C0APPROVALS", "Approved by")

        other = _card(demo.url, "U0ANA", "C0APPROVALS", "EUR 1,299.90")
        _click(demo.url, "U0ANA", "C0APPROVALS", other, "approval_details")
        view_id, details = _modal(demo.url, "U0ANA", "EUR 1,299.90")
        _modal(demo.url, "U0ANA", "Grand total")
        assert _click_in_modal(demo.url, "U0ANA", view_id, details, "approval_reject").status_code == 200
        reason_id, reason = _modal(demo.url, "U0ANA", "Reason")  # on top of the details
        field = re.search(r'name="([^"]+)" data-action-id="([^"]+)"', reason)
        assert field and reason_id != view_id
        values = {
            field.group(1): {"action_id": field.group(2), "type": "plain_text_input", "value": "Re-quote"}
        }
        submitted = {"user": "U0ANA", "view_id": reason_id, "values": values}
        assert httpx.post(f"{demo.url}act/submit", json=submitted, timeout=10).json()["errors"] == {}

        back_id, outcome = _modal(demo.url, "U0ANA", "rejected.")  # back to the details, updated
        assert back_id == view_id
    finally:
        demo.stop()
