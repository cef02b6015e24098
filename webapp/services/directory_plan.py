"""Synchroniser the annuaire with a CSV file (DIR-6): the plan, then applying it.

A row with an `id` updates that contact; a row without `id` matches an existing contact
by e-mail, else by unique name, else creates one; a contact of the user's scope absent
from the file is deleted (except Manager users, kept). The plan is computed first
(preview with counts); applying recomputes it, checks it is the plan that was shown
(fingerprint) and writes everything in one transaction. One bad row: the plan lists it
with its line number and reason, and nothing can be applied. The file itself (columns,
decoding, rows) is `directory_csv`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import JOIN

from webapp.db import db
from webapp.i18n import _
from webapp.models import Contact, Licence, Service, ServiceContact, Site, User
from webapp.models.core import Folder
from webapp.services import audit, email_change, phones, search
from webapp.services.access import Access
from webapp.services.actor import Actor
from webapp.services.directory import EMAIL_RE, delete_photo_files
from webapp.services.directory_csv import ERRORS_SHOWN, FIELDS, FORMULA, SAMPLE, Row, scoped
from webapp.services.roles import AccessError
from webapp.settings import load


@dataclass
class Plan:
    rows: int = 0
    creates: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)   # {"id", "values", "fields"}
    deletes: list[int] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)      # not deleted: Manager users
    unchanged: int = 0
    new_folders: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)    # {"line", "reason"}
    names: dict[int, str] = field(default_factory=dict)
    # SEC-1: new sign-in addresses of Manager users, confirmed by a link before use.
    email_changes: list[dict] = field(default_factory=list)  # {"user", "email", "line"}

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates or self.deletes or self.new_folders
                    or self.email_changes)

    def fingerprint(self) -> str:
        ops = json.dumps([self.creates, self.updates, self.deletes, self.new_folders,
                          self.email_changes],
                         sort_keys=True, default=str)
        return hashlib.sha256(ops.encode()).hexdigest()

    def summary(self) -> dict:
        """What the preview page shows (JSON-able, samples only)."""
        def created(v):
            return {"name": f"{v['last_name']} {v['first_name']}", "line": v["_line"]}
        return {
            "rows": self.rows, "unchanged": self.unchanged,
            "counts": {"creates": len(self.creates), "updates": len(self.updates),
                       "deletes": len(self.deletes), "kept": len(self.kept),
                       "folders": len(self.new_folders), "errors": len(self.errors)},
            "creates": [created(v) for v in self.creates[:SAMPLE]],
            "updates": [{"name": self.names.get(u["id"], ""), "fields": u["fields"],
                         "changes": u.get("changes", []), "line": u["line"]}
                        for u in self.updates[:SAMPLE]],
            "deletes": [{"name": self.names.get(i, "")} for i in self.deletes[:SAMPLE]],
            "kept": self.kept[:SAMPLE], "new_folders": self.new_folders[:SAMPLE],
            "errors": self.errors[:ERRORS_SHOWN], "fingerprint": self.fingerprint(),
        }


FIELD_LABELS = {"last_name": "nom", "first_name": _("prénom"), "email": "e-mail",
                "phone_work": _("téléphone pro"), "phone_mobile": "mobile",
                "phone_home": "domicile", "company": _("société"), "job_title": "fonction",
                "address": "adresse", "folder": "dossier", "site": "site"}


def _clean(cells: dict, sites_by_name: dict, allowed: set[int] | None) -> tuple[dict, list]:
    """Values of one row (Contact field → value, folder as name) and its problems."""
    problems = []
    values: dict = {}
    for key, name in FIELDS.items():
        if key not in cells:
            continue
        raw = cells[key].strip()
        if raw.startswith("'") and raw[1:2] in FORMULA:
            raw = raw[1:]
        if key in ("telephone_pro", "mobile", "telephone_domicile"):
            number = phones.normalize(raw) if raw else None
            if raw and number is None:
                problems.append(_("%(field)s « %(raw)s » : numéro non valide",
                                  field=FIELD_LABELS[name], raw=raw))
            values[name] = number
        elif key == "email":
            email = raw.lower()
            if email and (len(email) > 254 or not EMAIL_RE.match(email)):
                problems.append(_("adresse e-mail « %(raw)s » non valide", raw=raw))
            values[name] = email or None
        elif key == "adresse":
            if len(raw) > 500:
                problems.append(_("adresse : 500 caractères au plus"))
            values[name] = raw or None
        else:
            text = " ".join(raw.split())
            limit = 100 if key in ("nom", "prenom") else 120
            if len(text) > limit:
                problems.append(_("%(field)s : %(limit)s caractères au plus",
                                  field=FIELD_LABELS[name], limit=limit))
            values[name] = text if key in ("nom", "prenom") else (text or None)
    if not values.get("last_name"):
        problems.append(_("le nom est obligatoire"))
    if not values.get("first_name"):
        problems.append(_("le prénom est obligatoire"))
    if "dossier" in cells:
        folder = " ".join(cells["dossier"].split())
        if folder.startswith("'") and folder[1:2] in FORMULA:
            folder = folder[1:]
        if len(folder) > 80:
            problems.append(_("dossier : 80 caractères au plus"))
        values["folder"] = folder or None
    if "site" in cells:
        site_name = " ".join(cells["site"].split())
        if site_name:
            ids = sites_by_name.get(site_name.lower(), [])
            if not ids:
                problems.append(_("site « %(site_name)s » inconnu", site_name=site_name))
            elif len(ids) > 1:
                problems.append(_("plusieurs sites s'appellent « %(site_name)s »",
                                  site_name=site_name))
            elif allowed is not None and ids[0] not in allowed:
                problems.append(_("le site « %(site_name)s » est hors de vos sites",
                                  site_name=site_name))
            else:
                values["site"] = ids[0]
        else:
            values["site"] = None  # default site
    return values, problems


def _same(key: str, new, old) -> bool:
    """Whether an imported value is what is stored: an unchanged export re-imported
    proposes nothing ("" and no value alike, spaces as the import cleans them)."""
    if key == "folder":
        return (new or "").lower() == (old or "").lower()
    if isinstance(old, str):
        old = old.replace("\r\n", "\n").strip() if key == "address" else " ".join(old.split())
    return (new if new != "" else None) == (old if old != "" else None)


def _shown(key: str, value, site_names: dict) -> str:
    """A value as the preview shows it (old → new)."""
    if value in (None, ""):
        return "—"
    if key.startswith("phone_"):
        return phones.display(value)
    if key == "site":
        return site_names.get(value, str(value))
    return str(value)


def plan(access: Access, rows: list[Row], progress: Callable[[int, int], None] | None = None
         ) -> Plan:
    result = Plan(rows=len(rows))
    account = access.account_id
    sites = list(Site.select(Site.id, Site.name, Site.is_default).where(Site.account == account))
    sites_by_name: dict[str, list[int]] = {}
    for s in sites:
        sites_by_name.setdefault(s.name.lower(), []).append(s.id)
    default_site = next((s.id for s in sites if s.is_default), None)
    allowed = set(access.site_ids) if access.site_ids is not None else None
    if allowed is not None and default_site not in allowed:
        default_for_new = min(allowed) if allowed else None
    else:
        default_for_new = None  # NULL = default site
    folders = {f.name.lower(): f for f in Folder.select().where(Folder.account == account)}
    existing: dict[int, dict] = {}
    for c in scoped(access).select(Contact, Folder.name.alias("folder_name")).join(
            Folder, JOIN.LEFT_OUTER, on=(Contact.folder == Folder.id)).objects().iterator():
        snap = {name: getattr(c, name) for name in FIELDS.values()}
        snap["site"] = c.site_id
        snap["folder"] = c.folder_name
        existing[c.id] = snap
        result.names[c.id] = f"{c.last_name} {c.first_name}"
    users = {u.contact_id: u for u in User.select()
             .where((User.account == account) & User.contact.is_null(False))}
    by_email: dict[str, list[int]] = {}
    by_name: dict[tuple, list[int]] = {}
    for cid, snap in existing.items():
        if snap["email"]:
            by_email.setdefault(snap["email"].lower(), []).append(cid)
        by_name.setdefault((snap["last_name"].lower(), snap["first_name"].lower()),
                           []).append(cid)
    claimed: dict[int, int] = {}
    new_folders: dict[str, str] = {}
    for index, row in enumerate(rows):
        if progress and index % 500 == 0:
            progress(index, len(rows))
        values, problems = _clean(row.cells, sites_by_name, allowed)
        raw_id = (row.cells.get("id") or "").strip()
        target = None
        if raw_id:
            try:
                target = int(raw_id)
            except ValueError:
                problems.append(_("identifiant « %(raw_id)s » non valide", raw_id=raw_id))
            else:
                if target not in existing:
                    problems.append(_("identifiant %(target)s inconnu ou hors de vos sites",
                                      target=target))
                    target = None
        elif not problems:
            email = (values.get("email") or "").lower()
            candidates = [c for c in by_email.get(email, []) if c not in claimed] if email \
                else []
            if not candidates:
                key = (values["last_name"].lower(), values["first_name"].lower())
                candidates = [c for c in by_name.get(key, []) if c not in claimed]
            if len(candidates) == 1:
                target = candidates[0]
        if target is not None and target in claimed:
            problems.append(_("le contact %(target)s figure déjà ligne %(line)s",
                              target=target, line=claimed[target]))
        if problems:
            result.errors.append({"line": row.line, "reason": " ; ".join(problems)})
            continue
        folder = values.get("folder")
        if folder and folder.lower() not in folders and folder.lower() not in new_folders:
            new_folders[folder.lower()] = folder
        if target is None:
            values.setdefault("site", None)
            if values["site"] is None:
                values["site"] = default_for_new
            values["_line"] = row.line
            result.creates.append(values)
            continue
        claimed[target] = row.line
        snap = existing[target]
        if "site" in values and values["site"] is None and default_for_new is not None:
            del values["site"]  # the default site is out of this user's scope: keep it
        changed = {k: v for k, v in values.items() if k in snap and not _same(k, v, snap[k])}
        if "email" in changed and target in users:
            # SEC-1: the same rule as the contact form (services.email_change).
            target_user = users[target]
            try:
                email_change.check_may_change(access, target_user)
                reason = None
            except AccessError as refused:
                reason = refused.message
            if reason is None and not changed["email"]:
                reason = (_("Ce contact se connecte au Manager avec son adresse e-mail : "
                          "elle ne peut pas être vide."))
            if reason is None and User.select().where(
                    (User.email == changed["email"]) & (User.id != target_user.id)).exists():
                reason = email_change.TAKEN
            if reason:
                result.errors.append({"line": row.line, "reason": reason})
                continue
            result.email_changes.append({"user": target_user.id, "email": changed.pop("email"),
                                         "line": row.line})
        if changed:
            names = {s.id: s.name for s in sites}
            result.updates.append({
                "id": target, "values": changed, "line": row.line,
                "fields": [FIELD_LABELS[k] for k in sorted(changed)],
                "changes": [{"field": FIELD_LABELS[k], "old": _shown(k, snap[k], names),
                             "new": _shown(k, changed[k], names)} for k in sorted(changed)]})
        else:
            result.unchanged += 1
    for cid in existing:
        if cid in claimed:
            continue
        if cid in users:
            result.kept.append({"name": result.names[cid],
                                "reason": _("accès au Manager : retirez d'abord son accès")})
        else:
            result.deletes.append(cid)
    result.new_folders = sorted(new_folders.values(), key=str.lower)
    if progress:
        progress(len(rows), len(rows))
    return result


def apply(access: Access, result: Plan, *, actor: Actor,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the plan in one transaction; returns the counts."""
    if result.errors:
        raise ValueError("a plan with errors is never applied")
    account = access.account_id
    total = len(result.creates) + len(result.updates) + len(result.deletes)
    done = 0
    with db.atomic():
        for name in result.new_folders:
            Folder.create(account=account, name=name)
        folders = {f.name.lower(): f.id for f in Folder.select().where(Folder.account == account)}

        def folder_id(values: dict) -> dict:
            out = {k: v for k, v in values.items() if not k.startswith("_")}
            if "folder" in out:
                out["folder"] = folders[out["folder"].lower()] if out["folder"] else None
            return out

        creates = [dict(folder_id(v), account=account) for v in result.creates]
        for values in creates:
            values["search"] = search.document(values)
        for start in range(0, len(creates), 500):
            Contact.insert_many(creates[start:start + 500]).execute()
            done += len(creates[start:start + 500])
            if progress:
                progress(done, total)
        for update in result.updates:
            Contact.update(**folder_id(update["values"])).where(
                (Contact.id == update["id"]) & (Contact.account == account)).execute()
            done += 1
            if progress and done % 500 == 0:
                progress(done, total)
        search.reindex([update["id"] for update in result.updates])
        photos: list[str] = []
        for start in range(0, len(result.deletes), 500):
            ids = result.deletes[start:start + 500]
            photos += [p for (p,) in Contact.select(Contact.photo).where(
                Contact.id.in_(ids) & Contact.photo.is_null(False)).tuples()]
            Service.update(holder=None).where(Service.holder.in_(ids)).execute()
            ServiceContact.delete().where(ServiceContact.contact.in_(ids)).execute()
            Licence.delete().where(Licence.contact.in_(ids)).execute()
            Contact.delete().where((Contact.id.in_(ids)) & (Contact.account == account)).execute()
            done += len(ids)
            if progress:
                progress(done, total)

    delete_photo_files(photos, None)  # SEC-8: a contact's photo goes with it
    if result.email_changes:
        settings = load()
        for change in result.email_changes:
            email_change.request_change(access, User.get_by_id(change["user"]),
                                        change["email"], actor=actor,
                                        settings=settings)
    counts = {"creates": len(result.creates), "updates": len(result.updates),
              "deletes": len(result.deletes), "folders": len(result.new_folders)}
    if result.email_changes:
        counts["email_changes"] = len(result.email_changes)
    audit.record("directory.synced", account=account, actor=actor, **counts)
    return counts
