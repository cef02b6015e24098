"""Stored forms of the engine's records, and the JSON encoder they share, pure.

Calls and agents are stored as compact JSON arrays: the values of their
dataclass fields in declaration order (`CALL_FIELDS`, `AGENT_FIELDS`; a call's
offers as `OFFER_FIELDS` arrays); the older keyed-object form still loads.
`to_json` is `json.dumps(obj, separators=(",", ":"), ensure_ascii=False)` for
the str, int, bool, None, list and dict values the engine writes, done by
orjson (several times faster than the standard library's encoder).
"""

from __future__ import annotations

from dataclasses import fields

import orjson

from engine.entities import Agent, Call, Offer

_dumps = orjson.dumps
loads = orjson.loads


def to_json(obj: object) -> str:
    """Compact JSON text, UTF-8 characters kept as they are."""
    return _dumps(obj).decode()


def to_json_bytes(obj: object) -> bytes:
    """to_json(obj) encoded as UTF-8, without the decode (what Redis is sent anyway)."""
    return _dumps(obj)


CALL_FIELDS = tuple(f.name for f in fields(Call))
OFFER_FIELDS = tuple(f.name for f in fields(Offer))
AGENT_FIELDS = tuple(f.name for f in fields(Agent))
_OFFERS_AT = CALL_FIELDS.index("offers")


def call_to_dict(call: Call) -> dict:
    d = dict(call.__dict__)
    d["offers"] = [dict(o.__dict__) for o in call.offers.values()]
    return d


def call_to_row(call: Call) -> list:
    """Compact stored form: the values in CALL_FIELDS order (offers as OFFER_FIELDS rows).
    A dataclass __init__ assigns its fields in declaration order, so __dict__ is in
    that order; a JSON array of it is about a third of the keyed JSON and cheaper to
    build and encode."""
    row = list(call.__dict__.values())
    row[_OFFERS_AT] = [list(o.__dict__.values()) for o in call.offers.values()]
    return row


def call_from_dict(d: dict | list) -> Call:
    """Inverse of call_to_row, and of call_to_dict (records written before the compact form)."""
    if isinstance(d, list):
        d = dict(zip(CALL_FIELDS, d, strict=False))  # older, shorter rows: defaults
        d["offers"] = [dict(zip(OFFER_FIELDS, o, strict=False)) for o in d["offers"]]
    else:
        d = dict(d)
    offers = {o["line"]: Offer(**o) for o in d.pop("offers")}
    return Call(offers=offers, **d)


def agent_to_dict(agent: Agent) -> dict:
    return dict(agent.__dict__)


def agent_to_row(agent: Agent) -> list:
    """Compact stored form: the values in AGENT_FIELDS order."""
    return list(agent.__dict__.values())


def agent_from_dict(d: dict | list) -> Agent:
    """Inverse of agent_to_row, and of agent_to_dict (the older keyed form)."""
    if isinstance(d, list):
        return Agent(*d)
    return Agent(**d)
