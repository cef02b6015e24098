"""Routes of Configurer > Numéros d'accueil (WN-1..4), the switchboard (SWB-1/2)
and queue statistics (SWB-3).

Demo welcome number +33100000001 is on the Paris site: the restricted "Responsable Lyon"
(services.manage, no calls.supervise, scope Lyon) gets 404 on it and 403 on call
actions; another account's administrator gets 404. The switchboard pages themselves
list only what is in scope, so they answer everyone signed in with either permission.
POSTs go without their fields (400 / 409 for the admin) except "profil d'entrée",
which re-marks the demo entry profile, and the rule deletion, on a rule made for it.
"""

from tests.routes import Route, page_form, welcome_args
from tests.routes.switchboard import _bridged_call


def _number(d) -> dict:
    return {"service_id": d.ids["welcome"]}


def _profile(d) -> dict:
    from webapp.models import WelcomeProfile

    p = WelcomeProfile.get((WelcomeProfile.service == d.ids["welcome"]) & WelcomeProfile.is_entry)
    return {"service_id": d.ids["welcome"], "profile_id": p.id}


def _rule(d) -> dict:
    """A throw-away rule (next 31 December, the whole day) for the deletion route."""
    from webapp.models import WelcomeProfile, WelcomeTimeRule

    p = WelcomeProfile.get((WelcomeProfile.service == d.ids["welcome"]) & WelcomeProfile.is_entry)
    import datetime as dt

    rule = WelcomeTimeRule.create(service=d.ids["welcome"], profile=p, label="Matrice",
                                  date=dt.date(2030, 12, 31), start="00:00", end="24:00")
    return {"service_id": d.ids["welcome"], "rule_id": rule.id}


def _call(action: str | None = None):
    return welcome_args(action, call="c-matrice")


def _spare_profile(d) -> dict:
    """A profile of the welcome number used by nothing (an announcement): to delete."""
    from webapp.models import WelcomeProfile

    p = WelcomeProfile.create(service=d.ids["welcome"], key="matrice", name="Matrice",
                              kind="announcement")
    return {"service_id": d.ids["welcome"], "profile_id": p.id}


def _number_page(d) -> str:
    return f"/configurer/numeros-accueil/{d.ids['welcome']}"


RULE = {"kind": "dated", "days": [], "date": "2030-12-24", "start": "14:00", "end": "18:00",
        "whole_day": "", "label": "Veille de Noël"}


def _rule_body(d) -> dict:
    from webapp.models import WelcomeProfile

    shut = WelcomeProfile.get((WelcomeProfile.service == d.ids["welcome"])
                              & (WelcomeProfile.key == "ferme"))
    return {**RULE, "profile": str(shut.id)}


NUMBER = dict(restricted=404, other=404, args=_number)
PROFILE = dict(restricted=404, other=404, args=_profile)

ROUTES = [
    Route("welcome.index", users_only=403),
    Route("welcome.number", **NUMBER),
    Route("welcome.new_profile", **NUMBER),
    # the queue "Accueil" as its edit page shows it, posted as a new profile
    Route("welcome.create_profile", "POST", **NUMBER, data=page_form(
        lambda d: f"{_number_page(d)}/profils/{_profile(d)['profile_id']}",
        action=lambda d: f"{_number_page(d)}/profils/{_profile(d)['profile_id']}",
        name="Accueil du samedi", key="samedi")),
    Route("welcome.edit_profile", **PROFILE),
    Route("welcome.update_profile", "POST", **PROFILE, data=page_form(lambda d: d.url)),
    Route("welcome.set_entry", "POST", **PROFILE, data={}),
    Route("welcome.delete_profile", "POST", restricted=404, other=404, args=_spare_profile,
          data={}),
    Route("welcome.add_rule", "POST", **NUMBER, data=_rule_body),
    Route("welcome.edit_rule", restricted=404, other=404, args=_rule),
    Route("welcome.edit_rule", "POST", restricted=404, other=404, args=_rule, data=_rule_body),
    Route("welcome.delete_rule", "POST", restricted=404, other=404, args=_rule, data={}),
    Route("switchboard.index", users_only=403),
    Route("switchboard.stream", users_only=403),
    Route("switchboard.call_actions", restricted=403, other=404, args=_call()),
    Route("switchboard.act", "POST", restricted=403, other=404, args=_bridged_call,
          data={}),
    Route("stats.number", **NUMBER, users_only=403),
    Route("stats.export", **NUMBER, users_only=403),
]
