"""Configurer > Bibliothèque audio (WN-5): upload, listen, rename, delete when unused."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, request, send_file, url_for
from flask_babel import gettext as _

from webapp.models import AUDIO_KINDS, AudioFile
from webapp.navigation import lights
from webapp.rendering import confirm_page, confirmed, render, saved
from webapp.security import current_access, current_actor, get_for_account_or_404, requires
from webapp.services import audio as audio_service
from webapp.services.errors import FormError

bp = Blueprint("audio", __name__, url_prefix="/configurer/audio")

lights(bp, "configure")


def _audio_or_404(audio_id: int) -> AudioFile:
    return get_for_account_or_404(AudioFile, audio_id)


def _uses_for_display(audio: AudioFile) -> list[str]:
    """Where a file is used; places outside the person's site scope are not named (ROLE-3)."""
    access = current_access()
    return [use.label if use.site_id is None or access.sees_site(use.site_id)
            else _("un service d'un site hors de votre périmètre")
            for use in audio_service.usages(audio)]


@bp.route("")
@requires("services.manage")
def index(status=200, form=None, errors=None, edit_id=None, edit_errors=None,
           edit_value=None, in_use=None):
    """The library; a refused upload, rename or delete shows it again with why (`status`…)."""
    files = audio_service.library(current_access().account_id)
    return render("audio/index.html", status=status, files=files, kinds=AUDIO_KINDS,
                  form=form or {"name": "", "kind": "announcement"}, errors=errors or {},
                  edit_id=edit_id, edit_errors=edit_errors or {}, edit_value=edit_value,
                  in_use=in_use, max_label=audio_service.MAX_LABEL,
                  max_bytes=audio_service.MAX_BYTES, duration=audio_service.duration_label,
                  size=audio_service.size_label)


@bp.route("", methods=["POST"])
@requires("services.manage")
def upload():
    file = request.files.get("file")
    filename, data = None, b""
    if file:
        filename, data = file.filename, file.stream.read(audio_service.MAX_BYTES + 1)
        file.close()
    try:
        audio = audio_service.upload(filename=filename, data=data,
                                     name=request.form.get("name", ""),
                                     kind=request.form.get("kind", ""), actor=current_actor())
    except FormError as exc:
        return index(400, form=exc.values, errors=exc.errors)
    return saved(_("Fichier « %(name)s » ajouté à la bibliothèque.", name=audio.name),
                 url_for("audio.index"))


@bp.route("/<int:audio_id>/fichier")
@requires("services.manage")
def file(audio_id: int):
    """The sound itself, to this account only, with its real content type (range requests)."""
    audio = _audio_or_404(audio_id)
    path = audio_service.path_of(audio, current_app.extensions["cm_settings"].DATA_DIR)
    if not path.is_file():
        abort(404)
    # At most MAX_BYTES: served from memory, so no file handle outlives the request.
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=audio.content_type,
                         conditional=True, etag=audio.storage_name,
                         last_modified=audio.created_at, as_attachment=False, max_age=0,
                         download_name=f"{audio.name}.{audio.format}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:audio_id>/renommer", methods=["POST"])
@requires("services.manage")
def rename(audio_id: int):
    audio = _audio_or_404(audio_id)
    try:
        audio_service.rename(audio, request.form.get("name", ""), actor=current_actor())
    except FormError as exc:
        return index(400, edit_id=audio.id, edit_errors=exc.errors,
                      edit_value=exc.values.get("name"))
    return saved(_("Fichier renommé en « %(name)s ».", name=audio.name), url_for("audio.index"))


@bp.route("/<int:audio_id>/supprimer", methods=["GET", "POST"])
@requires("services.manage")
def delete(audio_id: int):
    audio = _audio_or_404(audio_id)
    if request.method == "GET" or not confirmed():  # UI-1: one confirmation pattern
        back = url_for("audio.index")
        return confirm_page(
            title=_("Supprimer un fichier audio"),
            question=_("Supprimer le fichier « %(name)s » ?", name=audio.name),
            consequences=[_("Le fichier est effacé de la bibliothèque ; un fichier encore "
                            "utilisé n'est pas supprimé.")],
            action=url_for("audio.delete", audio_id=audio.id), button=_("Supprimer le fichier"),
            cancel=back, crumbs=[(_("Bibliothèque audio"), back)],
            refused=request.method == "POST")
    try:
        audio_service.delete(audio, actor=current_actor())
    except audio_service.AudioInUse:
        return index(409, in_use=(audio, _uses_for_display(audio)))
    return saved(_("Fichier « %(name)s » supprimé.", name=audio.name), url_for("audio.index"))
