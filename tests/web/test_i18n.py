"""docs/requirements.md: "The UI language is French by default (labels below are the real ones),
with English available."

French strings are the msgids; webapp/translations/en holds the English catalogue.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "webapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")

# %(name)s / %(num)d style, and str.format style fields.
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]|%[a-z%]|\{[^{}]*\}")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module", autouse=True)
def compiled_english_catalogue():
    """What `make translations` does: the app reads the .mo (git-ignored), so the
    pages below are checked against the catalogue as it is in the repository."""
    if not EN_MO.exists() or EN_MO.stat().st_mtime < EN_PO.stat().st_mtime:
        tmp = EN_MO.with_name(f"messages.mo.{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            write_mo(f, _read(EN_PO, "en"))
        os.replace(tmp, EN_MO)


def _extract_from_sources():
    """Extract the msgids from the code as it is now (babel.cfg), not from a stale .pot:
    a new user-facing string without its English translation fails the test below."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = TRANSLATIONS.parents[1]
    with (root / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(root), method_map, options_map):
        catalog.add(message, context=context)
    return catalog


def test_french_by_default_english_available_catalogue_covers_every_msgid():
    template = _extract_from_sources()
    english = _read(EN_PO, "en")
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = english.get(message.id)
        if translated is None:
            problems.append(f"missing: {message.id!r}")
            continue
        if translated.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if message.pluralizable:
            forms = translated.string if isinstance(translated.string, tuple) else ()
            if len(forms) != english.num_plurals or not all(f.strip() for f in forms):
                problems.append(f"plural forms: {message.id!r} -> {forms!r}")
                continue
            # English: form 0 for one, form 1 for the rest.
            for source, form in zip(message.id, forms, strict=True):
                if _placeholders(source) != _placeholders(form):
                    problems.append(f"placeholders: {source!r} -> {form!r}")
        else:
            if not isinstance(translated.string, str) or not translated.string.strip():
                problems.append(f"empty: {message.id!r}")
            elif _placeholders(message.id) != _placeholders(translated.string):
                problems.append(f"placeholders: {message.id!r} -> {translated.string!r}")
    assert not problems, "\n".join(problems)
    assert len([m for m in template if m.id]) > 500  # the real catalogue, not a stub


def test_french_by_default_english_available_catalogue_has_no_stale_fuzzy_entries():
    english = _read(EN_PO, "en")
    assert [m.id for m in english if m.id and m.fuzzy] == []
    assert english.num_plurals == 2 and str(english.locale) == "en"


