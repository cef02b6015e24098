"""Marking strings for translation where they are defined, translating where shown.

`N_("…")` returns its argument unchanged: it only tells pybabel to extract the
French msgid (labels of menus, permissions, statuses defined in modules that
must not import Flask). Templates translate them at render time with `_(label)`.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext convention)
    return message
