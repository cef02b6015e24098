"""Services (DIR-2/3/4, SITE-3): lines and welcome numbers, their contacts and holder,
Keyyo Phone credentials, and desk phones ("Équipements")."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, request, session, url_for
from flask_babel import gettext as _

from webapp.i18n import N_
from webapp.models import LICENCE_PRODUCTS, PHONE_MODELS, SERVICE_KINDS, Equipment, Site
from webapp.navigation import lights
from webapp.rendering import (
    ask_confirmation,
    confirm_page,
    confirmed,
    redirect_to,
    render,
    saved,
)
from webapp.security import (
    current_access,
    current_actor,
    get_contact_or_404,
    get_for_account_or_404,
    get_line_or_404,
    get_service_or_404,
    requires,
    scoped_contacts,
    scoped_services,
)
from webapp.services import equipment as equipment_service
from webapp.services import forwarding, holders, phones, softphone
from webapp.services import sites as sites_service
from webapp.services.directory import parse_page
from webapp.services.equipment import EquipmentForm
from webapp.services.errors import FormError
from webapp.services.holders import HolderError
from webapp.translate import translate

bp = Blueprint("services", __name__, url_prefix="/services")


@bp.app_context_processor
def _labels():
    return {"SERVICE_KINDS": SERVICE_KINDS, "LICENCE_PRODUCTS": LICENCE_PRODUCTS}

lights(bp, "services")


def _site_filter() -> tuple[list[int] | None, int | None]:
    """`?site=` → that site and its sub-sites (in scope only); unknown ids answer 404."""
    site_id = request.args.get("site", type=int)
    if not site_id:
        return None, None
    site = get_for_account_or_404(Site, site_id)
    access = current_access()
    if not access.sees_site(site.id):
        abort(404)
    ids = sites_service.subtree_ids(site)
    return [i for i in ids if access.sees_site(i)], site.id


@bp.route("")
def index():
    kind = request.args.get("type", "")
    site_ids, site_id = _site_filter()
    text = request.args.get("q", "").strip()[:60]
    page = holders.listing(scoped_services(), kind, site_ids,
                           parse_page(request.args.get("page")), text)
    return render("services/index.html", page=page, kind=kind, site_id=site_id, q=text)


def _detail_page(service, status: int = 200, **ctx):
    access = current_access()
    q = request.args.get("q", "").strip()[:60]
    ctx.setdefault("error", None)
    return render(
        "services/detail.html", status=status, service=service,
        contacts=holders.contacts_of(service), q=q,
        candidates=holders.candidates(scoped_contacts(), service, q) if q else [],
        credential=softphone.live(service) if service.kind == "fixed" else None,
        equipment=equipment_service.of_line(service),
        site_path=sites_service.paths({service.site_id}, access.account_id)[service.site_id],
        can_assign_site=access.can("sites.manage"),
        holder_kinds=holders.HOLDER_KINDS,
        switches=forwarding.switches([service]) if access.can("services.manage") else {},
        **ctx)


@bp.route("/<int:service_id>")
def detail(service_id: int):
    return _detail_page(get_service_or_404(service_id))


def _chosen_contact(missing: str):
    """A form of a service's Contacts section: the view gets the service and the contact
    the form names (`contact_id`; either out of scope: 404); a form naming none gets the
    service's page again (400) saying `missing`."""
    def decorate(view):
        @wraps(view)
        def run(service_id: int):
            service = get_service_or_404(service_id)
            contact_id = request.form.get("contact_id", type=int)
            if contact_id is None:
                return _detail_page(service, 400, error=_(missing))
            return view(service, get_contact_or_404(contact_id))
        return run
    return decorate


@bp.route("/<int:service_id>/contacts", methods=["POST"])
@requires("services.manage")
@_chosen_contact(N_("Choisissez un contact à associer."))
def associate(service, contact):
    holders.associate(service, contact, actor=current_actor())
    return saved(_("%(name)s est associé au service.", name=contact.full_name),
                 url_for("services.detail", service_id=service.id) + "#contacts")


