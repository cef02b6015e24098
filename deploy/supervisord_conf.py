"""Print a supervisord configuration that runs every process of the Procfile (REL-2).

`make run` uses it: the Procfile stays the one list of processes; supervisord (pinned in
requirements.txt) restarts a process that exits — with backoff when it keeps failing at
start — instead of stopping everything, as honcho did. Each line keeps the Procfile's shell
syntax (run by bash with the environment `make run` exports) and its output goes to the
terminal prefixed with the process name.

    python deploy/supervisord_conf.py Procfile VAR_DIR [NAME ...] > VAR_DIR/supervisord.conf
    supervisord -n -c VAR_DIR/supervisord.conf     # supervisorctl -c ... status / restart web
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def procfile(path: Path) -> dict[str, str]:
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def program(name: str, command: str, directory: Path) -> str:
    # `set -o pipefail`: the process's own exit status, not the prefixing sed's
    script = f"set -o pipefail && {command} 2>&1 | sed -u 's/^/{name:<9}| /'"
    return "\n".join([
        f"[program:{name}]",
        "command=/bin/bash -c " + shlex.quote(script).replace("%", "%%"),
        f"directory={directory}",
        "autostart=true",
        "autorestart=true",  # whatever the exit status: the others keep running
        "startsecs=2",
        "startretries=20",  # crashing at start: retried with a growing delay
        "stopasgroup=true",  # SIGTERM reaches the process, not only bash
        "killasgroup=true",
        "stopwaitsecs=10",
        "stdout_logfile=/dev/fd/1",
        "stdout_logfile_maxbytes=0",
        "redirect_stderr=true",
        "",
    ])


def config(procfile_path: Path, var: Path, only: list[str] | None = None) -> str:
    directory = procfile_path.resolve().parent
    var = var.resolve()
    parts = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={var / 'supervisord.log'}",
        f"pidfile={var / 'supervisord.pid'}",
        f"childlogdir={var}",
        "",
        "[unix_http_server]",
        f"file={var / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{var / 'supervisor.sock'}",
        "",
    ]
    for name, command in procfile(procfile_path).items():
        if not only or name in only:
            parts.append(program(name, command, directory))
    return "\n".join(parts)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    sys.stdout.write(config(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))
