"""Browser fixtures: the app served for real on a free port, Debian's chromium via Playwright."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


class LiveServer:
    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # The browser's own language is French, as a French user's is: Chromium draws date
        # fields (jj/mm/aaaa) in its UI language, not in the page's nor the context's
        # locale (which set navigator.language, Intl and Accept-Language only).
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             env={**os.environ, "LANGUAGE": "fr"})
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A French desktop page (1280×800); tests may open others with `new_page`."""
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(chromium):
    contexts = []

    def make(width: int = 1280, height: int = 800, locale: str = "fr-FR", **kw):
        context = chromium.new_context(locale=locale, viewport={"width": width, "height": height},
                                       **kw)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """tests/artifacts/<name>.png: the whole page, or what the viewport shows."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def complete_signin(page, email: str, password: str, smtp, run_jobs, look=None) -> None:
    """From the sign-in page: password, "Activer", then the code read from the SMTP sink.
    `look(step)`, if given, is called on the "activation" and "code" pages as they show."""
    from tests.conftest import code_in

    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    activate = page.get_by_role("button", name="Activer")
    code = page.get_by_label("Code de vérification")
    code.or_(activate).wait_for()
    if activate.is_visible():  # first sign-in: 2FA to activate (TFA-1)
        if look:
            look("activation")
        activate.click()
        code.wait_for()
    if look:
        look("code")
    run_jobs()
    code.fill(code_in(smtp.last(email)))
    page.get_by_role("button", name="Se connecter").click()


def sign_in(page, live_server, demo, smtp, run_jobs, path: str = "/") -> None:
    """The demo administrator signs in (first time: 2FA activation) and lands on `path`."""
    page.goto(live_server.url + path)
    complete_signin(page, demo.admin_email, demo.password, smtp, run_jobs)
    page.locator("main h1").wait_for()
