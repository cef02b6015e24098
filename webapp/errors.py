"""Error pages that say why and what to do, in French (ARCHITECTURE §11)."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from webapp.rendering import render


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render("errors/error.html", status=400, code=400,
                      title=_("Formulaire expiré"),
                      message=_("Ce formulaire a expiré ou ne vient pas de cette page. "
                                "Rechargez la page puis recommencez."))

    @app.errorhandler(403)
    def forbidden(error):
        missing = error.description if isinstance(error.description, list) else []
        return render("errors/error.html", status=403, code=403, missing=missing,
                      title=_("Accès refusé"),
                      message=_("Votre rôle ne donne pas accès à cette page. "
                                "Demandez à un administrateur de vous accorder la permission "
                                "nécessaire."))

    @app.errorhandler(404)
    def not_found(error):
        return render("errors/error.html", status=404, code=404, title=_("Page introuvable"),
                      message=_("Cette page n'existe pas ou ne vous est pas accessible."))

    @app.errorhandler(405)
    def not_allowed(error):
        return render("errors/error.html", status=405, code=405, title=_("Action impossible"),
                      message=_("Cette action n'est pas possible ainsi. Revenez à la page "
                                "précédente."))

    @app.errorhandler(413)
    def too_large(error):
        return render("errors/error.html", status=413, code=413, title=_("Fichier trop lourd"),
                      message=_("L'envoi dépasse la taille autorisée."))

    @app.errorhandler(429)
    def too_many(error):
        return render("errors/error.html", status=429, code=429, title=_("Trop de tentatives"),
                      message=_("Trop de tentatives en peu de temps. Patientez quelques "
                                "minutes avant de réessayer."))

    @app.errorhandler(500)
    def server_error(error):
        return render("errors/error.html", status=500, code=500, title=_("Erreur du serveur"),
                      message=_("Une erreur inattendue s'est produite. Réessayez ; si elle "
                                "persiste, contactez le support."))