def test_french_by_default_english_available_sign_in_page_follows_accept_language(client):
    english = client.get("/connexion", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.status_code == 200
    page = english.get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Sign in to the Manager" in page and ">Sign in<" in page
    assert "Se connecter" not in page and "Mot de passe" not in page

    for headers in ({}, {"Accept-Language": "fr"}, {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}):
        page = client.get("/connexion", headers=headers).get_data(as_text=True)
        assert '<html lang="fr"' in page, headers
        assert "Se connecter" in page and "Sign in" not in page, headers


def test_french_by_default_english_available_user_choice_beats_accept_language(
        demo, browser, new_browser):
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    browser.sign_in(demo.admin_email, demo.password)
    page = browser.client.get("/").get_data(as_text=True)
    assert "<h1>Tableau de bord</h1>" in page

    response = browser.post("/langue", {"language": "en", "next": "/"}, token_from="/")
    assert response.status_code == 303 and response.headers["Location"] == "/"

    page = browser.client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "<h1>Dashboard</h1>" in page and "Sign out" in page
    assert "<h1>Tableau de bord</h1>" not in page

    # The choice is the user's preference, not just this browser's session: a new
    # sign-in elsewhere, with a French browser, gets English pages too.
    other = new_browser()
    other.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    other.sign_in(demo.admin_email, demo.password)
    page = other.client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in page and "<h1>Dashboard</h1>" in page

    # ...and switching back to French works the same way.
    other.post("/langue", {"language": "fr", "next": "/"}, token_from="/")
    page = browser.client.get("/").get_data(as_text=True)
    assert '<html lang="fr"' in page and "<h1>Tableau de bord</h1>" in page


def test_error_pages_follow_the_language(client):
    french = client.get("/nulle-part").get_data(as_text=True)
    english = client.get("/nulle-part", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page introuvable" in french
    assert "Page introuvable" not in english and "Page not found" in english


def test_ui5_service_messages_are_translated_in_the_view(app):
    """A service refuses with a French msgid and its values (no Flask there); the page
    shows it in the reader's language, and French code paths read the French text."""
    from flask import render_template_string

    from webapp.i18n import _ as mark
    from webapp.i18n import ngettext
    from webapp.services.errors import FormError
    from webapp.translate import translate

    refusal = FormError({"name": mark("Le rôle « %(name)s » est supprimé.", name="Compta")})
    assert refusal.errors["name"] == "Le rôle « Compta » est supprimé."
    calls = ngettext("%(num)s appel", "%(num)s appels", 3)
    assert calls == "3 appels" and ngettext("%(num)s appel", "%(num)s appels", 1) == "1 appel"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert translate(refusal.message) == "The role “Compta” has been deleted."
        page = render_template_string("{{ e.name }} / {{ n }}", e=refusal.errors, n=calls)
        assert page == "The role “Compta” has been deleted. / 3 calls"
    with app.test_request_context():
        assert translate(refusal.message) == "Le rôle « Compta » est supprimé."


# --- UI-5: no French literal outside the translation functions ------------------------
# A French sentence written straight into a service, a view or a template never reaches
# the catalogue, so the test above cannot see it: this one reads the sources for them.

ROOT = TRANSLATIONS.parents[1]
FRENCH = re.compile(
    r"[éèêëàâçùûôîïœÉÈÊÀÂÇÙÛÔÎŒ«»]|\b(de|et|ou|un|une|le|la|les|des|du|en|ne|pas|sur|ce|ces|"
    r"cet|cette|son|sa|ses|qui|que|vous|votre|vos|est|sont|aux|au|pour|avec|dans|aucun|"
    r"aucune|plus|moins|tous|toutes|être|été|sera)\b", re.I)
MARKERS = {"_", "N_", "gettext", "ngettext", "lazy_gettext", "pgettext"}
NOT_UI_CALLS = {"debug", "info", "warning", "error", "exception", "record", "hash"}
# Modules whose French text is not interface, each with why.
PY_EXEMPT = {
    "webapp/cli.py": "operator console output, not the web interface",
    "webapp/services/demo.py": "demo data set (names, labels of the demo company)",
    "webapp/services/demo_directory.py": "demo data set",
    "webapp/services/exchange_demo.py": "demo data set",
    "webapp/services/welcome_demo.py": "demo data set",
    "webapp/settings.py": "defaults of the legal mentions on French invoices (FR-1)",
}
TEMPLATE_EXEMPT_DIRS: dict[str, str] = {}  # e-mails too: written in the reader's language
# Visible text that is the same in every language.
TEMPLATE_TEXT_OK = {"Communications Manager", "— Communications Manager", "Français", "English",
                    "IBAN", "BIC", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP", "auth-page"}


def _python_french_literals(path: Path) -> list[str]:
    import ast

    source = path.read_text()
    tree = ast.parse(source)
    lines = source.split("\n")
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                                    ast.ClassDef))
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    exempt_lines, inside = set(), False
    for number, line in enumerate(lines, 1):  # `# i18n-exempt: why` … `# i18n-exempt: end`
        if "# i18n-exempt:" in line:
            inside = not line.strip().endswith("end")
        if inside:
            exempt_lines.add(number)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        if (id(node) in docstrings or node.lineno in exempt_lines or not FRENCH.search(text)
                or text.startswith("/") or re.fullmatch(r"[\w.-]+", text)):
            continue  # docstrings, URLs, identifiers and keys ("du", "prenom")
        parent, marked = parents.get(id(node)), False
        while parent is not None and not marked:
            if isinstance(parent, ast.Call):
                func = parent.func
                name = getattr(func, "id", None) or getattr(func, "attr", "")
                marked = name in MARKERS or name in NOT_UI_CALLS
            parent = parents.get(id(parent))
        if not marked:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:70]!r}")
    return found


def _template_french_literals(path: Path) -> list[str]:
    from jinja2 import Environment

    parts = []
    for _line, kind, value in Environment(extensions=["jinja2.ext.i18n"]).lex(path.read_text()):
        if kind == "data":
            parts.append(value)
        elif not parts or parts[-1] != "\x00":
            parts.append("\x00")  # an expression or a tag: translated or not text at all
    page = re.sub(r"<!--.*?-->|<(script|style)\b.*?</\1>", " ", "".join(parts), flags=re.S)
    texts = [m.group(1) for m in re.finditer(
        r'\b(?:placeholder|title|aria-label|alt)="([^"\x00]*)"', page)]
    page = re.sub(r"&[a-z#0-9]+;", " ", re.sub(r"<[^>]*>", "\x00", page))
    texts += re.split(r"[\x00\n]", page)
    return [f"{path.relative_to(ROOT)}: {t.strip()[:70]!r}" for t in texts
            if re.search(r"[A-Za-zÀ-ÿ]{2,}", t) and t.strip() not in TEMPLATE_TEXT_OK
            and "=" not in t and not re.fullmatch(r"[a-z][a-z0-9_-]*", t.strip())]


def test_ui5_no_french_literal_outside_gettext_in_python_and_templates():
    python = [p for p in sorted((ROOT / "webapp").rglob("*.py"))
              if str(p.relative_to(ROOT)) not in PY_EXEMPT]
    templates = [p for p in sorted((ROOT / "webapp" / "templates").rglob("*.html"))
                 if p.relative_to(ROOT / "webapp" / "templates").parts[0]
                 not in TEMPLATE_EXEMPT_DIRS]
    found = [hit for p in python for hit in _python_french_literals(p)]
    found += [hit for p in templates for hit in _template_french_literals(p)]
    assert not found, "French text outside _():\n" + "\n".join(found)
    assert len(python) > 80 and len(templates) > 80  # it read the real sources
