"""The switchboard stream's heartbeat interval is the SSE_HEARTBEAT_S setting (25 s)."""

from __future__ import annotations

import time


def test_rel6_sse_heartbeat_interval_is_a_setting(monkeypatch, request):
    from webapp.settings import load

    assert load().SSE_HEARTBEAT_S == 25.0  # the documented default
    monkeypatch.setenv("SSE_HEARTBEAT_S", "0.5")
    app = request.getfixturevalue("app")
    admin = request.getfixturevalue("admin")
    assert app.extensions["cm_settings"].SSE_HEARTBEAT_S == 0.5
    response = admin.client.get("/standard/flux", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    started = time.monotonic()
    seen = ""
    while "event: hb\n" not in seen:  # the heartbeat (switchboard protocol, SWB-7)
        seen += next(chunks).decode() if isinstance(seen, str) else ""
        assert time.monotonic() - started < 5, "no heartbeat"
    beat = time.monotonic() - started
    response.close()
    assert 0.4 < beat < 3, beat