@bp.route("/<int:service_id>/contacts/retirer", methods=["POST"])
@requires("services.manage")
@_chosen_contact(N_("Choisissez le contact à retirer."))
def dissociate(service, contact):
    try:
        was_holder = holders.dissociate(service, contact, actor=current_actor())
    except HolderError as error:
        return _detail_page(service, 400, error=translate(error.message))
    if was_holder:
        flash(_("%(name)s n'est plus associé au service. C'était son titulaire : le service "
                "n'a plus de titulaire, choisissez-en un autre.", name=contact.full_name),
              "warning")
    else:
        flash(_("%(name)s n'est plus associé au service.", name=contact.full_name), "success")
    return redirect_to(url_for("services.detail", service_id=service.id) + "#contacts")


@bp.route("/<int:service_id>/titulaire", methods=["POST"])
@requires("services.manage")
def set_holder(service_id: int):
    service = get_service_or_404(service_id)
    raw = request.form.get("holder")
    if raw is None:
        return _detail_page(service, 400, error=_("Choisissez le titulaire."))
    contact_id = None
    if raw != "none":
        try:
            contact_id = int(raw)
        except ValueError:
            return _detail_page(service, 400, error=_("Choisissez le titulaire."))
    try:
        holders.set_holder(service, contact_id, actor=current_actor())
    except HolderError as error:
        return _detail_page(service, 400, error=translate(error.message))
    return saved(_("Le titulaire est enregistré."),
                 url_for("services.detail", service_id=service.id) + "#contacts")


@bp.route("/<int:service_id>/site", methods=["POST"])
@requires("sites.manage", "services.manage")
def assign_site(service_id: int):
    service = get_service_or_404(service_id)
    if (site := _chosen_site()) is None:
        return _detail_page(service, 400, error=_("Choisissez un site dans la liste."))
    sites_service.assign(current_access(), service, site, actor=current_actor())
    return saved(_("Le service est affecté au site « %(name)s ».", name=site.name),
                 url_for("services.detail", service_id=service.id))


def _chosen_site() -> Site | None:
    """The site the form names (`site_id`), if the user sees it."""
    site_id = request.form.get("site_id", type=int)
    access = current_access()
    if site_id is None:
        return None
    site = sites_service.site_of(access.account_id, site_id)
    return site if site is not None and access.sees_site(site.id) else None


@bp.route("/<int:service_id>/keyyo-phone", methods=["GET", "POST"])
@requires("services.manage")
def softphone_credentials(service_id: int):
    """UI-1: regenerating (which disconnects the device in use) is confirmed first; the
    new secret is then shown once, by post/redirect/get: reloading never regenerates."""
    service = get_line_or_404(service_id)
    current = softphone.live(service)
    if current is not None and (request.method == "GET" or not confirmed()):
        back = url_for("services.detail", service_id=service.id)
        return confirm_page(
            title=_("Générer de nouveaux identifiants"),
            question=_("Générer de nouveaux identifiants Keyyo Phone pour le %(number)s ?",
                       number=phones.display(service.number)),
            consequences=[_("Les identifiants actuels (%(login)s) sont révoqués aussitôt : "
                            "l'appareil qui les utilise est déconnecté et devra être "
                            "reconfiguré.", login=current.login)],
            action=url_for("services.softphone_credentials", service_id=service.id),
            button=_("Générer de nouveaux identifiants"), cancel=back + "#keyyo-phone",
            crumbs=[(_("Services"), url_for("services.index")),
                    (phones.display(service.number), back)],
            refused=request.method == "POST")
    if request.method == "GET":
        return redirect_to(url_for("services.detail", service_id=service.id) + "#keyyo-phone")
    issued = softphone.generate(service, actor=current_actor())
    session[SECRET_KEY] = {"service": service.id, "login": issued.login,
                           "secret": issued.secret}
    return redirect_to(url_for("services.softphone_issued", service_id=service.id))


SECRET_KEY = "softphone_issued"


