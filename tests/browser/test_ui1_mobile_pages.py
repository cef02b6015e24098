"""UI-1 at 390 px (a phone), on every page a manager uses: no sideways scrolling, and links
and buttons that are touch targets of at least 44 px — both measured from the layout
(Chromium's boxes), not read from CSS. Screenshots at 390, 820 and 1366 px go to
tests/artifacts/ui1-<page>-<width>.png."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ARTIFACTS, screenshot
from tests.browser.conftest import sign_in as _sign_in

pytestmark = pytest.mark.browser

# Links inside running text are exempt (WCAG 2.5.8 "inline"); every other link or button
# is a target: menus, table cells, lists of links, action buttons.
TARGETS_JS = """() => {
  const small = [];
  const seen = new Set();
  const candidates = document.querySelectorAll(
    "button, a.button, input[type=submit], summary, nav a, td a, th a, li > a, dd > a, .actions a");
  for (const el of candidates) {
    if (seen.has(el)) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.closest(".visually-hidden, .skip-link, [hidden]")) continue;
    const parent = el.parentElement;
    const inline = style.display === "inline" && parent &&
      parent.textContent.trim().length > el.textContent.trim().length + 2 &&
      !parent.matches("td, th, li, dd, nav, .actions");
    if (inline) continue;
    if (r.height < 43.5 || r.width < 43.5) {
      small.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ` +
                 `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""

OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    let clipped = false;  // inside a sideways scroller (menu strip, wide table): not the page
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { clipped = true; break; }
    }
    if (r.right > width + 1 && r.width > 0 && !clipped) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
    }
  }
  // an action never hides in a sideways scroller: every button is on screen
  const hidden = [...document.querySelectorAll("main button")].filter(b => {
    const r = b.getBoundingClientRect();
    return r.width > 0 && !b.closest(".visually-hidden") && r.right > width + 1;
  }).map(b => `button "${b.textContent.trim().slice(0, 30)}" ` +
             `right=${Math.round(b.getBoundingClientRect().right)}`);
  return {scroll: document.documentElement.scrollWidth, width,
          wide: wide.slice(0, 5).concat(hidden)};
}"""


def pages(ids: dict) -> dict[str, str]:
    return {
        "dashboard": "/",
        "directory": "/annuaire",
        "contact": f"/annuaire/{ids['contact_paris']}",
        "folders": "/annuaire/dossiers",
        "services": "/services",
        "service": f"/services/{ids['fixed_paris']}",
        "line-settings": f"/services/{ids['fixed_paris']}/ligne",
        "mobile-history": f"/services/{ids['mobile_paris']}/historique",
        "preferences": "/preferences",
        "security": "/preferences/securite",
        "users": "/preferences/acces/utilisateurs",
        "billing": "/facturation",
        "audio": "/configurer/audio",
        "sites": "/gerer/sites",
        "welcome": "/configurer/numeros-accueil",
        "confirm": f"/services/{ids['fixed_paris']}/keyyo-phone",
    }


def test_ui1_every_page_fits_390px_with_44px_targets(live_server, new_page, demo, smtp,
                                                      run_jobs, db_conn):
    from tests.routes import demo_ids
    from webapp.services import softphone
    from webapp.services.actor import Actor

    ids = demo_ids(demo.account)
    from webapp.models import Service
    # the confirmation page exists
    softphone.generate(Service.get_by_id(ids["fixed_paris"]), actor=Actor.system())
    from webapp.models import User
    from webapp.services import trusted_browsers
    admin = User.get(User.email == demo.admin_email)  # Sécurité lists trusted browsers
    trusted_browsers.trust_browser(admin, browser="Firefox 140 sur Windows 11 (ordinateur)",
                                   actor=Actor.visitor("2001:db8:1234:5678:9abc:def0:1234:5678"))
    page = new_page(width=390, height=844, has_touch=True, is_mobile=True)
    _sign_in(page, live_server, demo, smtp, run_jobs)
    problems = {}
    for name, path in pages(ids).items():
        page.goto(live_server.url + path)
        page.locator("main h1").first.wait_for()
        layout = page.evaluate(OVERFLOW_JS)
        small = page.evaluate(TARGETS_JS)
        if layout["scroll"] > 390 or small or layout["wide"]:
            problems[name] = {"scroll": layout["scroll"], "wide": layout["wide"],
                              "small": small[:6]}
        screenshot(page, f"ui1-{name}-390")
    for width in (820, 1366):  # the same pages on a tablet and a laptop, to look at
        wide = new_page(width=width, height=900, has_touch=width < 1000)
        wide.context.add_cookies(page.context.cookies())
        for name, path in pages(ids).items():
            wide.goto(live_server.url + path)
            wide.locator("main h1").first.wait_for()
            assert wide.evaluate("document.documentElement.scrollWidth") <= width, name
            screenshot(wide, f"ui1-{name}-{width}")
    report = ARTIFACTS / "ui1-layout-390.json"
    report.write_text(json.dumps(problems, indent=1, ensure_ascii=False))
    assert not problems, f"see {report}: {sorted(problems)}"
