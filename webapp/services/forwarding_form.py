"""A line's forwarding profile as a form (LINE-1): its values, its checks, forward loops.

(A welcome number's *routing* profiles are `routing_profiles`'.)
"""

from __future__ import annotations

import re

from webapp.i18n import _
from webapp.models import ForwardingProfile, Service, VoicemailSettings
from webapp.models.lines import (
    RULES,
    TARGET_KINDS,
    TARGET_LINE,
    TARGET_NONE,
    TARGET_NUMBER,
    TARGET_VOICEMAIL,
)
from webapp.services import phones
from webapp.services.errors import FormError
from webapp.services.names import unique_name

NAME_MAX = 60
DELAY_MIN, DELAY_MAX, DELAY_DEFAULT = 5, 60, 20


def forwarding_profile_to_form(profile: ForwardingProfile | None) -> dict[str, str]:
    """Form values (strings) of a profile; a new profile starts with no forwarding."""
    form: dict[str, str] = {"name": "", "noanswer_delay_s": str(DELAY_DEFAULT),
                            "present_company_number": ""}
    for rule in RULES:
        form.update({f"{rule}_kind": TARGET_NONE, f"{rule}_number": "", f"{rule}_line": ""})
    if profile is None:
        return form
    form["name"] = profile.name
    form["noanswer_delay_s"] = str(profile.noanswer_delay_s)
    form["present_company_number"] = "1" if profile.present_company_number else ""
    for rule in RULES:
        form[f"{rule}_kind"] = getattr(profile, f"{rule}_kind")
        form[f"{rule}_number"] = phones.display(getattr(profile, f"{rule}_number"))
        line_id = getattr(profile, f"{rule}_line_id")
        form[f"{rule}_line"] = str(line_id) if line_id else ""
    return form


def _clean_name(service: Service, raw: str, exclude_id: int | None) -> str:
    others = ForwardingProfile.select().where(ForwardingProfile.service == service.id)
    if exclude_id is not None:
        others = others.where(ForwardingProfile.id != exclude_id)
    return unique_name(raw, NAME_MAX, missing=_("Donnez un nom au profil."),
                       taken=lambda n: _("Cette ligne a déjà un profil nommé « %(name)s ».",
                                         name=n),
                       siblings=others)


def _voicemail_enabled(service: Service) -> bool:
    return VoicemailSettings.select().where((VoicemailSettings.service == service.id)
                                            & VoicemailSettings.enabled).exists()


def parse_profile(service: Service, form: dict, candidates: dict[int, Service],
                  exclude_id: int | None = None) -> dict:
    """Validated model values from a submitted profile form, or FormError (typed values kept).

    `candidates` are the lines the person may forward to (in their scope, not this one).
    """
    values = {k: (form.get(k) or "").strip() for k in forwarding_profile_to_form(None)}
    errors: dict[str, str] = {}
    clean: dict = {}
    try:
        clean["name"] = _clean_name(service, values["name"], exclude_id)
    except FormError as refused:
        errors.update(refused.errors)
    clean["present_company_number"] = bool(values["present_company_number"])
    for rule in RULES:
        kind = values[f"{rule}_kind"] or TARGET_NONE
        clean.update({f"{rule}_kind": kind, f"{rule}_number": None, f"{rule}_line": None})
        if kind not in TARGET_KINDS:
            errors[f"{rule}_kind"] = _("Choix non valide : choisissez une destination de la liste.")
        elif kind == TARGET_NUMBER:
            raw = values[f"{rule}_number"]
            number = phones.normalize(raw)
            if not raw:
                errors[f"{rule}_number"] = _("Saisissez le numéro de destination.")
            elif number is None:
                errors[f"{rule}_number"] = phones.INVALID_MESSAGE
            elif number == service.number:
                errors[f"{rule}_number"] = _("Une ligne ne peut pas être renvoyée vers elle-même.")
            else:
                clean[f"{rule}_number"] = number
        elif kind == TARGET_LINE:
            raw = values[f"{rule}_line"]
            line = candidates.get(int(raw)) if raw.isascii() and raw.isdigit() else None
            if line is None:
                errors[f"{rule}_line"] = _(
                    "Choisissez une ligne de votre entreprise dans la liste.")
            else:
                clean[f"{rule}_line"] = line.id
        elif kind == TARGET_VOICEMAIL and not _voicemail_enabled(service):
            errors[f"{rule}_kind"] = (_("La messagerie vocale de cette ligne est désactivée : "
                                      "activez-la d'abord (section « Messagerie vocale »)."))
    raw_delay = values["noanswer_delay_s"]
    if clean["noanswer_kind"] == TARGET_NONE and not raw_delay:
        clean["noanswer_delay_s"] = DELAY_DEFAULT
    elif not re.fullmatch(r"[0-9]{1,3}", raw_delay) or not DELAY_MIN <= int(raw_delay) <= DELAY_MAX:
        errors["noanswer_delay_s"] = (_("Indiquez une durée de sonnerie entre %(delay_min)s et "
                                        "%(delay_max)s secondes.",
                                        delay_min=DELAY_MIN, delay_max=DELAY_MAX))
    else:
        clean["noanswer_delay_s"] = int(raw_delay)
    if errors:
        raise FormError(errors, values)
    return clean


# --- forward loops (line A → B → A) ----------------------------------------------------------

def _targets(values, numbers: dict[str, int]) -> set[int]:
    """Lines of the account a profile (model or clean dict) forwards to."""
    get = values.get if isinstance(values, dict) else (lambda k: getattr(values, k))
    found = set()
    for rule in RULES:
        kind = get(f"{rule}_kind")
        if kind == TARGET_LINE:
            line = get(f"{rule}_line") if isinstance(values, dict) else get(f"{rule}_line_id")
            if line:
                found.add(int(line))
        elif kind == TARGET_NUMBER and get(f"{rule}_number") in numbers:
            found.add(numbers[get(f"{rule}_number")])
    return found


def find_loop(service: Service, values) -> list[Service] | None:
    """The loop this line's profile would close with the profiles in force elsewhere."""
    lines = {s.id: s for s in Service.select().where(Service.account == service.account_id)}
    numbers = {s.number: s.id for s in lines.values()}
    edges = {p.service_id: _targets(p, numbers) for p in ForwardingProfile.select()
             .join(Service, on=ForwardingProfile.service == Service.id)
             .where((Service.account == service.account_id) & ForwardingProfile.is_active)}
    edges[service.id] = _targets(values, numbers)
    stack = [(service.id, [service.id])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ())):
            if nxt == service.id:
                return [lines[i] for i in path + [nxt]]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def loop_message(loop: list[Service]) -> str:
    chain = " → ".join(phones.display(s.number) for s in loop)
    return (_("Ce renvoi créerait une boucle (%(chain)s) : les appels tourneraient sans fin. "
              "Choisissez une autre destination.",
              chain=chain))
