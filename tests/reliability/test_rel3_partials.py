"""REL-3: every page of the URL map, and every `hx-get` target in it, renders (no 5xx).

The demo administrator opens every GET route the route table declares for them, then
requests every `hx-get` found — in the pages and in the partials they answer — the way
htmx does: `HX-Request`, `HX-Target` (the target's id), `HX-Current-URL`, and the form's
default values for `hx-get` forms.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace

import tests.routes as routes_pkg
from tests.routes import ALLOWED, demo_ids
from tests.web.htmx_walk import hx_gets

STREAMS = {"switchboard.stream"}  # server-sent events: never ends, opened by the browser test
MAX_REQUESTS = 1500


def get_routes():
    for info in pkgutil.iter_modules(routes_pkg.__path__):
        module = importlib.import_module(f"tests.routes.{info.name}")
        for route in getattr(module, "ROUTES", []):
            if route.method == "GET" and route.admin == ALLOWED and route.endpoint not in STREAMS:
                yield route


def admin_pages(app, demo) -> list[str]:
    """One URL per GET route the administrator may open, arguments from the demo data."""
    from flask import url_for

    from webapp.db import db
    from webapp.models import User

    with db.connection_context():
        restricted = User.get(User.email == demo.user_email)
        admin_user = User.get(User.email == demo.admin_email)
        d = SimpleNamespace(ids=demo_ids(demo.account), restricted_user_id=restricted.id,
                            admin_user_id=admin_user.id,
                            account_id=demo.account.id)
    urls = []
    for route in get_routes():
        with app.test_request_context():
            urls.append(url_for(route.endpoint, **(route.args(d) if route.args else {})))
    return urls


def _html(response) -> str | None:
    if response.mimetype != "text/html":
        return None
    return response.get_data(as_text=True)


def test_rel3_every_page_and_every_hx_get_target_renders(app, demo, admin):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is counted, not raised
    client = admin.client
    failures, seen, queue, partials = [], set(), [], 0
    pages = admin_pages(app, demo)
    assert len(pages) > 40
    for url in pages:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"page {url}: {response.status_code}")
            continue
        html = _html(response)
        if html:
            queue += hx_gets(html, "http://manager.test" + url)
    while queue and partials < MAX_REQUESTS:
        hx = queue.pop(0)
        key = (hx.url, hx.target)
        if key in seen:
            continue
        seen.add(key)
        headers = {"HX-Request": "true", "HX-Current-URL": "http://manager.test" + hx.url}
        if hx.target:
            headers["HX-Target"] = hx.target
        response = client.get(hx.url, headers=headers)
        partials += 1
        if response.mimetype == "text/event-stream":
            response.close()
            continue
        if response.status_code >= 500:
            failures.append(f"hx-get {hx.url} (HX-Target {hx.target}) from {hx.source}: "
                            f"{response.status_code}")
            continue
        html = _html(response)
        if html:
            queue += hx_gets(html, "http://manager.test" + hx.url.split("?")[0])
    print(f"{len(pages)} pages, {partials} hx-get requests")
    assert not failures, "\n".join(failures)
    assert partials > 20, f"only {partials} hx-get requests found"
    assert not queue, f"more than {MAX_REQUESTS} hx-get requests: walk not finished"


def test_rel3_stats_period_partial_shows_that_period_and_its_export(app, demo, admin):
    """Changing the period with htmx swaps in that period's figures, and the CSV link of
    the swapped block exports the same period."""
    import re
    import time

    from webapp.db import db
    from webapp.models import CallLogEntry, Service

    with db.connection_context():
        welcome = Service.get(Service.number == "+33100000001")
        now = int(time.time() * 1000)
        for i, age_days in enumerate((0, 10, 20)):
            CallLogEntry.create(entry_id=f"{now}-{i}", account=demo.account, number=welcome.number,
                                call=f"c{i}", type="abandoned", wait_ms=1000,
                                ts_ms=now - age_days * 86_400_000)
    url = f"/configurer/statistiques/{welcome.id}"
    headers = {"HX-Request": "true", "HX-Target": "stats-body"}
    today = admin.client.get(url + "?periode=today&du=&au=", headers=headers)
    month = admin.client.get(url + "?periode=30d&du=&au=", headers=headers)
    assert today.status_code == month.status_code == 200
    received = lambda r: re.search(r'id="kpi-received">(\d+)<', r.get_data(as_text=True))[1]  # noqa: E731
    assert (received(today), received(month)) == ("1", "3")
    html = month.get_data(as_text=True)
    assert 'value="30d" checked' in html
    export = re.search(r'href="([^"]*export\.csv[^"]*)"', html)[1].replace("&amp;", "&")
    assert "periode=30d" in export
    csv = admin.client.get(export).get_data(as_text=True)
    first = re.search(r"^Du;(\S+);Au;(\S+)", csv, re.M)
    assert first and first[1] < first[2]  # 30 days, not today only
