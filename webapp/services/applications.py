"""ACC-5: the applications a contact's licences open, and how each is reached."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.i18n import _
from webapp.models import Contact, Licence

APPS = {
    "manager": ("Keyyo Manager", _("Administrer et piloter vos télécommunications, "
                "depuis un navigateur web.")),
    "callpad": ("Keyyo CallPad", _("Votre annuaire et vos lignes : Android, iOS et macOS ; "
                "sous Windows, via la suite Keyyo Apps déployée depuis le Manager.")),
    "connect": ("Keyyo Connect", _("Messagerie instantanée d'entreprise : navigateur, Android, "
                "iOS et macOS ; sous Windows, via la suite Keyyo Apps.")),
    "visio": ("Keyyo Visio", _("Visioconférence en un clic, depuis un navigateur web.")),
}

KEYYO_APPS_NOTE = (_("La suite Keyyo Apps (Windows) est déployée depuis le Manager sans "
                   "identifiants ; elle apporte aussi SwitchBoard, Copy & Call et Fax."))


@dataclass(frozen=True)
class Application:
    key: str
    name: str
    description: str


def applications_for(contact: Contact) -> list[Application]:
    products = {row.product for row in Licence.select(Licence.product).where(
        Licence.contact == contact)}
    return [Application(key, *APPS[key]) for key in APPS if key in products]
