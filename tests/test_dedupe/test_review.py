"""The review queue asks about the doubtful links, and only those (dedupe.review)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dedupe.cluster import Clustering
from dedupe.compare import COMPARISONS
from dedupe.levels import Dob, Email, FirstName, LastName, Number, Phone, Postcode, Suffix
from dedupe.reasons import Refusal
from dedupe.review import (
    BOTH_CONTACTS_DIFFER_BITS,
    NEAR_MISS_BITS,
    _categories,
    build_queue,
    weakly_attached,
)

# Level vectors: number, first, last, dob, email, phone, postcode, address, town, suffix.
NUM_FAR = Number.DIFFERENT


def _category(reason: Refusal, lv: np.ndarray, w: float, strong: float) -> str | None:
    """One refused pair's queue category (None: not asked)."""
    return str(_categories([reason], lv[None, :], np.array([w]), strong)[0]) or None


def _lv(**levels: int) -> np.ndarray:
    names = [c.name for c in COMPARISONS]
    out = np.zeros(len(names), np.int8)
    for name, value in levels.items():
        out[names.index(name)] = value
    return out


def test_number_conflict_with_initial_and_two_contacts_is_queued() -> None:
    lv = _lv(
        number=NUM_FAR,
        first_name=FirstName.INITIAL,
        last_name=LastName.EXACT,
        date_of_birth=Dob.EXACT,
        email=Email.EXACT,
        phone=Phone.EXACT,
    )
    assert _category(Refusal.NUMBERS_FAR, lv, 70.0, 26.0) == "number conflict"


def test_number_conflict_with_dob_conflict_is_not_queued() -> None:
    lv = _lv(
        number=NUM_FAR,
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        date_of_birth=Dob.DIFFERENT,
        email=Email.EXACT,
        phone=Phone.EXACT,
    )
    assert _category(Refusal.NUMBERS_FAR, lv, 70.0, 26.0) is None


def test_number_conflict_under_a_new_surname_needs_dob_and_two_contacts() -> None:
    renamed = _lv(
        number=NUM_FAR,
        first_name=FirstName.EXACT,
        last_name=LastName.DIFFERENT,
        date_of_birth=Dob.EXACT,
        email=Email.EXACT,
        phone=Phone.EXACT,
    )
    assert _category(Refusal.NUMBERS_FAR, renamed, 60.0, 26.0) == "number conflict"
    one_contact = _lv(
        number=NUM_FAR,
        first_name=FirstName.EXACT,
        last_name=LastName.DIFFERENT,
        date_of_birth=Dob.EXACT,
        email=Email.EXACT,
    )
    assert _category(Refusal.NUMBERS_FAR, one_contact, 40.0, 26.0) is None


def test_namesakes_sharing_only_a_postcode_are_not_queued() -> None:
    lv = _lv(
        number=NUM_FAR,
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        postcode=Postcode.EXACT,
    )
    assert _category(Refusal.NUMBERS_FAR, lv, 25.0, 26.0) is None


def test_jr_on_one_side_in_one_household_is_asked() -> None:
    lv = _lv(
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        email=Email.EXACT,
        phone=Phone.EXACT,
        postcode=Postcode.EXACT,
        suffix=Suffix.ONE_SIDE,
    )
    assert _category(Refusal.JR_ONE_SIDE, lv, 60.0, 26.0) == "name conflict"
    assert (
        _category(
            "Jr on one side only",
            _lv(first_name=FirstName.EXACT, last_name=LastName.EXACT, suffix=Suffix.ONE_SIDE),
            20,
            26,
        )
        is None
    )


def test_weakly_attached_needs_weak_links_only_and_contrary_evidence() -> None:
    # Records 0-1 strongly linked; record 2 tied to both by weak links (pairs 1 and 2).
    i = np.array([0, 0, 1])
    j = np.array([1, 2, 2])
    weight = np.array([40.0, 22.0, 23.0])
    accepted = np.ones(3, bool)
    contrary = np.array([False, True, True])
    assert weakly_attached(i, j, weight, accepted, contrary, 26.0) == [2]
    assert weakly_attached(i, j, weight, accepted, ~contrary, 26.0) == []
    strong = np.array([40.0, 22.0, 30.0])
    assert weakly_attached(i, j, strong, accepted, contrary, 26.0) == []


