"""Annuaire as CSV (DIR-6): "Exporter", "Voir le modèle de type CSV", "Synchroniser"."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from webapp.db import with_own_connection
from webapp.navigation import lights
from webapp.rendering import confirmed, csv_download, download, redirect_to, render, saved
from webapp.security import current_access, requires
from webapp.services import directory_csv, directory_sync

bp = Blueprint("directory_csv", __name__, url_prefix="/annuaire/csv")


lights(bp, "directory")


def _settings():
    return current_app.extensions["cm_settings"]


def _page(status=200, error=None):
    return render("directory_csv/index.html", status=status, columns=directory_csv.COLUMNS,
                  error=error)


@bp.route("")
def index():
    return _page()


@bp.route("/export")
def export():
    """Streamed: constant memory whatever the directory size."""
    stamp = dt.date.today().strftime("%Y%m%d")
    return csv_download(with_own_connection(directory_csv.export_rows(current_access())),
                        f"annuaire-{stamp}.csv")


@bp.route("/modele")
def model():
    return download(directory_csv.model_file(), "modele-annuaire.csv", "text/csv")


@bp.route("/synchroniser", methods=["POST"])
@requires("services.manage")
def upload():
    upload = request.files.get("file")
    data = upload.read(directory_csv.MAX_BYTES + 1) if upload else b""
    if not data:
        return _page(400, _("Choisissez le fichier CSV à synchroniser."))
    if len(data) > directory_csv.MAX_BYTES:
        return _page(400, _("Le fichier dépasse 20 Mo."))
    access = current_access()
    token = directory_sync.start(_settings().REDIS_URL, _settings().DATA_DIR,
                                 account_id=access.account_id, user_id=current_user.id,
                                 data=data, filename=upload.filename or "annuaire.csv")
    return redirect_to(url_for("directory_csv.status", token=token))


def _state_or_404(token: str) -> dict:
    state = directory_sync.state(_settings().REDIS_URL, token) if token.replace(
        "-", "").replace("_", "").isalnum() else None
    if state is None or state["account"] != current_access().account_id \
            or state["user"] != current_user.id:
        abort(404)
    return state


@bp.route("/synchroniser/<token>")
@requires("services.manage")
def status(token: str):
    state = _state_or_404(token)
    return render("directory_csv/status.html", state=state, token=token, error=None)


@bp.route("/synchroniser/<token>/appliquer", methods=["POST"])
@requires("services.manage")
def confirm(token: str):
    state = _state_or_404(token)
    if state["state"] != "ready":
        return render("directory_csv/status.html", status=409, state=state, token=token,
                      error=_("Cette synchronisation ne peut plus être appliquée."))
    if not confirmed():
        return render("directory_csv/status.html", status=400, state=state, token=token,
                      error=_("Cochez la case pour confirmer les changements annoncés."))
    directory_sync.confirm(_settings().REDIS_URL, token)
    return redirect_to(url_for("directory_csv.status", token=token))


@bp.route("/synchroniser/<token>/annuler", methods=["POST"])
@requires("services.manage")
def cancel(token: str):
    state = _state_or_404(token)
    if state["state"] == "applying":
        return render("directory_csv/status.html", status=409, state=state, token=token,
                      error=_("L'application est en cours : elle ne peut plus être annulée."))
    directory_sync.cancel(_settings().REDIS_URL, token)
    return saved(_("Synchronisation abandonnée : rien n'a été modifié."),
                 url_for("directory_csv.index"))
