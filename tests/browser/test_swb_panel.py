"""SWB-4 in a real browser, the engine running (document from the database) and the test
writing the PBX's events itself, so that every change is known: the action panel of a call
sits beside the board in landscape (nothing covered, every card still reachable) and is a
bottom sheet in portrait and on a phone; while it is open the lists do not move and the
button counts the changes waiting — an item changed then changed back, or a call that came
and went, is no change —; closing the panel applies them; a call that ends meanwhile says
so. Screenshots in tests/artifacts/ (1280×800, 800×1280, 390×844)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
CLAIRE, LUCAS = "+33100000101", "+33100000102"
HUGO_MOBILE = "+33600000104"


@pytest.fixture
def engine(redis_url, database_url, tmp_path, db_conn, demo):
    with open(tmp_path / "engine.err", "ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "--redis-url", redis_url],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, "DATABASE_URL": database_url})
    yield proc
    proc.terminate()
    proc.wait(10)


def event(redis_conn, kind: str, **fields: str) -> None:
    redis_conn.xadd("acd:{0}:in", {"type": kind, "ts": str(int(time.time() * 1000)), **fields})


def covered(page, selector: str) -> list[str]:
    """Cards matching `selector` whose centre is hidden by something else (the panel)."""
    return page.evaluate("""sel => Array.from(document.querySelectorAll(sel)).filter(el => {
        const r = el.getBoundingClientRect();
        if (r.bottom < 0 || r.top > innerHeight) { return false; }  // off screen: scrolls
        const top = Math.max(r.top, 0), bottom = Math.min(r.bottom, innerHeight);
        const hit = document.elementFromPoint(r.left + r.width / 2, (top + bottom) / 2);
        return !el.contains(hit);
    }).map(el => el.id)""", selector)


def pending(page, count: int) -> None:
    """Waits until the button counts `count` changes waiting (hidden at 0)."""
    page.locator(f"#sb-pending[data-count='{count}']").wait_for(
        state="hidden" if count == 0 else "visible")


def test_swb4_panel_beside_the_board_in_landscape_and_frozen_changes_counted_then_applied(
        live_server, new_page, demo, smtp, run_jobs, engine, redis_conn, db_conn):
    from webapp.models import Service

    welcome = Service.get(Service.number == "+33100000001")
    for line in (CLAIRE, LUCAS):  # two agents on a break, the others offline: calls wait
        event(redis_conn, "line.registered", line=line)
        event(redis_conn, "line.paused", line=line, reason="reunion")
    event(redis_conn, "call.arrived", call="desk-1", number=welcome.number, caller=HUGO_MOBILE)
    page = new_page(1280, 800)
    sign_in(page, live_server, demo, smtp, run_jobs, "/standard")
    page.locator("#sb-link[data-state=open]").wait_for()
    card = page.locator(".sb-call[data-call='desk-1']")
    claire = page.locator(f".sb-agent[data-line='{CLAIRE}']")
    claire.locator("text=En pause · Réunion").wait_for()
    card.get_by_role("button", name="Décrocher / transférer").click()
    panel = page.locator("#sb-action")
    panel.get_by_role("heading", name="Appel de Hugo Laurent").wait_for()

    # landscape: the panel is beside the board, which narrows; nothing is covered
    box = panel.bounding_box()
    board = page.locator(f"#n{welcome.id}").bounding_box()
    assert board["x"] + board["width"] <= box["x"] + 1
    assert box["y"] + box["height"] <= 800 + 1
    assert covered(page, ".sb-call, .sb-agent, .sb-kpis") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert panel.get_by_role("link", name="Fermer").is_visible()
    screenshot(page, "swb-panel-1280x800", full_page=False)
    # portrait tablet and phone: a bottom sheet, at most a bit over half the screen
    for width, height in ((800, 1280), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        box = panel.bounding_box()
        assert box["height"] <= 0.56 * height and box["width"] <= width
        assert abs(box["y"] + box["height"] - height) <= 1  # stuck to the bottom
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert panel.get_by_role("link", name="Fermer").is_visible()
        screenshot(page, f"swb-panel-{width}x{height}", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 800})

    # frozen: the page shows nothing new, the button counts what waits
    event(redis_conn, "line.busy", line=CLAIRE)  # Claire takes an outside call
    pending(page, 1)
    assert page.locator("#sb-pending").inner_text() == "Afficher 1 changement"
    assert claire.get_attribute("data-state") == "paused"
    event(redis_conn, "call.arrived", call="desk-2", number=welcome.number,
          caller="+33612345678")
    pending(page, 2)
    assert page.locator("#sb-pending").inner_text() == "Afficher 2 changements"
    assert page.locator(".sb-call[data-call='desk-2']").count() == 0
    event(redis_conn, "line.idle", line=CLAIRE)  # back as the page shows her: no change
    pending(page, 1)
    event(redis_conn, "call.ended", call="desk-2", by="caller")  # came and went: no change
    pending(page, 0)
    event(redis_conn, "call.arrived", call="desk-3", number=welcome.number,
          caller="+33612345679")
    pending(page, 1)
    # the panel's call ends meanwhile: the panel says so and offers nothing more
    event(redis_conn, "call.ended", call="desk-1", by="caller")
    pending(page, 2)
    panel.get_by_text("Cet appel est terminé : plus rien à faire pour lui.").wait_for()
    assert panel.get_by_role("button", name="Décrocher", exact=True).is_disabled()
    assert card.count() == 1  # still shown, under the panel's note
    screenshot(page, "swb-panel-frozen", full_page=False)
    # closing applies the changes: desk-1 leaves, desk-3 arrives, nothing left to show
    panel.get_by_role("link", name="Fermer").click()
    card.wait_for(state="detached")
    page.locator(".sb-call[data-call='desk-3']").wait_for()
    pending(page, 0)
    assert page.locator("#sb-action").inner_html().strip() == ""
    assert covered(page, ".sb-call, .sb-agent") == []
