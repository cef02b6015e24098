"""The bare page of `bench.pages`: Flask rendering a 50-line template, nothing else
(`gunicorn "bench.bare_app:create_app()"`, with the Procfile's web settings)."""

from __future__ import annotations

from flask import Flask

ROWS = "\n".join(f"<tr><td>{{{{ rows[{i}].name }}}}</td><td>{{{{ rows[{i}].number }}}}</td></tr>"
                 for i in range(34))
TEMPLATE = f"""<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{{{{ title }}}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<header><h1>{{{{ title }}}}</h1></header>
<main>
<p>{{{{ intro }}}}</p>
<table>
<thead><tr><th>Nom</th><th>Numéro</th></tr></thead>
<tbody>
{ROWS}
</tbody>
</table>
</main>
</body>
</html>
"""
DATA = {"title": "Page nue", "intro": "Une page de référence.",
        "rows": [{"name": f"Contact {i}", "number": f"+331000{i:05d}"} for i in range(40)]}


def create_app() -> Flask:
    app = Flask("bare")
    template = app.jinja_env.from_string(TEMPLATE)  # compiled once, like a template file

    @app.route("/")
    def page():
        return template.render(**DATA)

    return app
