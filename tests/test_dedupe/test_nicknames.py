"""The hand-kept name families: short forms members really use must meet their formal name."""

from __future__ import annotations

import numpy as np
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


def _levels(a: list[str], b: list[str], rare_a: list[bool]) -> list[int]:
    from dedupe.compare_names import _first_name_levels

    aa, bb = np.array(a, dtype=object), np.array(b, dtype=object)
    na = np.array([hash(nickname_group(x)) for x in a])
    nb = np.array([hash(nickname_group(x)) for x in b])
    return _first_name_levels(
        aa, bb, na, nb, np.array(rare_a, bool), np.zeros(len(a), bool)
    ).tolist()


def test_misspelt_short_form_is_a_typo_but_two_real_names_differ() -> None:
    # Lotttie is a typo of Lottie (Charlotte); Maria/Charles are twins' names, not a typo.
    assert _levels(
        ["lotttie", "cthy", "maria"], ["charlotte", "catherine", "charles"], [True, True, False]
    ) == [3, 3, 5]


def test_cllr_is_a_title_not_a_first_name() -> None:
    from dedupe.names import _split_given

    assert _split_given("Cllr Zofia") == ("Cllr", "Zofia", "", "")


def test_swapped_names_survive_an_initial_or_nickname() -> None:
    from dedupe.compare_names import swapped_names

    first = np.array(["shaw", "i", "white", "trev", "thomas", "tom"], dtype=object)
    last1 = np.array(["ian", "shaw", "trevor", "white", "morgan", "jones"], dtype=object)
    A = {"first": first, "last1": last1, "first_c": np.arange(6), "last1_c": np.arange(6)}
    i, j = np.array([0, 2, 4]), np.array([1, 3, 5])
    assert swapped_names(A, i, j, np.arange(3)).tolist() == [True, True, False]
