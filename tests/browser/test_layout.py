"""The base layout on a phone and a 10" tablet: no sideways scrolling, menu reachable,
keyboard-usable top-right menu."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in as _sign_in

pytestmark = pytest.mark.browser




@pytest.mark.parametrize("name,width,height", [("phone", 390, 844), ("tablet", 800, 1280),
                                               ("tablet-landscape", 1280, 800)])
def test_layout_fits_phone_and_tablet(live_server, new_page, demo, smtp, run_jobs, name, width,
                                      height):
    page = new_page(width=width, height=height, has_touch=True, is_mobile=width < 500)
    page.goto(live_server.url + "/connexion")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"layout-signin-{name}")
    _sign_in(page, live_server, demo, smtp, run_jobs)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    nav = page.get_by_role("navigation", name="Menu principal")
    assert nav.get_by_role("link", name="Annuaire").is_visible() or width < 500
    menu = page.locator("summary", has_text="Claire Dubois")
    box = menu.bounding_box()
    assert menu.is_visible() and box["x"] + box["width"] <= width
    assert page.evaluate("getComputedStyle(document.querySelector('.usermenu summary')).color") \
        == "rgb(255, 255, 255)"  # readable on the blue bar whatever page CSS is loaded
    screenshot(page, f"layout-dashboard-{name}")


def test_layout_keyboard_reaches_menu_and_signs_out(live_server, page, demo, smtp, run_jobs):
    _sign_in(page, live_server, demo, smtp, run_jobs)
    page.keyboard.press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.textContent").strip() == "Aller au contenu"
    page.locator("summary", has_text="Claire Dubois").focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Préférences").wait_for()
    page.keyboard.press("Escape")
    assert not page.get_by_role("link", name="Préférences").is_visible()
