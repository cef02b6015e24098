"""What a person typed in a form, kept to be shown again with the refusals beside each
field (convention: the view copies `FormError.errors` onto `errors`). No Flask here."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, fields
from typing import Self


@dataclass
class TypedForm:
    """A form's values as typed (strings); subclasses declare one field per input,
    `name: str`, each empty until given."""

    errors: dict[str, str] = field(default_factory=dict, kw_only=True)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in inspect.get_annotations(cls):
            if name not in cls.__dict__:
                setattr(cls, name, "")

    @classmethod
    def from_data(cls, data) -> Self:
        """The submitted values (`request.form` or any mapping), stripped."""
        return cls(**{f.name: str(data.get(f.name, "")).strip() for f in cls._inputs()})

    @classmethod
    def from_record(cls, record, **shown: str) -> Self:
        """A record's stored values, one per field of the same name (None as ""), for
        editing it; `shown` gives the fields displayed otherwise than stored."""
        return cls(**{f.name: shown[f.name] if f.name in shown
                      else str(getattr(record, f.name) or "") for f in cls._inputs()})

    @classmethod
    def _inputs(cls):
        return [f for f in fields(cls) if not f.kw_only]
