"""`python -m pbx.sip`: render pbx/kamailio.cfg and run Debian's Kamailio in the foreground.

Before Kamailio starts: the SIP directory is rebuilt in Redis from the database (unless
--no-sync), the control list is emptied (no stale "kick" for a phone that registers
later), and what usually goes wrong is reported in one line: Kamailio or one of its
modules missing, the SIP port taken, Redis unreachable, a configuration error.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import redis

from engine.redis_client import connect, one_node
from pbx.settings import PbxSettings, load
from webapp.services.sip_directory import sync_all
from webapp.settings import load as web_settings
from worker.bootstrap import ensure_db

TEMPLATE = Path(__file__).with_name("kamailio.cfg")
MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules",
               "/usr/local/lib64/kamailio/modules", "/usr/local/lib/kamailio/modules")
PACKAGE_OF = {"ndb_redis.so": "kamailio-redis-modules", "jsonrpcs.so": "kamailio",
              "rtimer.so": "kamailio"}


class StartError(Exception):
    """One line for the operator."""


def modules_dir() -> Path:
    for d in MODULE_DIRS:
        if Path(d, "tm.so").exists():
            return Path(d)
    raise StartError("sip: Kamailio modules not found "
                     "(apt-get install kamailio, or `make sip-bin`)")


def redis_spec(url: str) -> str:
    u = urlparse(url)
    spec = f"name=srv;addr={u.hostname or '127.0.0.1'};port={u.port or 6379}"
    db = (u.path or "/0").lstrip("/") or "0"
    spec += f";db={int(db)}"
    if u.password:
        spec += f";pass={u.password}"
    return spec


def render(s: PbxSettings, run_dir: Path, debug: int = 2, children: int = 2,
           cluster: bool = False) -> str:
    """kamailio.cfg for these settings; `cluster`: the Redis at s.redis_url is a Redis
    Cluster node (ndb_redis then follows MOVED replies to the node owning each key)."""
    mods = modules_dir()
    text = TEMPLATE.read_text()
    for name in re.findall(r'^loadmodule "([^"]+)"', text, re.M):
        if not (mods / name).exists():
            pkg = PACKAGE_OF.get(name, "kamailio")
            raise StartError(f"sip: Kamailio module {name} is missing (apt-get install {pkg})")
    values = {
        "DEBUG": str(debug), "CHILDREN": str(children), "SIP_BIND": s.bind,
        "SIP_PORT": str(s.sip_port), "SIP_DOMAIN": s.domain, "REALM": s.realm,
        "MODULES": str(mods) + "/", "RUN_DIR": str(run_dir.resolve()),
        "REDIS": redis_spec(s.redis_url), "REDIS_CLUSTER": "1" if cluster else "0",
        "MIN_EXPIRES": str(s.min_expires),
        "UL_TIMER": "1" if s.min_expires < 60 else "10", "CONNECTOR_HOST": s.bind,
        "CONNECTOR_PORT": str(s.connector_port), "TRUNK": s.trunk,
    }
    for key, value in values.items():
        if '"' in value or "\n" in value:
            raise StartError(f"sip: setting {key} contains a quote or a newline")
        text = text.replace(f"@@{key}@@", value)
    left = re.findall(r"@@[A-Z_]+@@", text)
    if left:
        raise StartError(f"sip: template placeholders left unrendered: {', '.join(left)}")
    return text


def check_port(bind: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((bind, port))
        except OSError as exc:
            raise StartError(f"sip: cannot listen on {bind}:{port}/udp ({exc.strerror}); "
                             "another SIP server runs there? set SIP_PORT") from exc


def prepare(s: PbxSettings, *, sync: bool = True, debug: int = 2) -> list[str]:
    """Everything before exec; returns Kamailio's command line."""
    binary = shutil.which("kamailio") or next(
        (p for p in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if Path(p).exists()), None)
    if binary is None:
        raise StartError("sip: kamailio not found (apt-get install kamailio, or `make sip-bin`)")
    run_dir = Path(s.run_dir).resolve()  # Kamailio works from /: relative paths would not hold
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = run_dir / "kamailio.cfg"
    check_port(s.bind, s.sip_port)
    try:  # a Redis or a Redis Cluster (ENGINE_REDIS_URL): the engine's keys are there
        conn = connect(s.redis_url, socket_connect_timeout=3)
        cfg.write_text(render(s, run_dir, debug=debug, cluster=not one_node(conn)))
        conn.delete("pbx:sip:ctl")
        if sync:
            ensure_db(web_settings())
            users, numbers = sync_all(conn)
            print(f"sip: directory published ({users} logins, {numbers} numbers)", flush=True)
    except redis.RedisError as exc:
        raise StartError(f"sip: Redis unreachable at {s.redis_url} ({exc})") from exc
    check = subprocess.run([binary, "-c", "-f", str(cfg)], capture_output=True, text=True)
    if check.returncode != 0:
        errors = [line for line in check.stderr.splitlines() if "ERROR" in line or "CRIT" in line]
        raise StartError(f"sip: Kamailio refuses {cfg}: {(errors or ['?'])[-1].strip()}")
    return [binary, "-DD", "-E", "-m", "64", "-M", "8", "-f", str(cfg),
            "-P", str(run_dir / "kamailio.pid")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pbx.sip", description=__doc__)
    ap.add_argument("--no-sync", action="store_true", help="do not rebuild the directory")
    ap.add_argument("--debug", type=int, default=2, help="Kamailio log level (-1..3)")
    ap.add_argument("--idle-on-error", action="store_true",
                    help="after a start error, stay idle instead of exiting (make run: the "
                         "rest of the demo keeps running without real telephony)")
    args = ap.parse_args(argv)
    s = load()
    try:
        cmd = prepare(s, sync=not args.no_sync, debug=args.debug)
    except StartError as exc:
        print(exc, file=sys.stderr, flush=True)
        if args.idle_on_error:
            signal.sigwait({signal.SIGTERM, signal.SIGINT})
        return 1
    print(f"sip: Kamailio on {s.bind}:{s.sip_port}/udp, realm {s.realm}, connector "
          f"{s.bind}:{s.connector_port}", flush=True)
    os.execv(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
