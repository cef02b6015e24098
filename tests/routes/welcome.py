"""Routes of Configurer > Numéros d'accueil (WN-1..4), the switchboard (SWB-1/2)
and queue statistics (SWB-3).

Demo welcome number +33100000001 is on the Paris site: the restricted "Responsable Lyon"
(services.manage, no calls.supervise, scope Lyon) gets 404 on it and 403 on call
actions; another account's administrator gets 404. The switchboard pages themselves
list only what is in scope, so they answer everyone signed in with either permission.
POSTs go without their fields (400 / 409 for the admin) except "profil d'entrée",
which re-marks the demo entry profile, and the rule deletion, on a rule made for it.
"""

from tests.routes import Route


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
    def args(d) -> dict:
        found = {"service_id": d.ids["welcome"], "call": "c-matrice"}
        if action:
            found["action"] = action
        return found
    return args


NUMBER = dict(restricted=404, other=404, args=_number)
PROFILE = dict(restricted=404, other=404, args=_profile)

ROUTES = [
    Route("welcome.index"),
    Route("welcome.number", **NUMBER),
    Route("welcome.new_profile", **NUMBER),
    Route("welcome.create_profile", "POST", **NUMBER),
    Route("welcome.edit_profile", **PROFILE),
    Route("welcome.update_profile", "POST", **PROFILE),
    Route("welcome.set_entry", "POST", **PROFILE),
    Route("welcome.delete_profile", "POST", **PROFILE),
    Route("welcome.add_rule", "POST", **NUMBER),
    Route("welcome.edit_rule", restricted=404, other=404, args=_rule),
    Route("welcome.edit_rule", "POST", restricted=404, other=404, args=_rule),
    Route("welcome.delete_rule", "POST", restricted=404, other=404, args=_rule),
    Route("switchboard.index"),
    Route("switchboard.stream"),
    Route("switchboard_actions.call_actions", restricted=403, other=404, args=_call()),
    Route("switchboard_actions.act", "POST", restricted=403, other=404, args=_call("attente")),
    Route("stats.number", **NUMBER),
    Route("stats.export", **NUMBER),
]
