"""Annuaire (DIR-1): contacts with live search, pagination, create / edit / delete."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.navigation import lights
from webapp.rendering import ask_confirmation, redirect_to, render, saved
from webapp.security import (
    current_access,
    current_actor,
    get_contact_or_404,
    requires,
    scoped_contacts,
)
from webapp.services import directory as directory_service
from webapp.services import forwarding
from webapp.services import sites as sites_service
from webapp.services.directory import ContactForm
from webapp.services.errors import FormError
from webapp.services.roles import BeyondRights
from webapp.translate import translate

bp = Blueprint("directory", __name__, url_prefix="/annuaire")

lights(bp, "directory")


def _site_choices():
    return sites_service.options(current_access())


@bp.route("")
def contacts():
    text = request.args.get("q", "").strip()[:100]
    page = directory_service.search(scoped_contacts(), text,
                                    directory_service.parse_page(request.args.get("page")))
    return render("directory/contacts.html", page=page, q=text)


@bp.route("/<int:contact_id>")
def contact(contact_id: int):
    contact = get_contact_or_404(contact_id)
    access = current_access()
    details = directory_service.details(contact, access.site_ids)
    return render("directory/contact.html", contact=contact, details=details,
                  switches=forwarding.switches(details.services)
                  if access.can("services.manage") else {},
                  site_path=sites_service.paths({contact.site_id}, access.account_id).get(
                      contact.site_id) if contact.site_id else None)


def add_contact(values: dict) -> Response:
    """A new contact from a valid form, whichever page it was typed in (here or a
    folder's): created, then its page, saying so."""
    contact = directory_service.create_contact(current_access().account_id, values,
                                               actor=current_actor())
    return saved(_("Le contact %(name)s est ajouté à l'annuaire.", name=contact.full_name),
                 url_for("directory.contact", contact_id=contact.id))


def _form_page(form: ContactForm, contact=None, status: int = 200):
    return render("directory/form.html", status=status, form=form, contact=contact,
                  sites=_site_choices())


def _posted(contact=None) -> tuple[ContactForm, dict | None]:
    """The contact form as posted, and its values once valid (None: refused, the refusals
    on the form)."""
    form = ContactForm.from_data(request.form)
    allowed = {i for i, _n, _d in _site_choices()}
    try:
        return form, directory_service.validate(form, allowed, current_access().account_id,
                                                contact)
    except FormError as refused:
        form.errors.update(refused.errors)
        return form, None


@bp.route("/nouveau", methods=["GET", "POST"])
@requires("services.manage")
def new():
    if request.method == "GET":
        default = next((i for i, _n, _d in _site_choices()), "")
        return _form_page(ContactForm(site_id=str(default)))
    form, values = _posted()
    if values is None:
        return _form_page(form, status=400)
    return add_contact(values)


@bp.route("/<int:contact_id>/modifier", methods=["GET", "POST"])
@requires("services.manage")
def edit(contact_id: int):
    contact = get_contact_or_404(contact_id)
    if request.method == "GET":
        return _form_page(ContactForm.from_record(contact), contact)
    form, values = _posted(contact)
    if values is None:
        return _form_page(form, contact, status=400)
    try:
        _saved, awaiting = directory_service.update_contact(
            contact, values, access=current_access(), actor=current_actor(),
            settings=current_app.extensions["cm_settings"])
    except FormError as refused:  # BeyondRights: not allowed to change this sign-in address
        form.errors.update(refused.errors)
        return _form_page(form, contact, status=403 if isinstance(refused, BeyondRights) else 400)
    flash(_("La fiche de %(name)s est enregistrée.", name=contact.full_name), "success")
    if awaiting:
        flash(_("Un lien de confirmation est envoyé à %(email)s : cette adresse servira à la "
                "connexion une fois le lien suivi. L'ancienne adresse est prévenue.",
                email=awaiting), "info")
    return redirect_to(url_for("directory.contact", contact_id=contact.id))


@bp.route("/<int:contact_id>/supprimer", methods=["GET", "POST"])
@requires("services.manage")
def delete(contact_id: int):
    contact = get_contact_or_404(contact_id)
    try:
        directory_service.check_deletable(contact, current_user)
    except FormError as refused:
        return render("directory/delete.html", status=409 if request.method == "POST" else 200,
                      contact=contact, refusal=translate(refused.message), error=None)
    ask_confirmation("directory/delete.html", contact=contact, refusal=None)
    directory_service.delete_contact(contact, actor=current_actor(),
                                     data_dir=current_app.extensions["cm_settings"].DATA_DIR)
    return saved(_("%(name)s est supprimé de l'annuaire.", name=contact.full_name),
                 url_for("directory.contacts"))
