"""Pages and their HTMX partials from one template (ARCHITECTURE §4).

An HTMX request whose `HX-Target` names an element (`site-tree`) gets only the
block of the same name (`site_tree`); any other request gets the whole page.
"""

from __future__ import annotations

from flask import Response, make_response, render_template, request
from flask_htmx import make_response as htmx_response
from jinja2_fragments import BlockNotFoundError
from jinja2_fragments.flask import render_block

from webapp.extensions import htmx


def render(template: str, status: int = 200, **context) -> Response:
    body = None
    target = request.headers.get("HX-Target") if htmx and not htmx.boosted else None
    if target:
        try:
            body = render_block(template, target.replace("-", "_"), **context)
        except BlockNotFoundError:
            body = None
    if body is None:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def redirect_to(url: str, status: int = 303, htmx_status: int = 204) -> Response:
    """A redirect that HTMX follows as a full navigation (`HX-Redirect`)."""
    if htmx:
        return htmx_response("", htmx_status, redirect=url)
    response = make_response("", status)
    response.headers["Location"] = url
    return response


def attachment_download(attachment, data_dir) -> Response:
    """A stored ticket attachment, always as a download that no browser renders (TKT-2);
    404 when its file is gone. Callers check who may see it first."""
    from flask import abort

    from webapp.services.tickets import attachment_disposition, path_of

    path = path_of(attachment, data_dir)
    if not path.is_file():
        abort(404)
    response = make_response(path.read_bytes())  # at most 2 MB (TKT-2)
    response.headers["Content-Type"] = attachment.content_type
    response.headers["Content-Disposition"] = attachment_disposition(attachment.filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
