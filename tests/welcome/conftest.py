"""Fixtures of the welcome-number area."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin(browser, demo):
    """The demo administrator (Claire Dubois), signed in for real."""
    browser.sign_in(demo.admin_email, demo.password)
    return browser


@pytest.fixture
def welcome(db_conn, demo):
    from webapp.models import Service

    return Service.get(Service.number == "+33100000001")


@pytest.fixture
def ids(db_conn, demo):
    from tests.routes import demo_ids

    return demo_ids(demo.account)
