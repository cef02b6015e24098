"""Benchmark DIR-6: export and synchronisation of 10,000 contacts.

`.venv/bin/python -m bench.directory_csv [--rows 10000]`

Same run, same file: (1) our streamed export of 10,000 contacts, (2) the sync of that file
edited (preview plan + apply in one transaction: 1,000 updates, 500 deletes, 500 creates),
against a baseline of a plain `csv` module read + write of the same file. Prints seconds
and peak Python memory (tracemalloc) and the ratios.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
import tracemalloc
from pathlib import Path


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 1e6


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)

    from webapp.db import init_db
    from webapp.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-dircsv-"))
    database = init_db(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(database)

    from webapp.models import Account, Contact, Site
    from webapp.services import directory_csv, directory_plan
    from webapp.services.access import Access
    from webapp.services.actor import Actor

    account = Account.create(name="Bench SARL")
    Site.create(account=account, name="Site par défaut", is_default=True)
    with database.atomic():
        Contact.insert_many([
            {"account": account.id, "first_name": "Prénom", "last_name": f"Nom{i:05d}",
             "email": f"p{i}@exemple.fr", "phone_work": f"+3314000{i:04d}",
             "company": "Société Générale de Tests", "job_title": "Fonction"}
            for i in range(args.rows)]).execute()
    access = Access(account.id, frozenset({"services.manage"}), None, True)

    data, export_s, export_mb = measure(lambda: b"".join(directory_csv.export_rows(access)))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=";"))
    for row in rows[:1000]:
        row["fonction"] = "Nouvelle fonction"
    del rows[1000:1500]
    for i in range(500):
        rows.append(dict.fromkeys(directory_csv.KEYS, "") | {"nom": f"Neuf{i}",
                                                            "prenom": "Contact"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=directory_csv.KEYS, delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    edited = buffer.getvalue().encode("utf-8-sig")

    def sync():
        plan = directory_plan.plan(access, directory_csv.read(edited))
        assert not plan.errors
        return directory_plan.apply(access, plan, actor=Actor.system())

    counts, sync_s, sync_mb = measure(sync)
    assert counts == {"creates": 500, "updates": 1000, "deletes": 500, "folders": 0}, counts

    def baseline():
        src = tmp / "in.csv"
        src.write_bytes(edited)
        with open(src, encoding="utf-8-sig", newline="") as f:
            got = list(csv.reader(f, delimiter=";"))
        out = io.StringIO()
        csv.writer(out, delimiter=";").writerows(got)
        return len(got)

    _n, base_s, base_mb = measure(baseline)
    print(f"rows={args.rows} file={len(edited) / 1e6:.2f} MB")
    print(f"csv module read+write : {base_s:7.3f} s  peak {base_mb:6.1f} MB")
    print(f"export (streamed)     : {export_s:7.3f} s  peak {export_mb:6.1f} MB  "
          f"ratio {export_s / base_s:5.1f}x time {export_mb / base_mb:5.1f}x memory")
    print(f"sync (plan + apply)   : {sync_s:7.3f} s  peak {sync_mb:6.1f} MB  "
          f"ratio {sync_s / base_s:5.1f}x time {sync_mb / base_mb:5.1f}x memory")


if __name__ == "__main__":
    main()
