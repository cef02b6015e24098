"""The product's processes for real, each started from its Procfile line (REL tests).

`Stack` runs `bash -c "exec <Procfile line>"` in the repository, as the supervisor does,
with DATABASE_URL / REDIS_URL / PORT / SMTP settings in the environment; each process
logs into its own file. Helpers sign sessions in over HTTP (password, then the e-mailed
code the real RQ worker sends to the SMTP sink).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import requests

from tests.servers import free_port, wait_for_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            lines[name.strip()] = command.strip()
    return lines


class Stack:
    def __init__(self, tmp: Path, database_url: str, redis_url: str, **env: str) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                    "ENGINE_REDIS_URL": redis_url, "PORT": str(self.port),
                    "PYTHONUNBUFFERED": "1", **env}
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str, command: str | None = None) -> subprocess.Popen:
        command = command or procfile()[name]
        with open(self.tmp / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=self.env,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs[name] = proc
        if name == "web":
            wait_for_port(self.port, timeout=30)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(30)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(base: str, email: str, password: str, smtp, trust_from: requests.Session | None
            = None, timeout: float = 30) -> requests.Session:
    """A signed-in HTTP session; with `trust_from`, its trusted-browser cookie skips 2FA."""
    from tests.conftest import code_in

    s = requests.Session()
    if trust_from is not None:
        for cookie in trust_from.cookies:
            if "trust" in cookie.name:
                s.cookies.set(cookie.name, cookie.value)
    r = s.post(base + "/connexion", data={"email": email, "password": password,
                                          "csrf_token": csrf(s.get(base + "/connexion").text)},
               allow_redirects=False, timeout=timeout)
    assert r.status_code == 303, r.text[:300]
    if r.headers["Location"].endswith("/connexion/verification"):
        page = s.get(base + "/connexion/verification", timeout=timeout).text
        before = len(smtp.messages(email))
        if "Activer" in page and 'name="code"' not in page:
            s.post(base + "/connexion/envoyer-code", data={"csrf_token": csrf(page)},
                   timeout=timeout)
            page = s.get(base + "/connexion/verification", timeout=timeout).text
        wait_until(lambda: len(smtp.messages(email)) > before, timeout, 0.1,
                   "no 2FA code e-mailed (is the worker up?)")
        r = s.post(base + "/connexion/verification",
                   data={"code": code_in(smtp.last(email)), "trust": "1",
                         "csrf_token": csrf(page)}, allow_redirects=False, timeout=timeout)
        assert r.status_code == 303, r.text[:300]
    return s


def calllog_caught_up(conn) -> bool:
    """worker.calllog has read every entry of acd:{0}:log and acknowledged each one (after
    writing it): nothing more can be copied, twice or at all."""
    groups = {g["name"]: g for g in conn.xinfo_groups("acd:{0}:log")}
    group = groups.get(b"calllog") or groups.get("calllog")
    last = conn.xinfo_stream("acd:{0}:log")["last-generated-id"]
    return bool(group) and group["pending"] == 0 and group["last-delivered-id"] == last


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `root`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        parent = _ppid(pid)
        while parent and parent != root and parent != 1:
            parent = _ppid(parent)
        if parent == root:
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            found.append((pid, cmd))
    return found


class Supervised:
    """Procfile processes under supervisord, with the config `make run` generates."""

    def __init__(self, stack: Stack, names: list[str],
                 overrides: dict[str, str] | None = None) -> None:
        """`overrides`: other command lines for some processes (e.g. a faster simulator)."""
        import sys

        sys.path.insert(0, str(ROOT / "deploy"))
        from supervisord_conf import config, program

        self.stack = stack
        self.conf = stack.tmp / "supervisord.conf"
        overrides = overrides or {}
        text = config(ROOT / "Procfile", stack.tmp, [n for n in names if n not in overrides])
        text += "\n" + "\n".join(program(n, c, ROOT) for n, c in overrides.items())
        self.conf.write_text(text)
        with open(stack.tmp / "supervisord.out", "ab") as out:
            self.proc = subprocess.Popen([str(ROOT / ".venv/bin/supervisord"), "-n", "-c",
                                          str(self.conf)], cwd=ROOT, env=stack.env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def output(self) -> str:
        return (self.stack.tmp / "supervisord.out").read_text(errors="replace")

    def python_pid(self, module: str) -> int | None:
        """The pid of the Python process running `module` (not its bash or sed)."""
        for pid, cmd in descendants(self.proc.pid):
            if f"-m {module}" in cmd and "python" in cmd.split(" ")[0]:
                return pid
        return None

    def ctl(self, *args: str) -> str:
        return subprocess.run([str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.conf),
                               *args], capture_output=True, text=True, timeout=60).stdout

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
