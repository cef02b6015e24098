"""The permission matrix, one module per area (ROLE-1..4, security checks).

Every endpoint of the app must be declared in exactly one module here with
what each kind of visitor gets; `tests/security/test_route_matrix.py` builds the
matrix from the app's URL map and fails on any undeclared route.

Expectations:
- ALLOWED  the request reaches the view (2xx/3xx other than a sign-in redirect,
           or a 400 validation answer for a POST sent without its fields)
- LOGIN    redirected to the sign-in page (anonymous)
- 403      refused for missing permission, with the French explanation
- 404      object out of tenant or site scope
Visitors: anonymous, admin (demo Administrateur), restricted (demo "Responsable
Lyon": sites.access services.manage tickets.access deployments.view, scope Lyon),
other (administrator of another account, looking at the demo account's objects);
test_route_matrix_access_manager_only_and_staff_session adds a user holding only
"Gérer les accès utilisateurs" (403 wherever a view requires another permission) and
a back-office staff session (the sign-in page on every customer route).

Every visitor posts a valid CSRF token: a CSRF refusal (`X-CSRF-Refused`) is its own
outcome and always a failure, never counted as an allowed 400. Whenever a POST is
refused (LOGIN, 403, 404) the whole database (audit journal aside) must be unchanged.
Downloads use real objects of the demo account (attachment, invoice, photo, audio
file), so "other" gets 404 on ids that exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ALLOWED = "allowed"
LOGIN = "login"


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str = "GET"
    anonymous: object = LOGIN
    admin: object = ALLOWED
    restricted: object = ALLOWED
    other: object = ALLOWED
    # URL arguments from the demo data: a callable taking the `Demo` fixture object.
    args: Callable[..., dict] | None = None
    data: dict = field(default_factory=dict)


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
