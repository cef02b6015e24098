"""Find the `hx-get` requests a page would make, the way htmx would make them (REL-3).

For every element with `hx-get`: the URL, the target id (`hx-target`, inherited from
ancestors as htmx does; `this`, `#id`, `closest <tag>`, `find <sel>`), and the query
values htmx sends: a form's successful controls with their default values, an input's
own name/value, `hx-include`'s form, `hx-vals` JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.current)
        self.current.children.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def parse(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    return tree.root


def _form_values(form: Node) -> list[tuple[str, str]]:
    values: list[tuple[str, str]] = []
    for node in form.walk():
        name = node.attrs.get("name")
        if not name or "disabled" in node.attrs:
            continue
        if node.tag == "input":
            kind = node.attrs.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                continue
            if kind in ("checkbox", "radio") and "checked" not in node.attrs:
                continue
            values.append((name, node.attrs.get("value", "on" if kind in ("checkbox", "radio")
                                                 else "")))
        elif node.tag == "select":
            options = [o for o in node.walk() if o.tag == "option"]
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            for option in chosen:
                values.append((name, option.attrs.get("value", option.text.strip())))
        elif node.tag == "textarea":
            values.append((name, node.text))
    return values


def _inherited(node: Node, attr: str) -> tuple[str | None, Node]:
    for candidate in (node, *node.ancestors()):
        if attr in candidate.attrs:
            return candidate.attrs[attr], candidate
    return None, node


def _target_id(node: Node, root: Node) -> str | None:
    spec, owner = _inherited(node, "hx-target")
    if spec is None or spec == "this":
        return (owner if spec == "this" else node).attrs.get("id")
    if spec.startswith("#"):
        return spec[1:]
    if spec.startswith("closest "):
        wanted = spec.removeprefix("closest ").strip()
        for ancestor in (node, *node.ancestors()):
            if _matches(ancestor, wanted):
                return ancestor.attrs.get("id")
        return None
    if spec.startswith("find "):
        wanted = spec.removeprefix("find ").strip()
        for child in node.walk():
            if child is not node and _matches(child, wanted):
                return child.attrs.get("id")
        return None
    for candidate in root.walk():  # a plain CSS selector
        if _matches(candidate, spec):
            return candidate.attrs.get("id")
    return None


def _matches(node: Node, selector: str) -> bool:
    selector = selector.strip()
    if selector.startswith("#"):
        return node.attrs.get("id") == selector[1:]
    if selector.startswith("."):
        return selector[1:] in node.attrs.get("class", "").split()
    tag, _, cls = selector.partition(".")
    return node.tag == tag and (not cls or cls in node.attrs.get("class", "").split())


@dataclass(frozen=True)
class HxGet:
    url: str  # path and query, as htmx would request it
    target: str | None  # the HX-Target header (an element id), if any
    source: str  # a short description for failure messages


def hx_gets(html: str, page_url: str) -> list[HxGet]:
    root = parse(html)
    found = []
    for node in root.walk():
        url = node.attrs.get("hx-get")
        if url is None:
            continue
        if not url:
            url = page_url  # htmx: an empty hx-get requests the current URL
        values: list[tuple[str, str]] = []
        if node.tag == "form":
            values += _form_values(node)
        elif node.attrs.get("name") and node.tag in ("input", "select", "textarea"):
            holder = Node("form", {}, None, [node])
            values += _form_values(holder)
        include, _ = _inherited(node, "hx-include")
        if include:
            form = None
            if include.strip() == "closest form":
                form = next((a for a in node.ancestors() if a.tag == "form"), None)
            elif include.startswith("#"):
                form = next((n for n in root.walk() if n.attrs.get("id") == include[1:]), None)
            if form is not None:
                values += [v for v in _form_values(form) if v not in values]
        vals, _ = _inherited(node, "hx-vals")
        if vals and not vals.startswith("js:"):
            try:
                values += [(k, str(v)) for k, v in json.loads(vals).items()]
            except ValueError:
                pass
        absolute = urljoin(page_url, url)
        parts = urlsplit(absolute)
        query = parts.query
        if values:
            query = (query + "&" if query else "") + urlencode(values)
        path = parts.path + ("?" + query if query else "")
        desc = f"<{node.tag} hx-get={url!r}> on {page_url}"
        found.append(HxGet(path, _target_id(node, root), desc))
    return found


def links(html: str, page_url: str) -> list[str]:
    """Same-site links (<a href>) of a page, as paths with their query."""
    out = []
    for node in parse(html).walk():
        href = node.attrs.get("href") if node.tag == "a" else None
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        parts = urlsplit(urljoin(page_url, href))
        if parts.netloc not in ("", "localhost", "manager.test"):
            continue
        out.append(parts.path + ("?" + parts.query if parts.query else ""))
    return out
