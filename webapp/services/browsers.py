"""Human names for browsers ("Firefox sur Windows"), for 2FA e-mails and lists."""

from __future__ import annotations

from user_agents import parse


def describe_browser(user_agent: str) -> str:
    if not user_agent:
        return "Navigateur inconnu"
    agent = parse(user_agent)
    family = agent.browser.family or "Navigateur"
    system = agent.os.family or ""
    if family == "Other":
        family = "Navigateur"
    return f"{family} sur {system}" if system and system != "Other" else family
