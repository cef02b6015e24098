"""UI-5 on the live switchboard: waits and rest countdowns tick in the browser, written with
the same CLDR patterns Babel uses on the server (<html data-durations>) — "1 min 5 s" in
French, "1 min 5 sec" in English, never a hand-made unit."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

NNBSP, NBSP = "\u202f", "\xa0"

# A waiting call's timer and a rest countdown as the board's items carry them
# (switchboard/_items.html), started 65.5 s ago / ending in 12 s on the server's clock.
TIMERS_JS = """() => {
  const live = document.getElementById("sb-live");
  const server = parseInt(live.dataset.serverMs, 10) + (Date.now() - window.loadedAt);
  const box = document.createElement("p");
  box.id = "timers";
  box.innerHTML = `<time class="ticker" data-from-ms="${server - 65500}"></time>
    <time class="countdown" data-until-ms="${server + 11500}"></time>
    <time class="ticker" data-from-ms="${server - 3725500}"></time>`;
  document.querySelector("main").append(box);
}"""


def timers(page, *patterns: str) -> None:
    """The three timers read as `patterns` (seconds may differ by the page's clock offset)."""
    page.wait_for_function("() => document.querySelectorAll('#timers time:empty').length === 0")
    shown = [t.strip() for t in page.locator("#timers time").all_inner_texts()]
    assert len(shown) == len(patterns) and all(
        re.fullmatch(p, t) for p, t in zip(patterns, shown, strict=True)), shown


def test_ui5_switchboard_timers_follow_the_readers_language(live_server, page, demo, smtp,
                                                            run_jobs):
    page.add_init_script("window.loadedAt = Date.now()")
    sign_in(page, live_server, demo, smtp, run_jobs, "/standard")
    longest = page.locator("time.longest-wait").first
    assert longest.inner_text() == f"0{NNBSP}s"
    page.evaluate(TIMERS_JS)
    timers(page, rf"1{NBSP}min \d+{NNBSP}s", rf"\d+{NNBSP}s", f"1{NNBSP}h 2{NBSP}min")

    page.goto(live_server.url + "/preferences/")
    page.get_by_role("button", name="English").click()
    page.goto(live_server.url + "/standard")
    assert page.locator("time.longest-wait").first.inner_text() == "0 sec"
    page.evaluate(TIMERS_JS)
    timers(page, r"1 min \d+ sec", r"\d+ sec", "1 hr 2 min")
