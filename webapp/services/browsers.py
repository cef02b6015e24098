"""Human names for browsers ("Firefox sur Windows"), for 2FA e-mails and lists."""

from __future__ import annotations

from user_agents import parse

from webapp.i18n import _


def describe_browser(user_agent: str) -> str:
    if not user_agent:
        return _("Navigateur inconnu")
    agent = parse(user_agent)
    family = agent.browser.family or _("Navigateur")
    system = agent.os.family or ""
    if family == "Other":
        family = _("Navigateur")
    if system and system != "Other":
        return _("%(family)s sur %(system)s", family=family, system=system)
    return family
