"""LINE-1/LINE-3: numbers typed the French way are accepted and stored as E.164."""

from __future__ import annotations

import pytest

from webapp.services.phones import display, normalize


@pytest.mark.parametrize("typed", [
    "06 12 34 56 78", "06.12.34.56.78", "0612345678", "06-12-34-56-78", "+33 6 12 34 56 78",
    "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "+33612345678", " 06 12 34 56 78 ",
    "+33 06 12 34 56 78",
])
def test_line1_french_formats_are_normalised_to_e164(typed):
    assert normalize(typed) == "+33612345678"


def test_line1_international_numbers_kept_in_e164():
    assert normalize("+44 20 7946 0958") == "+442079460958"
    assert normalize("0044 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("typed", [
    "", "   ", "12", "112", "0012", "06 12 34 56 7", "06 12 34 56 789", "6123456789",
    "+33 6 12 34", "abc", "０６１２３４５６７８", "+0612345678", "06 12 34 56 7a",
    "+33 0 0 12 34 56 78",
])
def test_line1_unusable_numbers_are_refused(typed):
    assert normalize(typed) is None


def test_line1_numbers_are_displayed_the_french_way():
    assert display("+33100000101") == "01 00 00 01 01"
    assert display("+442079460958") == "+44 20 7946 0958"  # UI-2: international format
    assert display(None) == ""
