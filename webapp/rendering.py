"""Pages and their HTMX partials from one template (docs/architecture.md §4).

An HTMX request whose `HX-Target` names an element (`site-tree`) gets only the
block of the same name (`site_tree`); any other request gets the whole page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    send_file,
)
from flask_babel import gettext
from flask_htmx import make_response as htmx_response
from jinja2 import nodes

from webapp.extensions import htmx
from webapp.i18n import N_
from webapp.services.tickets import path_of


class BlockNotFoundError(LookupError):
    pass


def render_block(template_name: str, block_name: str, **context) -> str:
    """One block of a template, seeing everything the whole page sees (REL-3).

    Rendering a block alone (as jinja2-fragments does) skips the template's top-level
    statements, so a block using a macro imported — or a variable set — at the top of
    the page fails with `UndefinedError` only when requested as a partial. Here the
    template's root runs first with its blocks silenced (in a template that extends a
    layout, only up to the layout's first output): every top-level import and `set` of
    the page takes effect and nothing is rendered; then the block renders in that same
    context.
    """
    app = current_app._get_current_object()
    app.update_template_context(context)
    env = app.jinja_env
    template = env.get_template(template_name)
    block = template.blocks.get(block_name)
    if block is None:
        raise BlockNotFoundError(f"block {block_name!r} not in {template_name!r}")
    ctx = template.new_context(context)
    _run_top_level(template, ctx, _extends(env, template_name))
    try:
        return env.concat(block(ctx))
    except Exception:
        return env.handle_exception()


def _run_top_level(template, ctx, extends: bool) -> None:
    """Execute the template's top-level statements in `ctx`, rendering nothing."""
    # Every block silenced: only imports and sets take effect, nothing is rendered.
    blocks = ctx.blocks
    ctx.blocks = {name: [_silent] for name in blocks}
    silenced = ctx.blocks
    root = template.root_render_func(ctx)
    try:
        if extends:
            next(root, None)  # the child's top level has run, the layout has started
        else:  # a template of blocks only: its own top-level output is dropped
            for _chunk in root:
                pass
    except Exception:  # top-level output needing what only the whole page has: skip it
        pass
    finally:
        root.close()
        for name, chain in silenced.items():  # the layouts' blocks, for super()
            blocks.setdefault(name, []).extend(chain[1:] if name in blocks else [])
        ctx.blocks = blocks


def _silent(ctx):
    return iter(())


_EXTENDS: dict[str, bool] = {}


def _extends(env, template_name: str) -> bool:
    if template_name not in _EXTENDS:
        source = env.loader.get_source(env, template_name)[0]
        _EXTENDS[template_name] = any(
            isinstance(node, nodes.Extends) for node in env.parse(source).body)
    return _EXTENDS[template_name]


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


def saved(message: str, url: str, in_place=None, category: str = "success") -> Response:
    """UI-1: the one answer to a successful save, always visible where the user is.

    An HTMX form gets its own block back from `in_place(message)`, the message shown
    inside it (`role="status"`): never a silent 204, never a message waiting for a later
    page. Without JS (or without `in_place`): the message is flashed and the browser is
    sent to `url` (post/redirect/get), whose page shows it at the top."""
    if htmx and in_place is not None and not htmx.boosted:
        return in_place(message)
    flash(message, category)
    return redirect_to(url)


CONFIRM_MISSING = N_("Cochez « Je confirme » pour continuer : rien n'a été fait.")


def confirmed() -> bool:
    """UI-1: a destructive POST goes ahead only with "Je confirme" ticked."""
    return request.form.get("confirm") == "1"


CONFIRM_DELETE = N_("Confirmez la suppression en cochant la case.")


def ask_confirmation(template: str, missing: str = CONFIRM_DELETE, **context) -> None:
    """UI-1: a destructive action with its own page. Returns once the person confirmed;
    otherwise answers that page instead of the view (`flask.abort` with it): on GET, and
    again (400, `missing` as `error`) when posted without its box ticked."""
    if request.method == "GET":
        abort(render(template, error=None, **context))
    if not confirmed():
        abort(render(template, status=400, error=gettext(missing), **context))


def confirm_page(*, title: str, question: str, consequences: list[str], action: str,
                 button: str, cancel: str, crumbs=(), hidden=None, refused: bool = False
                 ) -> Response:
    """UI-1: the one confirmation of a destructive action (GET; 400 when posted unticked)."""
    return render("confirm.html", status=400 if refused else 200, title=title,
                  question=question, consequences=consequences, action=action, button=button,
                  cancel=cancel, crumbs=list(crumbs), hidden=hidden,
                  error=gettext(CONFIRM_MISSING) if refused else None)


def redirect_to(url: str, status: int = 303, htmx_status: int = 204) -> Response:
    """A redirect that HTMX follows as a full navigation (`HX-Redirect`)."""
    if htmx:
        return htmx_response("", htmx_status, redirect=url)
    response = make_response("", status)
    response.headers["Location"] = url
    return response


def download(data: bytes, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """A file through `flask.send_file`, which writes its name per RFC 6266 (ASCII
    fallback and UTF-8 `filename*`). Served from memory, so no file handle outlives the
    request (the files are small: invoices, a CSV model, 2 MB attachments). Never cached."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline,
                         download_name=filename, conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_download(chunks: Iterable[str | bytes], filename: str) -> Response:
    """A streamed CSV download (constant memory whatever its size). `send_file` wants a
    whole file; the same Content-Disposition comes from werkzeug's header API."""
    response = Response(chunks, mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def attachment_download(attachment, data_dir) -> Response:
    """A stored ticket attachment, always as a download that no browser renders (TKT-2);
    404 when its file is gone. Callers check who may see it first."""
    path = path_of(attachment, data_dir)
    if not path.is_file():
        abort(404)
    response = download(path.read_bytes(), attachment.filename, attachment.content_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