def _records(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_org": ["a"] * n,
            "row_id": np.arange(1, n + 1),
            "fingerprint": [f"{k:016x}" for k in range(n)],
            "title": [None] * n,
            "first_name": ["Ann"] * n,
            "middle_names": [None] * n,
            "last_name": ["Lee"] * n,
            "suffix": [""] * n,
            "number": [None] * n,
            "dob": np.zeros(n, np.int64),
            "email": [None] * n,
            "phone": [None] * n,
            "postcode": ["LS1 1AA"] * n,
            "address": [None] * n,
        }
    )


def _queue(
    weight: float, threshold: float = 20.0, levels: np.ndarray | None = None
) -> pd.DataFrame:
    r = _records(2)
    i, j = np.array([0]), np.array([1])
    levels = (
        _lv(first_name=FirstName.EXACT, last_name=LastName.EXACT, postcode=Postcode.EXACT)[None, :]
        if levels is None
        else levels
    )
    return build_queue(
        r,
        np.array(["P1", "P2"], dtype=object),
        Clustering(labels=np.array([0, 1])),
        i,
        j,
        levels,
        np.array([weight]),
        np.zeros((len(COMPARISONS), 6)),
        np.array([""], dtype=object),
        threshold,
        26.0,
        {},
    )


def test_near_miss_is_queued_and_a_clear_non_match_is_not() -> None:
    near = _queue(20.0 - NEAR_MISS_BITS / 2)
    assert list(near["category"]) == ["near miss"]
    assert list(near["proposed_decision"]) == ["different"]
    assert _queue(20.0 - NEAR_MISS_BITS - 0.5).empty


def test_near_miss_of_namesakes_is_not_asked() -> None:
    """Same first name and birthday, different surname, nothing personal shared: strangers."""
    strangers = _lv(
        first_name=FirstName.EXACT,
        last_name=LastName.DIFFERENT,
        date_of_birth=Dob.EXACT,
        email=Email.DIFFERENT,
        postcode=Postcode.DIFFERENT,
    )[None, :]
    assert _queue(19.5, levels=strangers).empty
    renamed = _lv(
        first_name=FirstName.EXACT,
        last_name=LastName.DIFFERENT,
        date_of_birth=Dob.EXACT,
        email=Email.EXACT,
        postcode=Postcode.DIFFERENT,
    )[None, :]
    assert list(_queue(19.5, levels=renamed)["category"]) == ["near miss"]


def _one_person_queue(weight: float, levels: np.ndarray) -> pd.DataFrame:
    return build_queue(
        _records(2),
        np.array(["P1", "P1"], dtype=object),
        Clustering(labels=np.array([0, 0]), merges=[(0, 0, 1, "model")]),
        np.array([0]),
        np.array([1]),
        levels[None, :],
        np.array([weight]),
        np.zeros((len(COMPARISONS), 6)),
        np.array([""], dtype=object),
        20.0,
        26.0,
        {},
    )


def test_merge_whose_email_and_phone_both_differ_needs_a_stronger_link() -> None:
    """Namesakes at one postcode: same full name, both contacts different."""
    both = _lv(
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        email=Email.DIFFERENT,
        phone=Phone.DIFFERENT,
        postcode=Postcode.EXACT,
    )
    asked = _one_person_queue(30.0, both)
    assert list(asked["category"]) == ["weak link"]
    assert list(asked["proposed_decision"]) == ["same"]
    assert _one_person_queue(26.0 + BOTH_CONTACTS_DIFFER_BITS + 1, both).empty
    only_email = _lv(
        first_name=FirstName.EXACT,
        last_name=LastName.EXACT,
        email=Email.DIFFERENT,
        postcode=Postcode.EXACT,
    )
    assert _one_person_queue(30.0, only_email).empty
