"""SEC-7: behind a reverse proxy, the client's address (rate limits, audit log, trusted
browsers) comes from X-Forwarded-For — but only when the request really comes from one
of the proxies named in TRUSTED_PROXIES; anyone else's X-Forwarded-* headers are ignored."""

from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


def parse(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """"127.0.0.1, 10.0.0.0/8, ::1" → networks (a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in (value or "").split(",") if part.strip()]


class TrustedProxyFix:
    """ProxyFix (one hop: X-Forwarded-For, -Proto, -Host, -Port) for trusted peers only."""

    def __init__(self, app, networks) -> None:
        self.app = app
        self.networks = list(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1)

    def trusted(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.networks and self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
