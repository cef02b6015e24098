"""The board (SWB-1, SWB-4..8, Q-13): the live page, the wallboard and their SSE stream,
each item rendered from `switchboard/_items.html`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import (
    Response,
    current_app,
    g,
    get_template_attribute,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.blueprints.switchboard import bp, engine, heartbeat_s, settings
from webapp.db import db
from webapp.i18n import N_
from webapp.models import Service
from webapp.redis_conn import redis_for
from webapp.rendering import render
from webapp.security import background, current_access, scoped_services
from webapp.services import breaks, phones
from webapp.services import stats as stats_svc
from webapp.services import switchboard as svc
from webapp.services import switchboard_stream as live
from webapp.services.switchboard_directory import caller_label
from webapp.serving import client_gone

ITEMS = "switchboard/_items.html"
CB_KINDS = {"abandoned": N_("Abandonné"), "rejected": N_("Rejeté (file pleine)"),
            "closed": N_("Sans réponse")}


def _numbers() -> list[Service]:
    return list(scoped_services(("welcome",)).order_by(Service.number))


def _safe(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)


def render_items(board: svc.Board, v: dict, can_act: bool, wall: bool = False) -> dict[str, str]:
    """{item id: one-line HTML} of one number (see services/switchboard.changes)."""
    sid = board.service_id
    percent = stats_svc.percent
    if wall:
        tile = get_template_attribute(ITEMS, "wall_tile")
        return {f"n{sid}-wall": live.compact(str(tile(f"n{sid}-wall", board, svc.wall(v), percent,
                                                     svc.WALL_STATES)))}
    call_item = get_template_attribute(ITEMS, "call_item")
    agent_item = get_template_attribute(ITEMS, "agent_item")
    items = {f"n{sid}-sum": live.compact(str(get_template_attribute(ITEMS, "summary")(
        f"n{sid}-sum", board, v, stats_svc.seconds, percent)))}
    zone = ZoneInfo(board.zone)
    for r in board.callbacks:
        r["who"], r["detail"] = caller_label(r["caller"], _directory_for(board))
        r["kind_label"] = CB_KINDS.get(r["type"], r["type"])
        r["at"] = dt.datetime.fromtimestamp(r["ts_ms"] / 1000, zone).strftime("%H:%M")
    items[f"n{sid}-cb"] = live.compact(str(get_template_attribute(ITEMS, "callbacks")(
        f"n{sid}-cb", board, can_act)))
    for part in ("waiting", "menu", "ringing", "bridged"):
        for c in v[part]:
            if part == "waiting":
                c["order"] = f"{c.get('profile', '')}|{c.get('queued_ms') or 0:015d}|{c['call']}"
            else:
                c["order"] = f"{c.get('since_ms') or c.get('arrived_ms') or 0:015d}|{c['call']}"
            key = f"n{sid}-c-{_safe(c['call'])}"
            items[key] = live.compact(str(call_item(key, board, c, part, can_act)))
    for i, a in enumerate(v["agents"]):
        a["pause_label"] = _(breaks.reason_label(board.account_id, a.get("pause_reason")))
        key = f"n{sid}-a-{_safe(a['line'])}"
        items[key] = live.compact(str(agent_item(key, board, a, f"{i:04d}", can_act)))
    return items


def _directory_for(board: svc.Board) -> svc.Directory:
    return g.setdefault("sb_directory", board.directory())


def grouped(items: dict[str, str]) -> dict[str, list[str]]:
    """Items by the list they belong to (`data-list`), in `data-order`; parts by id."""
    lists: dict[str, list[tuple[str, str]]] = {}
    for key, html in items.items():
        m = re.search(r'data-list="([^"]+)" data-order="([^"]*)"', html)
        if m:
            lists.setdefault(m.group(1), []).append((m.group(2), html))
        else:
            lists[key] = [("", html)]
    return {k: [h for _o, h in sorted(rows)] for k, rows in lists.items()}


def _shared_reads() -> tuple[live.SharedSnapshots, live.Recent]:
    """What this app's open streams share (SEC-4): one per app, so one per web worker."""
    return current_app.extensions.setdefault(
        "cm_stream_reads", (live.SharedSnapshots(), live.Recent(live.REFRESH_S / 2)))


