"""SEC-8 on the switchboard: transfers go only to the account's lines and directory
numbers or to French numbers outside premium ranges (unless the account allows more), and
the board names only the lines in the viewer's scope."""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import make_user, post

STATE = "acd:{0}:state"
IN = "acd:{0}:in"


@pytest.fixture
def call_waiting(demo, db_conn, redis_conn):
    from webapp.models import Service

    welcome = Service.get(Service.number == "+33100000001")
    redis_conn.hset(STATE, welcome.number, json.dumps({
        "waiting": [{"call": "t1", "caller": "+33612345678", "since_ms": 0}],
        "agents": [{"line": "+33100000101", "state": "available"}]}))
    return welcome


@pytest.mark.parametrize("target", ["08 99 12 34 56", "+33 8 25 00 00 00", "+44 20 7123 4567",
                                    "+882 1234 5678", "3617"])
def test_sec8_no_transfer_to_premium_or_foreign_numbers(admin, call_waiting, redis_conn,
                                                        target):
    before = redis_conn.xlen(IN)
    r = post(admin, f"/standard/{call_waiting.id}/appels/t1/transferer", {"to": target})
    assert r.status_code in (400, 403), target
    assert redis_conn.xlen(IN) == before  # nothing sent to the engine


def test_sec8_transfer_to_own_national_and_directory_numbers(admin, call_waiting, redis_conn,
                                                             demo, db_conn):
    from webapp.models import Account, Contact

    url = f"/standard/{call_waiting.id}/appels/t1/transferer"
    for target in ("06 98 76 54 32", "01 23 45 67 89", "0800 123 456", "+33100000102"):
        assert post(admin, url, {"to": target}).status_code == 303, target
    # A foreign number of the account's directory is fine, any other foreign one is not.
    Contact.update(phone_mobile="+442071234567").where(
        Contact.account == demo.account.id, Contact.first_name == "Manon").execute()
    assert post(admin, url, {"to": "+44 20 7123 4567"}).status_code == 303
    assert post(admin, url, {"to": "+44 20 7123 0000"}).status_code == 403
    # The account's setting allows more.
    Account.update(transfer_anywhere=True).where(Account.id == demo.account.id).execute()
    before = redis_conn.xlen(IN)
    assert post(admin, url, {"to": "08 99 12 34 56"}).status_code == 303
    assert redis_conn.xlen(IN) == before + 1


def test_sec8_board_names_only_lines_in_scope(demo, ids, call_waiting, new_browser, db_conn):
    from webapp.models import Service, Site

    accueil = Site.get((Site.account == demo.account.id) & (Site.name == "Accueil"))
    Service.update(site=accueil.id).where(Service.id == call_waiting.id).execute()
    make_user(demo.account, "standard@atelier-dupont.example", "Stan",
              "calls.supervise sites.access", "sites", [accueil.id], demo.password)
    b = new_browser()
    b.sign_in("standard@atelier-dupont.example", demo.password)
    page = b.client.get("/standard").get_data(as_text=True)
    assert "01 00 00 00 01" in page  # the board is there
    assert "Claire" not in page  # but Claire's Paris line is out of scope: no name
    assert "01 00 00 01 01" in page  # shown by its number only


def test_sec8_live_refresh_shared_by_streams_keeps_each_scope(app, demo, call_waiting,
                                                             db_conn):
    """The open streams of one web worker share their 5 s re-read of the database
    (SEC-4): an administrator's board, refreshed first, must not lend Claire's name to a
    viewer whose scope leaves her Paris line out."""
    from webapp.blueprints.switchboard.board import _renderer
    from webapp.models import Site
    from webapp.services import switchboard as svc

    accueil = Site.get((Site.account == demo.account.id) & (Site.name == "Accueil"))
    with app.test_request_context("/standard"):
        _render, refresh, _box = _renderer(True, False)
    everywhere = svc.boards([call_waiting], None)
    accueil_only = svc.boards([call_waiting], frozenset({accueil.id}))
    for boards in (everywhere, accueil_only):
        for board in boards:
            board.names = {}
        refresh(boards)
    assert everywhere[0].names["+33100000101"] == "Claire Dubois"
    assert "+33100000101" not in accueil_only[0].names


def test_sec8_staff_sets_the_transfer_policy_on_the_account_page(admin, call_waiting, staff,
                                                                 demo, db_conn):
    """The "setting to allow more" is the operator's, on the back-office account page:
    audited with who set it; a made-up value is refused in French and changes nothing;
    the customer's board follows it at once."""
    from webapp.models import Account, AuditEvent

    page = staff.client.get(f"/ops/comptes/{demo.account.id}").get_data(as_text=True)
    assert "Transferts du standard" in page and 'value="national" checked' in page
    url = f"/ops/comptes/{demo.account.id}/transferts"
    transfer = f"/standard/{call_waiting.id}/appels/t1/transferer"
    assert post(admin, transfer, {"to": "08 99 12 34 56"}).status_code == 403

    refused = staff.post(url, {"policy": "partout"}, token_from="/ops/")
    assert refused.status_code == 400
    assert "Choisissez l&#39;une des deux règles proposées." in refused.get_data(as_text=True)
    assert not Account.get_by_id(demo.account.id).transfer_anywhere

    assert staff.post(url, {"policy": "anywhere"}, token_from="/ops/").status_code == 303
    assert Account.get_by_id(demo.account.id).transfer_anywhere
    event = (AuditEvent.select().where(AuditEvent.kind == "account.transfer_policy")
             .order_by(AuditEvent.id.desc()).first())
    assert event.account_id == demo.account.id and '"anywhere"' in event.detail
    assert f'"staff": {staff_id(demo)}' in event.detail
    assert post(admin, transfer, {"to": "08 99 12 34 56"}).status_code == 303
    # and back to the default
    assert staff.post(url, {"policy": "national"}, token_from="/ops/").status_code == 303
    assert post(admin, transfer, {"to": "08 99 12 34 56"}).status_code == 403


def staff_id(demo) -> int:
    from tests.conftest import STAFF_EMAIL
    from webapp.models import StaffUser

    return StaffUser.get(StaffUser.email == STAFF_EMAIL).id


def test_sec8_transfer_policy_command(app, demo, db_conn):
    from webapp.models import Account, AuditEvent

    result = app.test_cli_runner().invoke(args=["transfer-policy", str(demo.account.id),
                                                "anywhere"])
    assert result.exit_code == 0, result.output
    assert Account.get_by_id(demo.account.id).transfer_anywhere
    assert AuditEvent.select().where(AuditEvent.kind == "account.transfer_policy").exists()
    missing = app.test_cli_runner().invoke(args=["transfer-policy", "999999", "national"])
    assert missing.exit_code != 0 and "Aucun compte" in missing.output
