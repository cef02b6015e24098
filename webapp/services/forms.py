"""What a person typed in a form, kept to be shown again with the refusals beside each
field (convention: the view copies `FormError.errors` onto `errors`). No Flask here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Self


@dataclass
class TypedForm:
    """A form's values as typed (strings); subclasses declare one field per input."""

    errors: dict[str, str] = field(default_factory=dict, kw_only=True)

    @classmethod
    def from_data(cls, data) -> Self:
        """The submitted values (`request.form` or any mapping), stripped."""
        return cls(**{f.name: str(data.get(f.name, "")).strip()
                      for f in fields(cls) if not f.kw_only})
