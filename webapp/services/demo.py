"""The French demo company loaded by `flask --app webapp.app demo` (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.db import db
from webapp.models import (
    TARGET_NUMBER,
    TARGET_VOICEMAIL,
    TFA_INACTIVE,
    Account,
    Contact,
    Equipment,
    ForwardingProfile,
    Licence,
    Role,
    RoleSite,
    Service,
    ServiceContact,
    Site,
    User,
    UserRole,
    VoicemailSettings,
    utcnow,
)
from webapp.permissions import SCOPE_SITES
from webapp.services import demo_directory, exchange_demo, welcome_demo
from webapp.services.accounts import admin_role, create_account, default_site
from webapp.services.forwarding import ensure_account_profiles
from webapp.services.passwords import hash_password
from webapp.services.provisioning import create_service
from webapp.settings import load

DEMO_COMPANY = "Atelier Dupont & Associés"
DEMO_ADMIN_EMAIL = "claire.dubois@atelier-dupont.example"
DEMO_USER_EMAIL = "lucas.petit@atelier-dupont.example"
DEMO_PASSWORD = "demo-manager-2026"
WELCOME_NUMBER = "+33100000001"

# (first name, last name, site key, fixed line, mobile, licences)
PEOPLE = [
    ("Claire", "Dubois", "paris", "+33100000101", "+33600000101", ("manager", "callpad")),
    ("Lucas", "Petit", "lyon", "+33100000102", None, ("manager", "connect")),
    ("Emma", "Moreau", "accueil", "+33100000103", None, ("callpad",)),
    ("Hugo", "Laurent", "accueil", "+33100000104", "+33600000104", ("callpad", "visio")),
    ("Léa", "Simon", "atelier", "+33100000105", None, ()),
    ("Louis", "Michel", "atelier", None, "+33600000106", ()),
    ("Chloé", "Lefèvre", "lyon", "+33100000107", None, ("connect",)),
    ("Gabriel", "Leroy", "entrepot", "+33100000108", None, ()),
    ("Manon", "Roux", "bordeaux", "+33100000109", "+33600000109", ("visio",)),
    ("Jules", "David", "bordeaux", None, None, ()),
    ("Camille", "Bertrand", "paris", None, None, ()),
    ("Arthur", "Morel", "paris", "+33100000110", None, ()),
    ("Inès", "Fournier", "lyon", None, "+33600000111", ()),
    ("Nathan", "Girard", "entrepot", None, None, ()),
    ("Sarah", "Bonnet", "default", None, None, ()),
]

# Fixed line → backup number, set at creation: it becomes the unavailability target of
# the line's default forwarding profile (LINE-3), created with the line.
BACKUP = {"+33100000104": "+33600000104"}


@dataclass
class DemoResult:
    account: Account
    admin_email: str
    user_email: str
    password: str
    created: bool


def load_demo(password: str = DEMO_PASSWORD) -> DemoResult:
    existing = Account.get_or_none(Account.name == DEMO_COMPANY)
    if existing is not None:
        User.update(password_hash=hash_password(password), password_set_at=utcnow()).where(
            User.email.in_([DEMO_ADMIN_EMAIL, DEMO_USER_EMAIL])
        ).execute()
        _line_settings(existing)
        _equipment(existing)
        _exchange(existing, password)
        _welcome_routing(existing)
        demo_directory.seed(existing)
        return DemoResult(existing, DEMO_ADMIN_EMAIL, DEMO_USER_EMAIL, password, False)
    with db.atomic():
        account = create_account(DEMO_COMPANY)
        sites = _sites(account)
        contacts = _people(account, sites)
        _welcome_number(account, sites["paris"], contacts)
        _users(account, sites, contacts, password)
        _equipment(account)
        _line_settings(account)
        _exchange(account, password)
    _welcome_routing(account)
    demo_directory.seed(account)  # folders, outside contacts, blacklist, history
    return DemoResult(account, DEMO_ADMIN_EMAIL, DEMO_USER_EMAIL, password, True)


def _sites(account: Account) -> dict[str, Site]:
    default = default_site(account)
    paris = Site.create(account=account, name="Paris — Siège")
    lyon = Site.create(account=account, name="Lyon")
    bordeaux = Site.create(account=account, name="Bordeaux")
    return {
        "default": default,
        "paris": paris,
        "accueil": Site.create(account=account, parent=paris, name="Accueil"),
        "atelier": Site.create(account=account, parent=paris, name="Atelier"),
        "lyon": lyon,
        "entrepot": Site.create(account=account, parent=lyon, name="Entrepôt"),
        "bordeaux": bordeaux,
    }


def _email(first: str, last: str) -> str:
    plain = (f"{first}.{last}".lower().replace("é", "e").replace("è", "e").replace("ï", "i")
             .replace("ç", "c").replace(" ", "-"))
    return f"{plain}@atelier-dupont.example"


def _people(account: Account, sites: dict[str, Site]) -> dict[str, Contact]:
    contacts = {}
    for first, last, site_key, fixed, mobile, licences in PEOPLE:
        site = sites[site_key]
        contact = Contact.create(account=account, site=site, first_name=first, last_name=last,
                                 email=_email(first, last), phone_work=fixed,
                                 phone_mobile=mobile)
        contacts[first] = contact
        for kind, number in (("fixed", fixed), ("mobile", mobile)):
            if number:
                service = create_service(
                    account=account, site=site, kind=kind, number=number,
                    extension=number[-3:] if kind == "fixed" else None,
                    label=f"{'Ligne' if kind == 'fixed' else 'Mobile'} {first} {last}",
                    holder=contact, backup_number=BACKUP.get(number),
                )
                ServiceContact.create(service=service, contact=contact)
        for product in licences:
            Licence.create(account=account, contact=contact, product=product)
    fax = create_service(account=account, site=sites["paris"], kind="fax",
                         number="+33100000190", label="Fax du siège")
    ServiceContact.create(service=fax, contact=contacts["Camille"])
    return contacts


def _welcome_number(account: Account, site: Site, contacts: dict[str, Contact]) -> None:
    welcome = create_service(account=account, site=site, kind="welcome", number=WELCOME_NUMBER,
                             label="Accueil — standard")
    ServiceContact.create(service=welcome, contact=contacts["Emma"])


def _users(account: Account, sites: dict[str, Site], contacts: dict[str, Contact],
           password: str) -> None:
    now = utcnow()
    admin = User.create(account=account, contact=contacts["Claire"], email=DEMO_ADMIN_EMAIL,
                        password_hash=hash_password(password), password_set_at=now,
                        tfa_state=TFA_INACTIVE)
    UserRole.create(user=admin, role=admin_role(account))
    restricted = Role.create(
        account=account, name="Responsable Lyon",
        permissions="sites.access services.manage tickets.access deployments.view",
        scope=SCOPE_SITES,
    )
    RoleSite.create(role=restricted, site=sites["lyon"])
    lucas = User.create(account=account, contact=contacts["Lucas"], email=DEMO_USER_EMAIL,
                        password_hash=hash_password(password), password_set_at=now)
    UserRole.create(user=lucas, role=restricted)


def _exchange(account: Account, password: str) -> None:
    """Issue 7 demo: tickets, deployments, orders, invoices, and the operator staff
    account (sign-in printed by `flask demo`), all idempotent."""
    exchange_demo.seed(account, DEMO_ADMIN_EMAIL, password)


def _welcome_routing(account: Account) -> None:
    """Issue 6: the welcome number's queue, announcement and time rules (idempotent)."""
    settings = load()
    welcome_demo.seed(account, DEMO_ADMIN_EMAIL, settings.REDIS_URL, settings.DATA_DIR)


