"""Routes of breaks ("Ma ligne", Configurer > Motifs de pause), the wallboard,
the switchboard's directory search, agent breaks and callbacks (Q-13, SWB-4..8).

"Ma ligne" acts only on a line the visitor holds: the demo administrator (Claire) holds
+33100000101, a queue agent; others get 404 on it. Board actions need "Superviser les
appels" (restricted: 403) and a number in scope (another account: 404).
"""

import json

from tests.routes import Route, welcome_args


def _my_line(d) -> dict:
    return {"service_id": d.ids["fixed_paris"]}


def _reason(d) -> dict:
    from webapp.models import PauseReason

    row = PauseReason.create(account=d.account_id, code=f"matrice-{PauseReason.select().count()}",
                             label=f"Matrice {PauseReason.select().count()}")
    return {"reason_id": row.id}


def _agent(action: str | None = None):
    return welcome_args(action, line="+33100000101")


def _callback(d) -> dict:
    from webapp.models import CallLogEntry

    CallLogEntry.insert(shard=0, entry_id="matrice-cb", account=d.account_id,
                        number="+33100000001", call="c-matrice-cb", type="abandoned",
                        caller="+33612345678", wait_ms=30000,
                        ts_ms=1767607200000).on_conflict_ignore().execute()
    return {"service_id": d.ids["welcome"], "call": "c-matrice-cb"}


def _bridged_call(d) -> dict:
    """A call of the welcome number, bridged on the board (the engine's snapshot in
    Redis, as the engine writes it): it may be put on hold."""
    from webapp.models import Account
    from webapp.redis_conn import engine_redis_for
    from webapp.services.switchboard_actions import state_key
    from webapp.settings import load

    shard = Account.get_by_id(d.account_id).shard
    engine_redis_for(load().ENGINE_REDIS_URL).hset(state_key(shard), "+33100000001", json.dumps(
        {"bridged": [{"call": "c-matrice", "caller": "+33612345678", "line": "+33100000101",
                      "since_ms": 0}], "waiting": [], "ringing": [], "menu": [], "agents": []}))
    return {"service_id": d.ids["welcome"], "call": "c-matrice", "action": "attente"}


ROUTES = [
    Route("breaks.mine"),
    Route("breaks.pause", "POST", restricted=404, other=404, users_only=404, args=_my_line,
          data={"reason": "reunion"}),
    Route("breaks.unpause", "POST", restricted=404, other=404, users_only=404, args=_my_line,
          data={}),
    Route("breaks.reasons"),
    Route("breaks.add_reason", "POST", data={"label": "Rendez-vous client"}),
    Route("breaks.delete_reason", "POST", other=404, args=_reason, data={}),
    Route("switchboard.wall", users_only=403),
    Route("switchboard.directory_search", restricted=403, other=404,
          args=lambda d: {"service_id": d.ids["welcome"], "call": "c-matrice"}),
    Route("switchboard.agent_actions", restricted=403, other=404, args=_agent()),
    Route("switchboard.agent_act", "POST", restricted=403, other=404, args=_agent("pause"),
          data={"reason": "formation"}),
    Route("switchboard.callback_done", "POST", restricted=403, other=404, args=_callback,
          data={}),
]
ROUTES.append(Route("stats.weekly_report", "POST", restricted=404, other=404,
                    users_only=403, args=lambda d: {"service_id": d.ids["welcome"]},
                    data={"abonner": "1"}))

__all__ = ["ROUTES", "_bridged_call"]
