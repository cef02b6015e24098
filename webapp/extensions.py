"""Flask extensions, created unbound and initialised in `create_app`."""

from __future__ import annotations

from flask import request
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_session import Session
from flask_wtf.csrf import CSRFProtect

from webapp.translate import ManagerBabel

babel = ManagerBabel()
compress = Compress()
csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
server_session = Session()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def client_ip() -> str:
    return request.remote_addr or "?"