def _renderer(can_act: bool, wall: bool):
    """Renders items inside a short-lived context of its own, pushed and popped between
    two yields: the stream never holds the request's context (no stream_with_context),
    so the request ends (database closed, thread's context stack clean) before streaming."""
    app = current_app._get_current_object()
    base_url, locale = request.host_url, str(get_locale() or "fr")
    directory_box: list = [None]  # the stream's Directory, set by the caller
    recent = _shared_reads()[1]

    def render_in_own_context(board: svc.Board, v: dict) -> dict[str, str]:
        with app.test_request_context("/standard", base_url=base_url), force_locale(locale):
            g.sb_directory = directory_box[0]
            with db.connection_context():
                return render_items(board, v, can_act, wall)

    def read_fresh(boards: list[svc.Board]) -> list[svc.Board]:
        copies = [dataclasses.replace(b) for b in boards]
        with app.app_context(), db.connection_context():
            svc.refresh(copies)
        return copies

    def refresh(boards: list[svc.Board]) -> None:
        # SEC-4: streams of the same numbers and scope share one read of the database.
        key = (boards[0].account_id, boards[0].site_ids, tuple(b.service_id for b in boards))
        fresh = recent.get(key, lambda: read_fresh(boards)) if boards else []
        for board, read in zip(boards, fresh, strict=True):
            board.names, board.profiles, board.sla = read.names, read.profiles, read.sla
            board.today = read.today
            board.callbacks = [dict(r) for r in read.callbacks]  # render_items labels them
        if directory_box[0] is not None:
            directory_box[0].cache.clear()

    return render_in_own_context, refresh, directory_box


def _page(template: str, wall: bool):
    conn, shard = engine()
    boards = svc.boards(_numbers(), current_access().site_ids)
    raw = svc.read(conn, shard, [b.number for b in boards])
    can_act = current_access().can("calls.supervise") and not wall
    g.sb_directory = boards[0].directory() if boards else None
    lists = {b.number: grouped(render_items(b, svc.view(b, raw.get(b.number), g.sb_directory),
                                            can_act, wall)) for b in boards}
    return render(template, boards=boards, lists=lists, phones=phones, can_act=can_act,
                  csrf_value=generate_csrf(), server_ms=svc.now_ms(),
                  heartbeat_ms=int(heartbeat_s() * 1000))


@bp.route("")
def index():
    return _page("switchboard/index.html", wall=False)


@bp.route("/mur")
def wall():
    return _page("switchboard/wall.html", wall=True)


@bp.route("/flux")
@background  # a live stream the page opens by itself
def stream():
    # Everything from the database is read now.
    boards = svc.boards(_numbers(), current_access().site_ids)
    conn, shard = engine()
    source = settings().ENGINE_REDIS_URL  # the stream's body runs outside the app context
    snapshots = _shared_reads()[0]
    wall_view = request.args.get("vue") == "mur"
    render_fn, refresh_fn, box = _renderer(
        current_access().can("calls.supervise") and not wall_view, wall_view)
    box[0] = boards[0].directory() if boards else None
    # SEC-4: a user holds at most 3 open streams; this one evicts the oldest beyond that.
    slot = live.StreamSlot(redis_for(settings().REDIS_URL), current_user.id)
    slot.open()
    body = live.changes(conn, shard, boards, render_fn, refresh_fn=refresh_fn,
                        directory=box[0], heartbeat_s=heartbeat_s(), slot=slot,
                        closed_html=render_template(
                            "switchboard/_closed.html",
                            resume_url=url_for("switchboard.wall") if wall_view else None),
                        gone=client_gone(request.environ),
                        snapshots=lambda numbers: snapshots.read(source, conn, shard,
                                                                 numbers))
    gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(live.gzipped(body) if gzip else body, mimetype="text/event-stream")
    if gzip:  # each message flushed at once; repeated markup costs a few bytes (SWB-1)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"
    return response