def _line_settings(account: Account) -> None:
    """LINE-1/LINE-2 demo: every fixed line has its default profile; Claire's line also has
    voicemail and an "Absence" profile to her mobile (idempotent)."""
    ensure_account_profiles(account.id)
    claire = Service.get_or_none((Service.account == account) & (Service.number == "+33100000101"))
    if claire is None or VoicemailSettings.get_or_none(VoicemailSettings.service == claire):
        return
    VoicemailSettings.create(service=claire, enabled=True, pin_hash=hash_password("258036"),
                             notify_email=DEMO_ADMIN_EMAIL, attach_message=True)
    ForwardingProfile.update(noanswer_kind=TARGET_VOICEMAIL, noanswer_delay_s=20).where(
        (ForwardingProfile.service == claire) & ForwardingProfile.is_default).execute()
    ForwardingProfile.create(service=claire, name="Absence", immediate_kind=TARGET_NUMBER,
                             immediate_number="+33600000101", present_company_number=True)


# (site name, model, MAC, line number or None): desk phones (DIR-2).
EQUIPMENT = [
    ("Paris — Siège", "Yealink T54W", "00:15:65:00:01:01", "+33100000101"),
    ("Accueil", "Yealink T43U", "00:15:65:00:01:03", "+33100000103"),
    ("Lyon", "Snom D785", "00:04:13:00:01:02", "+33100000102"),
    ("Entrepôt", "Yealink W73P (DECT)", "00:15:65:00:01:08", "+33100000108"),
    ("Bordeaux", "Snom D717", "00:04:13:00:01:09", None),
]


def _equipment(account: Account) -> None:
    """Idempotent: each demo phone is created once, by its MAC address."""
    for site_name, model, mac, number in EQUIPMENT:
        if Equipment.select().where(Equipment.mac == mac).exists():
            continue
        site = Site.get_or_none((Site.account == account) & (Site.name == site_name))
        if site is None:
            continue
        line = Service.get_or_none(Service.number == number) if number else None
        Equipment.create(account=account, site=site, model=model, mac=mac, line=line,
                         label=f"Poste {line.label.removeprefix('Ligne ')}" if line else "")