@bp.route("/<int:service_id>/keyyo-phone/identifiants")
@requires("services.manage")
def softphone_issued(service_id: int):
    """The new credentials, once: the secret leaves the session as it is shown."""
    service = get_line_or_404(service_id)
    held = session.get(SECRET_KEY)
    issued = None
    if held and held.get("service") == service.id:
        session.pop(SECRET_KEY)
        issued = softphone.Issued(held["login"], held["secret"])
    response = render("services/softphone.html", service=service, issued=issued)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Équipements -----------------------------------------------------------------

def equipment_or_404(equipment_id: int) -> Equipment:
    equipment = get_for_account_or_404(Equipment, equipment_id)
    if not current_access().sees_site(equipment.site_id):
        abort(404)
    return equipment


def _scoped_equipment():
    access = current_access()
    return equipment_service.scoped(access.account_id, access.site_ids)


@bp.route("/equipements")
def equipment():
    site_ids, site_id = _site_filter()
    page = equipment_service.listing(_scoped_equipment(), site_ids,
                                     parse_page(request.args.get("page")))
    return render("services/equipment.html", page=page, site_id=site_id)


def _equipment_form(form: EquipmentForm, item: Equipment | None = None, status: int = 200):
    return render("services/equipment_form.html", status=status, form=form, item=item,
                  models=PHONE_MODELS)


@bp.route("/equipements/nouveau", methods=["GET", "POST"])
@requires("equipment.manage")
def equipment_new():
    access = current_access()
    if request.method == "GET":
        first = next((i for i, _n, _d in sites_service.options(access)), "")
        return _equipment_form(EquipmentForm(site_id=str(first)))
    form = EquipmentForm.from_data(request.form)
    try:
        values = equipment_service.validate(form, access.account_id, access.site_ids)
    except FormError as refused:
        form.errors.update(refused.errors)
        return _equipment_form(form, status=400)
    item = equipment_service.create(access.account_id, values, actor=current_actor())
    return saved(_("L'équipement %(mac)s est enregistré.", mac=item.mac),
                 url_for("services.equipment_detail", equipment_id=item.id))


@bp.route("/equipements/<int:equipment_id>", methods=["GET", "POST"])
def equipment_detail(equipment_id: int):
    item = equipment_or_404(equipment_id)
    access = current_access()
    if request.method == "GET":
        return _equipment_form(EquipmentForm.from_record(item), item)
    if not access.can("equipment.manage"):
        abort(403, description=[N_("Gérer les équipements")])
    form = EquipmentForm.from_data(request.form)
    form.site_id = str(item.site_id)
    try:
        values = equipment_service.validate(form, access.account_id, access.site_ids, item,
                                            with_site=False)
    except FormError as refused:
        form.errors.update(refused.errors)
        return _equipment_form(form, item, status=400)
    equipment_service.update(item, values, actor=current_actor())
    return saved(_("L'équipement est enregistré."),
                 url_for("services.equipment_detail", equipment_id=item.id))


@bp.route("/equipements/<int:equipment_id>/site", methods=["POST"])
@requires("sites.manage", "equipment.manage")
def equipment_site(equipment_id: int):
    item = equipment_or_404(equipment_id)
    if (site := _chosen_site()) is None:
        form = EquipmentForm.from_record(item)
        form.errors["site_id"] = _("Choisissez un site dans la liste.")
        return _equipment_form(form, item, status=400)
    sites_service.assign(current_access(), item, site, actor=current_actor())
    return saved(_("L'équipement est affecté au site « %(name)s ».", name=site.name),
                 url_for("services.equipment_detail", equipment_id=item.id))


@bp.route("/equipements/<int:equipment_id>/supprimer", methods=["GET", "POST"])
@requires("equipment.manage")
def equipment_delete(equipment_id: int):
    item = equipment_or_404(equipment_id)
    ask_confirmation("services/equipment_delete.html", item=item)
    equipment_service.delete(item, actor=current_actor())
    return saved(_("L'équipement %(mac)s est supprimé.", mac=item.mac),
                 url_for("services.equipment"))
