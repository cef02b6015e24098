"""UI-1 at 390 px (a phone), on every page of the app: no sideways scrolling, and every
link, button, summary, select and checkbox label is a touch target of at least 44×44 px —
both measured from the layout (Chromium's boxes), not read from CSS; and a page just
opened marks no field invalid (focus would jump there) and shows no stray "None".

The pages are not a hand-kept list: every GET rule of the app's URL map is walked, with the
URL arguments its entry in tests/routes/ builds from real demo objects (a rule with
arguments and no `args` there fails the test). Each page is seen by the visitor who may see
it: signed out for the public pages, the demo administrator for the Manager, the operator's
staff for /ops. What answers with something other than an HTML page (PDF, CSV, event
streams, HTMX fragments, redirects) is not a page and is listed apart in the report
(tests/artifacts/ui1-layout-390.json).
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ARTIFACTS, complete_signin
from tests.conftest import STAFF_EMAIL
from tests.routes import ALLOWED, DERIVED, Demo, declared_routes

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844

# Every visible interactive element, strictly: UI-1 says touch targets are 44 px, with no
# exception for links inside running text.
TARGETS_JS = """() => {
  const small = [];
  const labels = [...document.querySelectorAll("label")].filter(l => {
    const c = l.control;
    return c && (c.type === "checkbox" || c.type === "radio");
  });
  const candidates = [...document.querySelectorAll(
    "a[href], button, input[type=submit], input[type=button], summary, select")].concat(labels);
  for (const el of candidates) {
    if (!el.checkVisibility({checkOpacity: true, visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.closest(".visually-hidden")) continue;  // read by screen readers, never tapped
    if (el.matches(".skip-link") && document.activeElement !== el) continue;  // off screen
    if (r.height < 43.5 || r.width < 43.5) {
      const text = (el.textContent || el.value || el.getAttribute("aria-label") || "")
        .trim().replace(/\\s+/g, " ").slice(0, 40);
      small.push(`${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""} ` +
                 `"${text}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""

# The page never scrolls sideways (the widest culprits are named for the report), and no
# button sits out of sight in a sideways scroller.
OVERFLOW_JS = """() => {
  const scroller = document.scrollingElement;
  const width = scroller.clientWidth;
  const wide = [];
  if (scroller.scrollWidth > width) {
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && r.width > 0) {
        wide.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
      }
    }
  }
  // an action never hides in a sideways scroller (a wide table): every button is on screen
  const actions = "main button, main a.button, main input[type=submit]";
  for (const b of document.querySelectorAll(actions)) {
    const r = b.getBoundingClientRect();
    if (r.width > 0 && !b.closest(".visually-hidden, [hidden]") && r.right > width + 1) {
      wide.push(`button "${b.textContent.trim().slice(0, 30)}" right=${Math.round(r.right)}`);
    }
  }
  return {scroll: scroller.scrollWidth, width, wide: wide.slice(-8)};
}"""

# What a URL answers, read with the browser's own session (headers only: an event stream
# is not waited for).
KIND_JS = """async (url) => {
  const abort = new AbortController();
  const r = await fetch(url, {signal: abort.signal, redirect: "manual"});
  const type = r.headers.get("content-type") || "";
  let page = false;
  if (r.status !== 0 && type.startsWith("text/html")) {  // 0: a redirect, not followed
    page = /<html[\\s>]/i.test(await r.text());
  }
  abort.abort();
  return {status: r.status, type: type.split(";")[0], page};
}"""

# After the page loaded, wait until htmx has nothing in flight (lazy-loaded parts).
SETTLED_JS = "() => !document.querySelector('.htmx-request') && document.readyState === 'complete'"


def visitor(route) -> str | None:
    """Who sees the page: staff on /ops, the administrator on the Manager, nobody else;
    public pages are seen signed out."""
    if route.endpoint.startswith("ops."):
        return "staff" if route.staff in (ALLOWED, DERIVED) else None
    return "admin" if route.admin == ALLOWED else None


def walk_list(app, demo_ids_) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """{visitor: [(endpoint, url)]} for every GET rule, and the rules that cannot be built."""
    from flask import url_for

    declared = {r.endpoint: r for r in declared_routes() if r.method == "GET"}
    plan: dict[str, list[tuple[str, str]]] = {"anonymous": [], "admin": [], "staff": []}
    missing = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        route = declared.get(rule.endpoint)
        if route is None or (rule.arguments and route.args is None):
            missing.append(f"{rule.endpoint} ({rule.rule})")
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **(route.args(demo_ids_) if route.args else {}))
        if route.anonymous == ALLOWED:
            plan["anonymous"].append((rule.endpoint, url))
        who = visitor(route)
        if who and route.anonymous != ALLOWED:
            plan[who].append((rule.endpoint, url))
    return plan, missing


# A page freshly opened shows no error: no field marked invalid (focus would jump to it),
# no "None" left by a template.
FRESH_JS = """() => ({
  invalid: [...document.querySelectorAll("[aria-invalid=true]")].map(e => e.id || e.name),
  none: /\\bNone\\b/.test(document.body.innerText)})"""


def check(page, problems: dict, name: str) -> None:
    page.wait_for_function(SETTLED_JS)
    layout = page.evaluate(OVERFLOW_JS)
    small = page.evaluate(TARGETS_JS)
    fresh = page.evaluate(FRESH_JS)
    hidden = [w for w in layout["wide"] if w.startswith("button ")]
    if (layout["scroll"] > layout["width"] or small or hidden or fresh["invalid"]
            or fresh["none"]):
        problems[name] = {"scroll": layout["scroll"], "wide": layout["wide"], "small": small,
                          **fresh}


def walk(page, base: str, urls, problems: dict, not_pages: dict, seen: list) -> None:
    for endpoint, url in urls:
        kind = page.evaluate(KIND_JS, base + url)
        if not kind["page"]:
            not_pages[f"{endpoint} {url}"] = f"{kind['status']} {kind['type']}"
            continue
        page.goto(base + url)
        check(page, problems, f"{endpoint} {url}")
        seen.append(endpoint)


def sign_in_checked(page, url, email, password, smtp, run_jobs, problems, name) -> None:
    """Sign in like a person; the 2FA activation and code pages are checked on the way."""
    page.goto(url)
    complete_signin(page, email, password, smtp, run_jobs,
                    look=lambda step: check(page, problems, f"{name} ({step})"))
    page.locator("main h1").wait_for()


def prepared_plan(app, demo) -> dict[str, list[tuple[str, str]]]:
    """The walk of every GET page, on a demo that shows everything a page can show."""
    from tests.routes import demo_ids
    from webapp.models import Service, User
    from webapp.services import softphone, trusted_browsers
    from webapp.services.actor import Actor

    admin_id = User.get(User.email == demo.admin_email).id
    d = Demo(account_id=demo.account.id, admin_user_id=admin_id,
             restricted_user_id=User.get(User.email == demo.user_email).id,
             users_only_user_id=None, other_account_id=None, other_admin_id=None,
             password=demo.password, ids=demo_ids(demo.account), user_id=admin_id)
    # pages that show more with these: the regeneration confirmation of Keyyo Phone
    # credentials, the trusted browsers of Sécurité
    softphone.generate(Service.get_by_id(d.ids["fixed_entrepot"]), actor=Actor.system())
    trusted_browsers.trust_browser(User.get_by_id(admin_id),
                                   browser="Firefox 140 sur Windows 11 (ordinateur)",
                                   actor=Actor.visitor("2001:db8:1234:5678:9abc:def0:1234:5678"))
    plan, missing = walk_list(app, d)
    assert not missing, "GET routes without URL arguments in tests/routes/: " + ", ".join(missing)
    return plan


def test_ui1_every_page_fits_390px_with_44px_targets(app, live_server, chromium, demo, smtp,
                                                      run_jobs, db_conn):
    plan = prepared_plan(app, demo)
    context = chromium.new_context(locale="fr-FR", viewport={"width": WIDTH, "height": HEIGHT},
                                   has_touch=True, is_mobile=True)
    page = context.new_page()
    base = live_server.url
    problems: dict = {}
    not_pages: dict = {}
    seen: list = []
    page.goto(base + "/connexion")
    walk(page, base, plan["anonymous"], problems, not_pages, seen)

    sign_in_checked(page, base + "/connexion", demo.admin_email, demo.password, smtp, run_jobs,
                    problems, "auth.verify")
    walk(page, base, plan["admin"], problems, not_pages, seen)

    context.clear_cookies()  # the back-office, signed in as the operator's staff
    sign_in_checked(page, base + "/ops/connexion", STAFF_EMAIL, demo.password, smtp, run_jobs,
                    problems, "ops.verify")
    walk(page, base, plan["staff"], problems, not_pages, seen)
    context.close()

    report = ARTIFACTS / "ui1-layout-390.json"
    ARTIFACTS.mkdir(exist_ok=True)
    report.write_text(json.dumps({"problems": problems, "not_pages": not_pages,
                                  "pages": len(seen)}, indent=1, ensure_ascii=False))
    # the walk reached the pages of every area, not only sign-in pages
    assert {"main.dashboard", "directory.contact", "switchboard.index", "stats.number",
            "billing.invoice", "ops.account", "auth.login",
            "services.softphone_credentials"} <= set(seen), report
    assert not problems, f"see {report}: {sorted(problems)}"


# The pages to look at (UI-1 review), by endpoint: URLs come from the same route table.
SHOWN = {
    "anonymous": ["auth.login", "auth.forgot"],
    "admin": ["main.dashboard", "directory.contacts", "directory.contact", "services.index",
              "services.detail", "lines.settings", "history.index", "welcome.index",
              "welcome.number", "welcome.edit_profile", "switchboard.index", "switchboard.wall",
              "stats.number", "billing.index", "billing.invoice", "tickets.index",
              "tickets.detail", "preferences.index", "preferences.security", "sites.tree",
              "audio.index", "access.users"],
    "staff": ["ops.home", "ops.account", "ops.invoice", "ops.ticket"],
}
SIZES = [(390, 844), (820, 1180), (1366, 768)]
# From a tablet on, a table fits its card: no column hidden behind a sideways scroller.
SCROLLING_TABLES_JS = """() => [...document.querySelectorAll(".table-wrap")]
  .filter(w => w.scrollWidth > w.clientWidth + 1).length"""


def test_ui1_main_pages_fit_phone_tablet_and_laptop_screenshots(app, live_server, chromium, demo,
                                                                 smtp, run_jobs, db_conn):
    """tests/artifacts/screenshots/<endpoint>-<width>.png of the main pages, to look at;
    none scrolls sideways at any of the three widths, and from a tablet on no table does."""
    plan = prepared_plan(app, demo)
    urls = {who: dict(plan[who]) for who in plan}
    base = live_server.url
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    cookies = {"anonymous": []}
    for who, url, email in (("admin", "/connexion", demo.admin_email),
                            ("staff", "/ops/connexion", STAFF_EMAIL)):
        context = chromium.new_context(locale="fr-FR")
        sign_in_checked(context.new_page(), base + url, email, demo.password, smtp, run_jobs,
                        {}, who)
        cookies[who] = context.cookies()
        context.close()
    wide = []
    for width, height in SIZES:
        for who, endpoints in SHOWN.items():
            context = chromium.new_context(locale="fr-FR", viewport={"width": width,
                                                                      "height": height},
                                           has_touch=width < 1000, is_mobile=width < 500)
            context.add_cookies(cookies[who])
            page = context.new_page()
            for endpoint in endpoints:
                page.goto(base + urls["anonymous" if who == "anonymous" else who][endpoint])
                page.wait_for_function(SETTLED_JS)
                if page.evaluate(OVERFLOW_JS)["scroll"] > width:
                    wide.append(f"{endpoint} at {width}")
                if width >= 820 and page.evaluate(SCROLLING_TABLES_JS):
                    wide.append(f"{endpoint}: a table scrolls sideways at {width}")
                page.screenshot(path=str(folder / f"{endpoint}-{width}.png"), full_page=True)
            context.close()
    assert not wide, wide
