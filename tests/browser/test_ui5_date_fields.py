"""UI-5: a French user's browser shows the statistics' date fields as a French date
(jj/mm/aaaa: day, month, year), an English page in the same browser too — Chromium draws
<input type=date> in the browser's own language, the page only gives it lang and an ISO
value (no hand-rolled date picker)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def date_parts(page, selector: str) -> list[str]:
    """The sub-fields of a date input as the browser presents them, in order: the
    spin buttons of Chromium's accessibility tree under that input."""
    page.locator(selector).wait_for()
    cdp = page.context.new_cdp_session(page)
    found = cdp.send("Runtime.evaluate", {"expression": f"document.querySelector('{selector}')"})
    backend = cdp.send("DOM.describeNode",
                       {"objectId": found["result"]["objectId"]})["node"]["backendNodeId"]
    nodes = {n["nodeId"]: n for n in cdp.send("Accessibility.getFullAXTree")["nodes"]}
    top = next(n for n in nodes.values() if n.get("backendDOMNodeId") == backend)
    parts, todo = [], list(top.get("childIds", []))
    while todo:
        node = nodes.get(todo.pop(0))
        if node is None:
            continue
        if node.get("role", {}).get("value") == "spinbutton":
            parts.append(node["name"]["value"].split()[0])
        todo[:0] = node.get("childIds", [])
    return parts


def test_ui5_statistics_date_fields_read_day_month_year_in_a_french_browser(
        live_server, page, demo, smtp, run_jobs, welcome):
    sign_in(page, live_server, demo, smtp, run_jobs,
            f"/configurer/statistiques/{welcome.id}?periode=custom&du=2026-11-02&au=2026-11-29")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator("#f-du").input_value() == "2026-11-02"  # ISO value, shown by Chromium
    assert date_parts(page, "#f-du") == ["Jour", "Mois", "Année"]
