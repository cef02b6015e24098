"""The reception-desk switchboard (SWB-1, SWB-2, SWB-4..8, Q-13), one blueprint
`switchboard` under /standard: the board, the wallboard and their live stream (`board`),
call, agent and callback actions (`actions`).

Viewing needs "Superviser les appels" or "Gérer les services"; actions need "Superviser
les appels". Only welcome numbers in the user's site scope are shown or acted on.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g
from flask_login import current_user

from webapp.i18n import N_
from webapp.redis_conn import engine_redis_for
from webapp.security import current_access
from webapp.services import switchboard_stream as live

bp = Blueprint("switchboard", __name__, url_prefix="/standard")
VIEWERS = ("calls.supervise", "services.manage")  # either permission opens the board


@bp.before_request
def guard():
    """Every switchboard page."""
    g.active_nav = "switchboard"
    if not any(map(current_access().can, VIEWERS)):
        abort(403, description=[N_("Superviser les appels")])


def settings():
    return current_app.extensions["cm_settings"]


def heartbeat_s() -> float:
    return float(current_app.config.get("SSE_HEARTBEAT_S")
                 or getattr(settings(), "SSE_HEARTBEAT_S", None) or live.HEARTBEAT_S)


def engine():
    """The engine's Redis (ENGINE_REDIS_URL) and the signed-in account's shard (SCALE-1;
    the account is loaded with the user, see `security.load_user`)."""
    return engine_redis_for(settings().ENGINE_REDIS_URL), int(current_user.account.shard)


# The views (imported last: they register on `bp`).
from webapp.blueprints.switchboard import actions, board  # noqa: E402, F401, I001
