"""Deployments as staff plan and move them (DEP-1, OPS-1)."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _

from webapp.blueprints.ops import LABELS, StaffPage, done, staff_actor, staff_route
from webapp.blueprints.ops.accounts import account_or_404, account_page
from webapp.rendering import render
from webapp.services import backoffice, billing, deployments
from webapp.services.errors import FormError


@staff_route("/deploiements")
def deployments_list():
    query = backoffice.all_deployments()
    return render("ops/deployments.html", upcoming=list(deployments.upcoming(query)),
                  past=list(deployments.past(query)[:50]), **LABELS)


@staff_route("/comptes/<int:account_id>/deploiements", methods=["POST"])
def deployment_new(account_id: int):
    found = account_or_404(account_id)
    try:
        created = deployments.create(
            account=found, kind=request.form.get("kind", ""),
            title=request.form.get("title", ""), site_id=request.form.get("site", type=int),
            numbers=request.form.get("numbers", ""), actor=staff_actor())
    except FormError as exc:
        return account_page(found, 400, form=request.form, errors=exc.errors,
                            form_name="deployment")
    return done(_("Déploiement %(reference)s créé : planifiez-le.", reference=created.reference),
                url_for("ops.deployment", deployment_id=created.id))


def _deployment_page(found, status: int = 200, **extra):
    return render("ops/deployment.html", status=status, deployment=found,
                  history=deployments.history(found),
                  moves=deployments.TRANSITIONS.get(found.status, ()),
                  today=billing.today_for(found.account), form=extra.pop("form", {}),
                  error=extra.pop("error", None), **LABELS)


DEPLOYMENT = StaffPage("/deploiements/<int:deployment_id>", "deployment", backoffice.deployment,
                       _deployment_page)


@staff_route("/deploiements/<int:deployment_id>/planifier", methods=["POST"])
def deployment_schedule(deployment_id: int):
    return DEPLOYMENT.change(deployment_id, lambda found: deployments.schedule(
        found, date_raw=request.form.get("date", ""), slot=request.form.get("slot", ""),
        actor=staff_actor(), today=billing.today_for(found.account)),
        _("Planification enregistrée ; le client est prévenu par e-mail."))


@staff_route("/deploiements/<int:deployment_id>/statut", methods=["POST"])
def deployment_status(deployment_id: int):
    return DEPLOYMENT.change(deployment_id, lambda found: deployments.move(
        found, request.form.get("status", ""), actor=staff_actor(),
        note=request.form.get("note", "")), _("Statut mis à jour."))
