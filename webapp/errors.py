"""Error pages that say why and what to do, in French (docs/architecture.md §11)."""

from __future__ import annotations

import peewee
import redis
from flask import Flask, current_app, make_response
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from markupsafe import escape

from engine.outage import describe, transient
from webapp.i18n import N_
from webapp.rendering import render

# status → the page's title, and what to do (403's page may list the missing permissions).
TITLES = {
    400: N_("Formulaire expiré"),
    403: N_("Accès refusé"),
    404: N_("Page introuvable"),
    405: N_("Action impossible"),
    413: N_("Fichier trop lourd"),
    429: N_("Trop de tentatives"),
    503: N_("Service momentanément indisponible"),
    500: N_("Erreur du serveur"),
}
ADVICE = {
    400: N_("Ce formulaire a expiré ou ne vient pas de cette page. Rechargez la page puis "
            "recommencez."),
    403: N_("Votre rôle ne donne pas accès à cette page. Demandez à un administrateur de vous "
            "accorder la permission nécessaire."),
    404: N_("Cette page n'existe pas ou ne vous est pas accessible."),
    405: N_("Cette action n'est pas possible ainsi. Revenez à la page précédente."),
    413: N_("L'envoi dépasse la taille autorisée."),
    429: N_("Trop de tentatives en peu de temps. Patientez quelques minutes avant de "
            "réessayer."),
    503: N_("Le service redémarre ou une de ses bases ne répond pas. Réessayez dans quelques "
            "secondes."),
    500: N_("Une erreur inattendue s'est produite. Réessayez ; si elle persiste, contactez le "
            "support."),
}


def _page(code: int, missing: list | None = None):
    return render("errors/error.html", status=code, code=code, title=gettext(TITLES[code]),
                  message=gettext(ADVICE[code]), missing=missing or [])


def _unavailable(error: Exception):
    """REL-2: the database or Redis is down for now: 503 and one log line, no traceback.
    A bare page: the layout itself needs the session (Redis) and the user (database)."""
    if not transient(error):
        raise error

    current_app.logger.warning("503: database or Redis unavailable (%s)", describe(error))
    title, message = TITLES[503], ADVICE[503]
    try:
        title, message = gettext(title), gettext(message)
    except Exception:  # noqa: BLE001 - the locale may need the user: French then
        pass
    body = (f'<!doctype html><html lang="fr"><meta charset="utf-8"><title>{escape(title)}'
            f"</title><h1>{escape(title)}</h1><p>{escape(message)}</p></html>")
    response = make_response(body, 503)
    response.headers["Retry-After"] = "5"
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _csrf_refused(error):
    """A missing or stale CSRF token: 400 like a refused form, but told apart by a header
    (the route matrix checks that a valid token never gets here)."""
    response = _page(400)
    response.headers["X-CSRF-Refused"] = "1"
    return response


def register(app: Flask) -> None:
    for outage in (peewee.OperationalError, peewee.InterfaceError, redis.ConnectionError,
                   redis.TimeoutError):
        app.register_error_handler(outage, _unavailable)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(
        403, lambda error: _page(403, error.description
                                 if isinstance(error.description, list) else None))
    for code in (404, 405, 413, 429, 500):
        app.register_error_handler(code, lambda error, code=code: _page(code))
