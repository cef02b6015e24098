"""REL-3 in Chromium: every page of the URL map, and every `hx-get` of it triggered the way
a person would (its htmx trigger event), with no failed HTMX request and no console error."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in
from tests.reliability.test_rel3_partials import admin_pages

pytestmark = pytest.mark.browser

LISTEN = """() => {
  window.__relErrors = [];
  window.__relDone = 0;
  for (const name of ['htmx:responseError', 'htmx:sendError', 'htmx:swapError',
                      'htmx:targetError', 'htmx:onLoadError']) {
    document.body.addEventListener(name, (e) => {
      const x = e.detail && e.detail.xhr;
      window.__relErrors.push(name + ' ' + (x ? x.status + ' ' + x.responseURL : ''));
    });
  }
  document.body.addEventListener('htmx:afterRequest', () => { window.__relDone += 1; });
}"""

# Every hx-get element still in the page: fire its trigger (htmx's default per element kind).
TRIGGER = r"""(i) => {
  const el = document.querySelectorAll('[hx-get]')[i];
  if (!el || !el.isConnected) return false;
  if (!window.htmx) return 'htmx is not loaded on this page';
  const passive = (n) => !n || ['load', 'revealed', 'intersect'].includes(n)
      || n.startsWith('every');
  const specs = (el.getAttribute('hx-trigger') || '').split(',').map((t) => t.trim().split(/\s+/));
  let spec = (specs.find((t) => !passive(t[0]) && !t.includes('changed')) || [])[0];
  if (!spec) {
    const changed = specs.find((t) => !passive(t[0]));
    if (changed) {
      if ('value' in el) el.value = (el.value || '') + 'a';  // typed by a person
      spec = changed[0];
    } else if (specs[0][0]) {  // polled or loaded: the request htmx makes on its own
      htmx.ajax('GET', el.getAttribute('hx-get'), {source: el});
      return true;
    } else {
      spec = el.matches('form') ? 'submit'
        : el.matches('input:not([type=button]):not([type=submit]),select,textarea') ? 'change'
        : 'click';
    }
  }
  htmx.trigger(el, spec);
  return true;
}"""


def test_rel3_every_page_and_hx_get_in_chromium(app, live_server, page, demo, smtp, run_jobs):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text} on {page.url}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e} on {page.url}"))
    page.context.on("response", lambda r: errors.append(f"{r.status} {r.url} (on {page.url})")
                    if r.status >= 400 else None)
    sign_in(page, live_server, demo, smtp, run_jobs)
    triggered = 0
    for url in admin_pages(app, demo):
        head = page.request.get(live_server.url + url, max_redirects=0)
        if "text/html" not in head.headers.get("content-type", "") or head.status >= 300:
            assert head.status < 500, f"{url}: {head.status}"
            continue
        if "<html" not in head.text()[:500]:
            continue  # a fragment (e.g. /evenements): requested by its page's hx-get
        page.goto(live_server.url + url)
        page.evaluate(LISTEN)
        count = page.evaluate("document.querySelectorAll('[hx-get]').length")
        for i in range(count):
            before = page.evaluate("window.__relDone")
            done = page.evaluate(TRIGGER, i)
            if isinstance(done, str):
                errors.append(f"{done}: {url}")
                break
            if done:
                triggered += 1
                try:
                    page.wait_for_function("(n) => window.__relDone > n", arg=before,
                                           timeout=10_000)
                except Exception as exc:
                    raise AssertionError("no answer to " + page.evaluate(
                        "(i) => document.querySelectorAll('[hx-get]')[i].outerHTML", i)
                        + " on " + url) from exc
                # the answer fires afterRequest before its swap settles: the next element is
                # clicked only once htmx has processed what it swapped in
                page.wait_for_function(
                    "() => !document.querySelector('.htmx-request, .htmx-swapping, "
                    ".htmx-settling, .htmx-added')", timeout=10_000)
        errors += [f"{e} (from {url})" for e in page.evaluate("window.__relErrors")]
    assert not errors, "\n".join(errors)
    assert triggered > 15
