"""The permission matrix, one module per area (ROLE-1..4, security checks).

Every endpoint of the app must be declared in exactly one module here with what each
kind of visitor gets, and every state-changing route with a *valid body* for a real
object of the demo (`data`); `tests/security/test_route_matrix.py` builds the matrix from the
app's URL map and fails on any undeclared route or any POST route without a body.

Expectations (outcomes of one request):
- ALLOWED  the request succeeds: 2xx/3xx other than a sign-in redirect. For a POST this
           means the valid body was accepted — a validation answer is INVALID, not ALLOWED.
- INVALID  400/401/409/410/422: the view refused the body (declared only where no valid
           body can exist for that visitor).
- LOGIN    redirected to a sign-in page (customer or back-office)
- 403      refused for missing permission, with the French explanation
- 404      object out of tenant or site scope
- CSRF     the CSRF check refused the post (`X-CSRF-Refused`): never expected — every
           visitor posts a valid token.
Visitors: anonymous; admin (the demo Administrateur, Claire); restricted (demo
"Responsable Lyon": sites.access services.manage tickets.access deployments.view, scope
Lyon); users_only (a user holding only "Gérer les accès utilisateurs", scope: the default
site); other (administrator of another account made like `create-admin`, looking at the
demo account's objects); staff (a back-office session: a stranger on customer routes,
the one allowed visitor on /ops). `users_only` and `staff` default to DERIVED: users_only
gets 403 wherever the view requires a permission other than users.manage and the
admin's outcome elsewhere; staff gets LOGIN on every signed-in customer route, ALLOWED on
/ops and the anonymous outcome on public routes. Where that is not what must happen, the
route says so explicitly.

Each (route, visitor) runs in a transaction rolled back afterwards: every visitor posts
the same body against the same demo. Whenever a POST is refused (LOGIN, 403, 404) the
database (audit journal aside) must be unchanged.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

ALLOWED = "allowed"
LOGIN = "login"
INVALID = "invalid"
CSRF = "csrf"
DERIVED = "derived"
VISITORS = ("anonymous", "other", "restricted", "users_only", "staff", "admin")


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str = "GET"
    anonymous: object = LOGIN
    admin: object = ALLOWED
    restricted: object = ALLOWED
    other: object = ALLOWED
    users_only: object = DERIVED
    staff: object = DERIVED
    # URL arguments from the demo data: a callable taking the `Demo` fixture object.
    args: Callable[..., dict] | None = None
    # The valid body of a state-changing route: a dict, or a callable taking the `Demo`
    # (run inside the visitor's transaction: it may create the object it needs).
    # File uploads are (BytesIO, filename) values.
    data: dict | Callable[..., dict] | None = None
    # Sent as an htmx request (HX-Request) when the form is posted by htmx.
    htmx: bool = False
    # Prepares the visitor's browser before the request, e.g. a pending sign-in:
    # a callable (browser, Demo) → dict merged into the body.
    prepare: Callable[..., dict] | None = None

    def body(self, demo) -> dict:
        if callable(self.data):
            return dict(self.data(demo))
        return dict(self.data or {})


def declared_routes() -> list[Route]:
    """Every route declared by the area modules of this package."""
    found: list[Route] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"tests.routes.{info.name}")
        found.extend(getattr(module, "ROUTES", []))
    return found


@dataclass
class Demo:
    """What route tables build URLs and bodies from (tests/routes/*.py)."""
    account_id: int
    admin_user_id: int
    restricted_user_id: int
    users_only_user_id: int
    other_account_id: int
    other_admin_id: int
    password: str
    ids: dict
    other: dict = field(default_factory=dict)  # real objects of the other account
    url: str = ""  # the URL of the route being tried
    user_id: int | None = None  # the visitor's user (None: anonymous or staff)
    reader: Callable[[str, str], str] | None = None

    def form(self, path: str, who: str = "admin", action: str | None = None) -> dict:
        """The form of page `path` (as `who` sees it) that posts to the route's URL."""
        return form_fields(self.reader(path, who), action or self.url)


def welcome_args(action: str | None = None, **fixed: str) -> Callable[..., dict]:
    """URL arguments on the demo welcome number: its id, `fixed`, and `action` if any."""
    def args(d) -> dict:
        found = {"service_id": d.ids["welcome"], **fixed}
        if action:
            found["action"] = action
        return found
    return args


def demo_ids(account) -> dict[str, int]:
    """Ids of demo objects that route tables use as URL arguments.

    Areas may also look objects up themselves inside their `args` callables.
    """
    from webapp.models import Contact, Service, Site

    def site(name: str) -> int:
        return Site.get((Site.account == account) & (Site.name == name)).id

    def service(number: str) -> int:
        return Service.get(Service.number == number).id

    def contact(first: str) -> int:
        return Contact.get((Contact.account == account) & (Contact.first_name == first)).id

    return {
        "site_default": Site.get((Site.account == account) & Site.is_default).id,
        "site_paris": site("Paris — Siège"),
        "site_lyon": site("Lyon"),
        "site_entrepot": site("Entrepôt"),
        "fixed_paris": service("+33100000101"),  # Claire, Paris
        "fixed_lyon": service("+33100000102"),  # Lucas, Lyon
        "fixed_entrepot": service("+33100000108"),  # Gabriel, Entrepôt (under Lyon)
        "mobile_paris": service("+33600000101"),
        "fax_paris": service("+33100000190"),
        "welcome": service("+33100000001"),
        "contact_paris": contact("Claire"),
        "contact_lyon": contact("Lucas"),
        "contact_bordeaux": contact("Manon"),
    }


# --- bodies read from the page, as a browser posts them ---------------------------------

class _Forms(HTMLParser):
    """Every <form> of a page: its action and the fields a browser would post (checked
    boxes, selected options, text values; file inputs and buttons left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._fields = []
            self.forms.append((a.get("action", ""), self._fields))
        elif self._fields is None or "disabled" in a:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("file", "submit", "button", "reset", "image"):
                self._fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, ""]
            self._select[1].append(self._option)
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        if self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select" and self._select is not None and self._fields is not None:
            name, options = self._select
            chosen = [o for o in options if o[1]] or options[:1]
            for value, _sel, text in chosen:
                self._fields.append((name, value if value is not None else text.strip()))
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea" and self._textarea is not None and self._fields is not None:
            self._fields.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None


def form_fields(html: str, action: str) -> dict:
    """The fields of the form posting to `action` (path, query ignored), as a dict whose
    repeated names are lists (the test client posts each value)."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if urlsplit(form_action).path == urlsplit(action).path:
            found: dict = {}
            for name, value in fields:
                if name == "csrf_token":
                    continue
                if name in found:
                    found[name] = (found[name] if isinstance(found[name], list)
                                   else [found[name]]) + [value]
                else:
                    found[name] = value
            return found
    raise AssertionError(f"no form posting to {action}")


def page_form(page: Callable[..., str], *, who: str = "admin",
              action: Callable[..., str] | None = None, **changes) -> Callable:
    """A body read from the page a visitor sees (`page(demo)`: its path) for the form that
    posts to the route's own URL (or to `action(demo)`: another form of the same shape),
    with `changes` applied (a callable value takes the demo)."""
    def data(d) -> dict:
        fields = d.form(page(d), who=who, action=action(d) if action else None)
        for name, value in changes.items():
            fields[name] = value(d) if callable(value) else value
        return fields
    return data


# --- sign-in steps, as a browser takes them ------------------------------------------------

def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in_started(b, password: str, email: str, door: str = "") -> dict:
    """The password step of `email` at the customer door ("") or the back-office ("/ops"),
    from this visitor's browser: its CSRF token and the verification page."""
    page = b.client.get(f"{door}/connexion", follow_redirects=True)
    response = b.client.post(f"{door}/connexion", data={
        "email": email, "password": password, "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 303, response.status_code
    page = b.client.get(f"{door}/connexion/verification").get_data(as_text=True)
    return {"csrf_token": csrf_of(page), "page": page}


def pending_code(b, password: str, email: str, door: str = "") -> dict:
    """A pending sign-in and the code e-mailed for it (sent by the real RQ worker)."""
    from tests.conftest import code_in

    started = sign_in_started(b, password, email, door)
    before = len(b.smtp.messages(email))
    if 'name="code"' not in started["page"]:
        b.client.post(f"{door}/connexion/envoyer-code",
                      data={"csrf_token": started["csrf_token"]})
    b.run_jobs()
    codes = [m for m in b.smtp.messages(email)[before:]
             if "code" in (m["Subject"] or "").lower()]
    assert codes, "no code e-mailed"
    return {"csrf_token": started["csrf_token"], "code": code_in(codes[-1])}
