"""Annuaire en dossiers (DIR-5): folders, moving contacts, contact cards and photos."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from webapp.blueprints.directory import add_contact
from webapp.db import db
from webapp.navigation import lights
from webapp.rendering import confirmed, redirect_to, render, saved
from webapp.security import (
    current_access,
    current_actor,
    get_contact_or_404,
    get_service_or_404,
    requires,
    scoped_contacts,
)
from webapp.services import directory as directory_service
from webapp.services import folders as folders_service
from webapp.services import holders
from webapp.services import sites as sites_service
from webapp.services.directory import ContactForm
from webapp.services.errors import FormError
from webapp.services.folders import CardForm
from webapp.translate import translate

bp = Blueprint("folders", __name__, url_prefix="/annuaire/dossiers")

lights(bp, "directory")


def _data_dir():
    return current_app.extensions["cm_settings"].DATA_DIR


def _folder_or_404(folder_id: int):
    folder = folders_service.get_folder(current_access().account_id, folder_id)
    if folder is None:
        abort(404)
    return folder


def _folder_page(folder) -> str:
    """The folders page showing `folder` (None: the contacts in no folder)."""
    return url_for("folders.index", dossier=folder.id if folder else "none")


def _selected():
    raw = request.values.get("dossier", "")
    if raw == "none":
        return "none", None
    if raw.isdigit():
        return int(raw), _folder_or_404(int(raw))
    return None, None


@bp.route("")
def index(status=200, form_error=None, name="", rename=None):
    """The folders and their contacts; a refused form below shows it again with why (`status`…)."""
    access = current_access()
    selected, folder = _selected()
    page = directory_service.paginate(
        folders_service.contacts_in(scoped_contacts(), selected),
        directory_service.parse_page(request.args.get("page")), 50)
    return render("folders/index.html", status=status,
                  folders=folders_service.folders_of(access.account_id),
                  counts=folders_service.counts(scoped_contacts()),
                  total=scoped_contacts().count(), selected=selected, folder=folder,
                  page=page, form_error=form_error, name=name, rename=rename or {},
                  services_count=folders_service.services_count([c.id for c in page.items]))


@bp.route("", methods=["POST"])
@requires("services.manage")
def create():
    try:
        folder = folders_service.create_folder(
            current_access().account_id, request.form.get("name", ""),
            request.form.get("external") == "1", actor=current_actor())
    except FormError as exc:
        return index(400, form_error=translate(exc.errors["name"]),
                      name=request.form.get("name", ""))
    return saved(_("Dossier « %(name)s » créé.", name=folder.name), _folder_page(folder))


@bp.route("/<int:folder_id>/renommer", methods=["POST"])
@requires("services.manage")
def rename(folder_id: int):
    folder = _folder_or_404(folder_id)
    try:
        folder = folders_service.rename_folder(folder, request.form.get("name", ""),
                                               request.form.get("external") == "1",
                                               actor=current_actor())
    except FormError as exc:
        return index(400, rename={"id": folder.id, "error": translate(exc.errors["name"]),
                                   "name": request.form.get("name", "")})
    return saved(_("Dossier renommé en « %(name)s ».", name=folder.name), _folder_page(folder))


@bp.route("/<int:folder_id>/supprimer", methods=["POST"])
@requires("services.manage")
def delete(folder_id: int):
    folder = _folder_or_404(folder_id)
    if not confirmed():
        return index(400, rename={"id": folder.id, "delete_error": _(
            "Confirmez la suppression en cochant la case.")})
    moved = folders_service.delete_folder(folder, actor=current_actor())
    return saved(ngettext("Dossier « %(name)s » supprimé ; %(num)s contact passe dans « Sans "
                          "dossier ».", "Dossier « %(name)s » supprimé ; %(num)s contacts passent "
                          "dans « Sans dossier ».", moved, name=folder.name),
                 url_for("folders.index"))


@bp.route("/deplacer", methods=["POST"])
@requires("services.manage")
def move():
    access = current_access()
    ids = [int(v) for v in request.form.getlist("contact_id") if v.isdigit()]
    target = request.form.get("folder_id", "")
    if not ids or target == "":
        return index(400, form_error=_("Choisissez au moins un contact et le dossier de "
                                        "destination."))
    folder = None if target == "none" else (
        _folder_or_404(int(target)) if target.isdigit() else abort(404))
    moved = folders_service.move_contacts(scoped_contacts(), ids, folder,
                                          account_id=access.account_id, actor=current_actor())
    if not moved:
        abort(404)
    flash(ngettext("%(num)s contact déplacé dans « %(name)s ».",
                   "%(num)s contacts déplacés dans « %(name)s ».", moved,
                   name=folder.name if folder else _("Sans dossier")), "success")
    back = request.form.get("back", "")
    return redirect_to(url_for("folders.index", dossier=back) if back else _folder_page(folder))


# --- contact card -------------------------------------------------------------------

def _card_page(contact, form: CardForm, status=200, photo_error=None):
    return render("folders/card.html", status=status, contact=contact, form=form,
                  folders=folders_service.folders_of(current_access().account_id),
                  photo_error=photo_error)


@bp.route("/contacts/<int:contact_id>/fiche", methods=["GET", "POST"])
@requires("services.manage")
def card(contact_id: int):
    contact = get_contact_or_404(contact_id)
    if request.method == "GET":
        return _card_page(contact, CardForm.from_contact(contact))
    form = CardForm.from_data(request.form)
    try:
        values = folders_service.validate_card(form, current_access().account_id)
    except FormError as refused:
        form.errors.update(refused.errors)
        return _card_page(contact, form, 400)
    folders_service.update_card(contact, values, actor=current_actor())
    return saved(_("La fiche de %(name)s est enregistrée.", name=contact.full_name),
                 url_for("directory.contact", contact_id=contact.id))


@bp.route("/contacts/<int:contact_id>/photo", methods=["POST"])
@requires("services.manage")
def upload_photo(contact_id: int):
    contact = get_contact_or_404(contact_id)
    upload = request.files.get("photo")
    try:
        folders_service.set_photo(contact, upload.read() if upload else b"", _data_dir(),
                                  actor=current_actor())
    except FormError as exc:
        return _card_page(contact, CardForm.from_contact(contact), 400,
                          photo_error=translate(exc.errors["photo"]))
    return saved(_("Photo enregistrée."), url_for("folders.card", contact_id=contact.id))


@bp.route("/contacts/<int:contact_id>/photo/supprimer", methods=["POST"])
@requires("services.manage")
def remove_photo(contact_id: int):
    contact = get_contact_or_404(contact_id)
    folders_service.remove_photo(contact, _data_dir(), actor=current_actor())
    return saved(_("Photo retirée."), url_for("folders.card", contact_id=contact.id))


@bp.route("/contacts/<int:contact_id>/photo")
def photo(contact_id: int):
    """Only to signed-in users of the account who see this contact (never public)."""
    contact = get_contact_or_404(contact_id)
    path = folders_service.photo_path(contact, _data_dir())
    if path is None:
        abort(404)
    response = Response(path.read_bytes(), mimetype="image/jpeg")  # a small thumbnail
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- new contact in a folder ("Ajouter un contact", only Nom and Prénom required) ----

def _new_page(form: ContactForm, card_form: CardForm, status=200):
    return render("folders/new_contact.html", status=status, form=form, card=card_form,
                  sites=sites_service.options(current_access()),
                  folders=folders_service.folders_of(current_access().account_id))


@bp.route("/contacts/nouveau", methods=["GET", "POST"])
@requires("services.manage")
def new_contact():
    access = current_access()
    sites = sites_service.options(access)
    if request.method == "GET":
        default = next((i for i, _n, _d in sites), "")
        return _new_page(ContactForm(site_id=str(default)),
                         CardForm(folder_id=request.args.get("dossier", "")))
    form = ContactForm.from_data(request.form)
    card_form = CardForm.from_data(request.form)
    try:
        values = folders_service.validate_contact(form, card_form, {i for i, _n, _d in sites},
                                                  access.account_id)
    except FormError as refused:
        form.errors.update(refused.errors)
        return _new_page(form, card_form, 400)
    return add_contact(values)


# --- DIR-5: associating a service to someone who is not yet a contact ----------------

@bp.route("/services/<int:service_id>/nouvelle-personne", methods=["GET", "POST"])
@requires("services.manage")
def new_person(service_id: int):
    """Creates the contact (on the service's site) and associates it, in one transaction."""
    service = get_service_or_404(service_id)
    access = current_access()
    form = ContactForm(site_id=str(service.site_id))
    card_form = CardForm()
    if request.method == "POST":
        form = ContactForm.from_data({**request.form.to_dict(), "site_id": service.site_id})
        card_form = CardForm.from_data(request.form)
        try:
            values = folders_service.validate_contact(form, card_form, {service.site_id},
                                                      access.account_id)
        except FormError as refused:
            form.errors.update(refused.errors)
        else:
            with db.atomic():
                contact = directory_service.create_contact(access.account_id, values,
                                                           actor=current_actor())
                holders.associate(service, contact, actor=current_actor())
            return saved(_("%(name)s est ajouté à l'annuaire et associé au service.",
                           name=contact.full_name),
                         url_for("services.detail", service_id=service.id) + "#contacts")
    return render("folders/new_person.html", status=400 if form.errors else 200,
                  service=service, form=form, card=card_form,
                  folders=folders_service.folders_of(access.account_id))
