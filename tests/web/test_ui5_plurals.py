"""UI-5: plurals follow the reader's language — French says "0 appel" (0 and 1 take the
singular), English "0 calls" — in templates, in views and in services' messages alike;
gettext's own fallback for the French msgids would use English's rule ("0 appels")."""

from __future__ import annotations

from flask import render_template_string

TEMPLATE = '{{ ngettext("%(num)s appel", "%(num)s appels", n) }}'


def test_ui5_plurals_follow_the_readers_language(app):
    from webapp import i18n
    from webapp.translate import translate

    expected = {"fr": ["0 appel", "1 appel", "2 appels"], "en": ["0 calls", "1 call", "2 calls"]}
    for language, shown in expected.items():
        with app.test_request_context(headers={"Accept-Language": language}):
            assert [render_template_string(TEMPLATE, n=n) for n in (0, 1, 2)] == shown
            texts = [i18n.ngettext("%(num)s appel", "%(num)s appels", n) for n in (0, 1, 2)]
            assert [translate(t) for t in texts] == shown
            assert [str(t) for t in texts] == expected["fr"]  # the French rendering agrees


def test_ui5_zero_is_singular_on_a_french_page(admin, demo, db_conn):
    from webapp.models import Service
    from webapp.models.history import CallRecord

    line = Service.get(Service.number == "+33100000108")
    CallRecord.delete().where(CallRecord.service == line).execute()  # a line without calls
    page = admin.client.get(f"/services/{line.id}/historique").get_data(as_text=True)
    assert "<dd>0 min — 0 appel</dd>" in page
    assert "0 appels" not in page
