"""The demo page in a real browser (Debian's chromium, driven by Playwright): what a new user clicks.

``UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/test_demo_browser.py`` also writes the screenshots the
README and the manual show into ``docs/images/``; without it they go to the test's temporary directory.
In CI (``CI=true``) the test never skips; elsewhere it skips only when chromium is not installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.demo_process import DemoProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
FIRST_CARD_MS = 5_000
# The page's header stays at the top while scrolling; in a picture of one element it would cover the
# element's top, so screenshots take it out of the way (the layout does not move: it keeps its place).
SHOT_STYLE = ".top { position: static; }"
EFFECT_MS = 20_000


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return DOCS_IMAGES if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path


def pending_card(page: Page, index: int) -> Locator:
    """The ``index``-th card with buttons in the channel shown with its thread, pinned by its ts (the
    page re-renders)."""
    cards = page.locator("#main .conversation > .message").filter(
        has=page.get_by_role("button", name="Approve")
    )
    expect(cards.nth(index)).to_be_visible(timeout=FIRST_CARD_MS)
    ts = cards.nth(index).get_attribute("data-ts")
    return page.locator(f'#main .conversation:has(> .message[data-ts="{ts}"])')


def test_a_new_user_approves_rejects_and_opens_the_app_home(
    tmp_path: Path, browser: Browser, shots: Path
) -> None:
    demo = DemoProcess(tmp_path)
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(demo.url)

        card = pending_card(page, 0)  # within 5 s of opening the page
        expect(card).to_contain_text("Order approval requested")
        card.screenshot(path=str(shots / "demo-card.png"), style=SHOT_STYLE)

        card.get_by_role("button", name="Details").click()
        details = page.locator("#modal")
        expect(details).to_be_visible(timeout=EFFECT_MS)
        expect(details).to_contain_text("Grand total", timeout=EFFECT_MS)  # filled in from Commerce
        expect(details.get_by_role("button", name="Approve")).to_be_visible()
        expect(details.get_by_role("button", name="Submit")).to_have_count(0)  # none in the view
        page.set_viewport_size({"width": 1100, "height": 1600})  # the whole window, not its scroll
        details.evaluate("dialog => { dialog.scrollTop = 0; }")
        details.screenshot(path=str(shots / "demo-details.png"), style=SHOT_STYLE)
        page.set_viewport_size({"width": 1100, "height": 900})
        details.locator("[data-close]").click()
        expect(details).to_be_hidden(timeout=EFFECT_MS)

        card.get_by_role("button", name="Approve").click()
        confirm = page.locator("#confirm")
        expect(confirm).to_be_visible()
        confirm.get_by_role("button", name="Approve").click()
        expect(card.get_by_role("button", name="Approve")).to_have_count(0, timeout=EFFECT_MS)
        expect(card).to_contain_text(re.compile("approved", re.IGNORECASE))
        expect(card.locator(".thread .reply").first).to_contain_text(re.compile("approved", re.IGNORECASE))
        card.screenshot(path=str(shots / "demo-decided-card.png"), style=SHOT_STYLE)

        other = pending_card(page, 0)
        other.get_by_role("button", name="Reject").click()
        modal = page.locator("#modal")
        expect(modal).to_be_visible(timeout=EFFECT_MS)
        modal.locator("textarea, input[type=text]").first.fill(
            "Prices are from last year's list; please re-quote."
        )
        modal.get_by_role("button", name="Reject").click()
        expect(modal).to_be_hidden(timeout=EFFECT_MS)
        expect(other.get_by_role("button", name="Reject")).to_have_count(0, timeout=EFFECT_MS)
        expect(other).to_contain_text(re.compile("rejected", re.IGNORECASE))

        third = pending_card(page, 0)  # rejected from inside its Details window
        third.get_by_role("button", name="Details").click()
        expect(modal.get_by_role("button", name="Reject")).to_be_visible(timeout=EFFECT_MS)
        modal.get_by_role("button", name="Reject").click()
        reason = modal.locator("textarea, input[type=text]").first  # asked on top of the Details
        expect(reason).to_be_visible(timeout=EFFECT_MS)
        reason.fill("Ordered twice; the other order stands.")
        modal.locator("button[type=submit]").click()
        expect(modal).to_contain_text("rejected.", timeout=EFFECT_MS)  # the Details again, with the outcome
        expect(modal.get_by_role("button", name="Reject")).to_have_count(0)
        modal.locator("[data-close]").click()
        expect(modal).to_be_hidden(timeout=EFFECT_MS)
        expect(third.get_by_role("button", name="Reject")).to_have_count(0, timeout=EFFECT_MS)

        page.locator("#command").fill("/approvals list")
        page.locator("#command").press("Enter")
        expect(page.locator("#main .ephemeral").last).to_contain_text(
            "Only visible to you", timeout=EFFECT_MS
        )

        page.locator("#user").select_option("U0DANA")  # not an approver
        expect(page.locator("#main .ephemeral")).to_have_count(0, timeout=EFFECT_MS)  # Ana's answers
        pending_card(page, 0).get_by_role("button", name="Reject").click()
        expect(page.locator("#main .ephemeral").last).to_be_visible(timeout=EFFECT_MS)
        page.locator("#user").select_option("U0ANA")

        page.locator('[data-place="C0BOLPROCESS"]').click()
        batch = page.locator("#main .conversation").filter(has_text="Offer upload")
        expect(batch.locator(".thread .reply").first).to_contain_text("failed", timeout=30_000)
        batch.screenshot(path=str(shots / "demo-batch-card.png"), style=SHOT_STYLE)

        page.locator('[data-place="home"]').click()
        home = page.locator("#main .home")
        expect(home).to_be_visible(timeout=EFFECT_MS)
        expect(home.get_by_role("button").first).to_be_visible()
        home.screenshot(path=str(shots / "demo-app-home.png"), style=SHOT_STYLE)

        boxes = home.locator(".checkboxes input[type=checkbox]")
        expect(boxes.nth(1)).to_be_visible()
        ticked = [boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")]
        boxes.nth(0).check()
        boxes.nth(1).check()
        home.screenshot(path=str(shots / "demo-bulk-selection.png"), style=SHOT_STYLE)
        home.get_by_role("button", name="Approve selected").click()
        confirm_bulk = page.locator("#modal")
        expect(confirm_bulk).to_contain_text("2 approvals", timeout=EFFECT_MS)
        expect(boxes.nth(0)).to_be_checked()  # the Home's ticks survive its redraws
        confirm_bulk.screenshot(path=str(shots / "demo-bulk-confirm.png"), style=SHOT_STYLE)
        confirm_bulk.locator("button[type=submit]").click()
        expect(confirm_bulk).to_be_hidden(timeout=EFFECT_MS)
        page.wait_for_function(  # decided (or, on the two-person route, voted on): its box goes
            """ids => ids.some(id => !document.querySelector(`#main .checkboxes input[value="${id}"]`))""",
            arg=ticked,
            timeout=EFFECT_MS,
        )
    finally:
        assert demo.stop() == 0
