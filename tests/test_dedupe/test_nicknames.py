"""The hand-kept name families: short forms members really use must meet their formal name."""

from __future__ import annotations

import pytest

from dedupe.nicknames import nickname_group


@pytest.mark.parametrize(
    ("formal", "short"),
    [
        ("darren", "daz"),
        ("sharon", "shaz"),
        ("harold", "hal"),
        ("alan", "al"),
        ("diane", "di"),
        ("amelia", "millie"),
        ("angus", "gus"),
        ("katarzyna", "kasia"),
        ("babatunde", "tunde"),
        ("dafydd", "dai"),
        ("maureen", "mo"),
    ],
)
def test_short_form_meets_formal_name(formal: str, short: str) -> None:
    assert nickname_group(formal) == nickname_group(short)


def test_unrelated_names_stay_apart() -> None:
    assert nickname_group("darren") != nickname_group("barry")
