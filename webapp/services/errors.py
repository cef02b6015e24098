"""How a service refuses: one exception, whatever the area (convention 13).

A refusal names each field it refuses with a message marked for translation
(`webapp.i18n._`: French msgid + values); the view translates it for the reader
and shows the typed values again. Nothing was written when it is raised.
Domain refusals (`SiteError`, `HolderError`, `AccessError`, `PeriodError`,
`CsvFileError`) subclass it so a view catches one type.
"""

from __future__ import annotations

from webapp.i18n import Text


class FormError(ValueError):
    """`errors` maps field names ("" for the form as a whole) to `Text` messages;
    `values` holds what the person typed, to show it again.

    `FormError({"pin": _("…")}, values)` refuses fields; `FormError("msgid %(x)s", x=1)`
    (what the domain subclasses use) refuses the request as a whole."""

    def __init__(self, errors: dict[str, str] | str, values: dict | None = None,
                 **message_values) -> None:
        if isinstance(errors, str):  # a domain refusal: one message, maybe with values
            if isinstance(errors, Text) and message_values:
                errors = Text(errors.msgid, {**errors.values, **message_values},
                              plural=errors.plural, num=errors.num)
            errors = {"": errors if isinstance(errors, Text) else Text(errors, message_values)}
        self.errors = {key: message if isinstance(message, Text) else Text(message)
                       for key, message in errors.items()}
        self.values = values or {}
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in self.errors.items()))

    @property
    def message(self) -> Text:
        """The first message (the only one for a domain refusal)."""
        return next(iter(self.errors.values()))
