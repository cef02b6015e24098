"""Directory / sites benchmark: `python -m bench.directory` (figures printed only).

Generates a large tenant in a throw-away migrated SQLite file (default 1,000 sites in
three levels, 10,000 contacts, 20,000 services, 2,000 desk phones), signs an
administrator in on a real Redis, and measures in-process server time (Flask test
client, the whole WSGI stack: session, access, rendering, compression off) of:
  search     GET /annuaire?q=<word>          (directory live search, HTMX fragment)
  tree       GET /gerer/sites                (first render of the site tree)
  branch     GET /gerer/sites/<id>/branche   (one branch expansion, HTMX partial)
  services   GET /services                   (first page of the service list)
against a bare Flask "hello" app called the same way (ratio = median / hello median).
Also prints the bytes of the tree page and of one branch partial (raw and gzip).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from tests.servers import RedisServer

FIRST = ["Camille", "Louis", "Emma", "Hugo", "Léa", "Jules", "Manon", "Nathan", "Inès", "Paul",
         "Chloé", "Lucas", "Sarah", "Arthur", "Zoé", "Théo", "Alice", "Noah", "Lina", "Adam"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
        "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier"]


def generate(sites: int, contacts: int, services: int, phones: int, seed: int = 4):
    """The large tenant; returns (account, admin user, one root site id with children)."""
    from webapp.db import db
    from webapp.models import (
        Contact,
        Equipment,
        Licence,
        Service,
        ServiceContact,
        Site,
        User,
        UserRole,
        utcnow,
    )
    from webapp.services.accounts import admin_role, create_account, default_site

    rng = random.Random(seed)
    now = utcnow()
    account = create_account("Grande Entreprise SA")
    default = default_site(account)
    roots = max(1, round(sites / 100))
    per_root = max(1, (sites - roots) // roots)
    mids = max(1, round(per_root / 11))
    site_ids = [default.id]
    with db.atomic():
        for r in range(roots):
            root = Site.create(account=account, name=f"Région {r + 1:02d}")
            site_ids.append(root.id)
            leaves_left = per_root - mids
            for m in range(mids):
                mid = Site.create(account=account, parent=root, name=f"Ville {r + 1}-{m + 1}")
                site_ids.append(mid.id)
                count = leaves_left // (mids - m)
                leaves_left -= count
                rows = [{"account": account.id, "parent": mid.id, "created_at": now,
                         "name": f"Agence {r + 1}-{m + 1}-{k + 1}", "is_default": False}
                        for k in range(count)]
                Site.insert_many(rows).execute()
        site_ids = [i for (i,) in Site.select(Site.id).where(Site.account == account).tuples()]
        rows = [{"account": account.id, "site": rng.choice(site_ids), "created_at": now,
                 "first_name": rng.choice(FIRST), "last_name": f"{rng.choice(LAST)}{i}",
                 "email": f"contact{i}@grande.example", "phone_work": f"+3312{i:07d}"}
                for i in range(contacts)]
        for chunk in range(0, len(rows), 500):
            Contact.insert_many(rows[chunk:chunk + 500]).execute()
        contact_ids = [i for (i,) in Contact.select(Contact.id)
                       .where(Contact.account == account).tuples()]
        kinds = ["fixed", "fixed", "mobile", "fax"]
        rows = [{"account": account.id, "site": rng.choice(site_ids), "created_at": now,
                 "kind": kinds[i % 4], "number": f"+3319{i:07d}", "label": f"Ligne {i}",
                 "holder": contact_ids[i % len(contact_ids)], "accept_queue_calls": True}
                for i in range(services)]
        for chunk in range(0, len(rows), 500):
            Service.insert_many(rows[chunk:chunk + 500]).execute()
        pairs = [{"service": sid, "contact": cid} for sid, cid in Service.select(
            Service.id, Service.holder).where(Service.account == account).tuples()]
        for chunk in range(0, len(pairs), 500):
            ServiceContact.insert_many(pairs[chunk:chunk + 500]).execute()
        rows = [{"account": account.id, "site": rng.choice(site_ids), "created_at": now,
                 "model": "Yealink T54W", "mac": f"00:15:65:{i >> 16 & 255:02X}:"
                 f"{i >> 8 & 255:02X}:{i & 255:02X}", "label": ""} for i in range(phones)]
        for chunk in range(0, len(rows), 500):
            Equipment.insert_many(rows[chunk:chunk + 500]).execute()
        boss = Contact.get(Contact.account == account)
        Licence.create(account=account, contact=boss, product="manager")
        user = User.create(account=account, contact=boss, email="boss@grande.example")
        UserRole.create(user=user, role=admin_role(account))
    branch_site = Site.get((Site.account == account) & (Site.name == "Région 01"))
    return account, user, branch_site.id, len(site_ids)


def timed(client, path: str, runs: int, headers: dict | None = None) -> tuple[list[float], int]:
    samples = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path, headers=headers or {})
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.data)
    return samples, size


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=10000)
    parser.add_argument("--services", type=int, default=20000)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cm-bench-dir-"))
    with RedisServer() as redis_server:
        os.environ.update(SECRET_KEY="bench-secret", REDIS_URL=redis_server.url,
                          DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
                          DATA_DIR=str(tmp / "data"))
        from flask import Flask

        from webapp.app import create_app
        from webapp.db import db
        from webapp.migrate import upgrade

        app = create_app({"TESTING": True})
        app.config["COMPRESS_REGISTER"] = False
        with db.connection_context():
            upgrade(db.obj)
            t0 = time.perf_counter()
            account, user, branch_id, n_sites = generate(args.sites, args.contacts,
                                                         args.services, args.phones)
            gen_s = time.perf_counter() - t0
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
            sess["auth_version"] = user.auth_version
            sess["started_at"] = time.time()

        hello = Flask("hello")
        hello.add_url_rule("/", "hello", lambda: "hello")
        hello_client = hello.test_client()

        hx = {"HX-Request": "true"}
        cases = [
            ("search", "/annuaire?q=moreau", dict(hx, **{"HX-Target": "contact-results"})),
            ("tree", "/gerer/sites", {}),
            ("branch", f"/gerer/sites/{branch_id}/branche", dict(hx, **{
                "HX-Target": f"site-{branch_id}"})),
            ("services", "/services", {}),
        ]
        for _name, path, headers in cases:  # warm-up (templates compiled, caches)
            timed(client, path, 3, headers)
        timed(hello_client, "/", 20)
        base, _ = timed(hello_client, "/", args.runs * 4)
        base_med = statistics.median(base)
        print(f"tenant: {n_sites} sites, {args.contacts} contacts, {args.services} services, "
              f"{args.phones} phones (generated in {gen_s:.1f} s); {args.runs} runs each")
        print(f"{'case':10} {'median ms':>10} {'p95 ms':>8} {'ratio':>8} {'bytes':>8} "
              f"{'gzip':>7}")
        print(f"{'hello':10} {base_med:10.3f} {p95(base):8.3f} {1:8.1f} {5:8d} {'':>7}")
        for name, path, headers in cases:
            samples, _size = timed(client, path, args.runs, headers)
            body = client.get(path, headers=headers).data
            med = statistics.median(samples)
            print(f"{name:10} {med:10.2f} {p95(samples):8.2f} {med / base_med:8.0f} "
                  f"{len(body):8d} {len(gzip.compress(body)):7d}")


if __name__ == "__main__":
    main()
