"""The hand-kept name families: short forms members really use must meet their formal name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- Names one person may go by: a relation on lines of the table, not transitive. ---------

#: Two given names joined only through a short form both use (Chris, Nicky, Dani, Bobbie,
#: Ollie, Jo, Jack): two people's names, never one person's.
TWO_NAMES = [
    ("christine", "christopher"),
    ("nicola", "nicholas"),
    ("daniel", "danielle"),
    ("robert", "roberta"),
    ("oliver", "olivia"),
    ("joanne", "anne"),
    ("jonathan", "jake"),
]
#: A short form and a given name it stands for.
SHORT_FORMS = [
    ("chris", "christopher"),
    ("chris", "christine"),
    ("dani", "danielle"),
    ("bob", "robert"),
    ("liv", "olivia"),
]
#: A name and its other-gender form: real spellings one letter or an ending apart.
GENDERED = [
    ("paul", "paula"),
    ("louis", "louise"),
    ("francis", "frances"),
    ("antonio", "antonia"),
    ("charles", "charlene"),
]


def _level(a: str, b: str, rare_a: bool = False, rare_b: bool = False) -> int:
    """The pair level of one first-name pair, as ``first_level`` computes it."""
    from dedupe.compare_names import _first_name_levels

    groups = np.array([nickname_group(a), nickname_group(b)], dtype=object)
    return int(
        _first_name_levels(
            np.array([a], dtype=object),
            np.array([b], dtype=object),
            groups[:1],
            groups[1:],
            np.array([rare_a]),
            np.array([rare_b]),
        )[0]
    )


@pytest.mark.parametrize(("a", "b"), TWO_NAMES)
def test_names_sharing_only_a_short_form_are_two_names(a: str, b: str) -> None:
    from dedupe.compare_names import names_compatible
    from dedupe.levels import FirstName

    assert _level(a, b) == _level(b, a) == FirstName.DIFFERENT
    assert not names_compatible(a, b) and not names_compatible(b, a)


@pytest.mark.parametrize(("a", "b"), TWO_NAMES)
def test_two_names_are_not_one_persons(a: str, b: str) -> None:
    from dedupe.nicknames import same_person_names

    assert not same_person_names(a, b) and not same_person_names(b, a)


@pytest.mark.parametrize(
    ("a", "bridge", "b"),
    [
        ("christine", "chris", "christopher"),
        ("nicola", "nicky", "nicholas"),
        ("daniel", "dani", "danielle"),
        ("robert", "robbie", "roberta"),
        ("oliver", "ollie", "olivia"),
        ("joanne", "jo", "josephine"),
    ],
)
def test_same_person_names_is_not_transitive(a: str, bridge: str, b: str) -> None:
    from dedupe.nicknames import same_person_names

    assert same_person_names(a, bridge) and same_person_names(bridge, b)
    assert not same_person_names(a, b)
    assert nickname_group(a) == nickname_group(b)  # one blocking key: still compared


@pytest.mark.parametrize(("short", "formal"), SHORT_FORMS)
def test_a_short_form_is_a_nickname_of_each_name_it_stands_for(short: str, formal: str) -> None:
    from dedupe.compare_names import names_compatible
    from dedupe.levels import FirstName
    from dedupe.nicknames import formal_names, same_person_names

    assert same_person_names(short, formal) and same_person_names(formal, short)
    assert formal in formal_names(short)
    assert _level(short, formal) == _level(formal, short) == FirstName.NICKNAME
    assert names_compatible(short, formal)


def test_chris_stands_for_christopher_and_christine_but_tina_only_for_christine() -> None:
    from dedupe.nicknames import formal_names

    assert {"christopher", "christine"} <= set(formal_names("chris"))
    assert "christopher" not in formal_names("tina")
    assert formal_names("megan") == ("megan", "megan")  # itself, and its own line


@pytest.mark.parametrize(
    ("initial", "name", "want"),
    [
        ("o", "liv", "INITIAL"),  # Liv is Olivia's
        ("c", "kit", "INITIAL"),  # Kit is Christopher's
        ("m", "peggy", "INITIAL"),  # Peggy is Margaret's
        ("p", "megan", "DIFFERENT"),  # Peggy is another short form of Margaret, not Megan
        ("p", "meg", "DIFFERENT"),
        ("k", "liv", "DIFFERENT"),
    ],
)
def test_an_initial_is_a_formal_names_initial_never_another_short_forms(
    initial: str, name: str, want: str
) -> None:
    from dedupe.compare_names import names_compatible
    from dedupe.levels import FirstName

    assert _level(initial, name) == _level(name, initial) == FirstName[want]
    assert names_compatible(initial, name) == (want != "DIFFERENT")


@pytest.mark.parametrize(("a", "b"), GENDERED)
def test_a_names_other_gender_form_is_never_a_typo_or_short_form(a: str, b: str) -> None:
    from dedupe.compare_names import names_compatible
    from dedupe.levels import FirstName

    assert _level(a, b) == _level(b, a) == FirstName.DIFFERENT
    assert not names_compatible(a, b)


@pytest.mark.parametrize(
    ("a", "b", "rare_a"),
    [
        ("pual", "paul", True),  # a rare misspelling, 1 edit (swapped letters)
        ("rachael", "rachel", False),  # two real spellings 1 edit apart
        ("lindsay", "lindsey", False),
    ],
)
def test_one_edit_misspellings_and_variant_spellings_stay_typos(
    a: str, b: str, rare_a: bool
) -> None:
    from dedupe.compare_names import names_compatible
    from dedupe.levels import FirstName

    assert _level(a, b, rare_a=rare_a) == _level(b, a, rare_b=rare_a) == FirstName.TYPO
    assert names_compatible(a, b)


def _table_names() -> list[str]:
    from dedupe.nicknames import _FAMILIES

    return sorted(set(_FAMILIES.split()))


_NAME = st.one_of(
    st.sampled_from(_table_names()),
    st.text(alphabet="abcdeilnorst", min_size=1, max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(a=_NAME, b=_NAME)
def test_same_person_names_is_symmetric_reflexive_and_within_one_blocking_key(
    a: str, b: str
) -> None:
    from dedupe.nicknames import same_person_names

    assert same_person_names(a, a)
    assert same_person_names(a, b) == same_person_names(b, a)
    if same_person_names(a, b):  # blocking (the wider key) must put the pair up at all
        assert nickname_group(a) == nickname_group(b)


@settings(max_examples=200, deadline=None)
@given(a=_NAME, b=_NAME)
def test_first_name_level_does_not_depend_on_the_order(a: str, b: str) -> None:
    assert _level(a, b) == _level(b, a)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(_table_names()))
def test_formal_names_start_with_the_name_and_list_given_names_only(name: str) -> None:
    from dedupe.nicknames import _LINES, formal_names

    given_names = {line[0] for line in _LINES}
    first, *rest = formal_names(name)
    assert first == name
    assert rest and set(rest) <= given_names  # every table name stands on some line
