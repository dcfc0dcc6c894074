"""The comparison levels, by name: which field a level-matrix column holds, and what each
level of each field means, with the thresholds that decide it.

Why: the level matrix (pairs x fields, int8) is what compare produces, the model weighs,
the rules refuse and the review queue triages. Reading ``levels[:, 1] == 5`` one has to know
that column 1 is the first name and level 5 "different"; here that reads
``levels[:, Field.FIRST_NAME] == FirstName.DIFFERENT``. The enums are ints, so numpy takes
them as they are. Level 0 is always "one side is missing": no evidence either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType

import numpy as np


class Field(IntEnum):
    """Column of the level matrix."""

    NUMBER = 0
    FIRST_NAME = 1
    LAST_NAME = 2
    DATE_OF_BIRTH = 3
    EMAIL = 4
    PHONE = 5
    POSTCODE = 6
    ADDRESS = 7
    TOWN = 8
    SUFFIX = 9


class _Levels(IntEnum):
    """An IntEnum whose members also carry the label the report prints."""

    label: str

    def __new__(cls, value: int, label: str) -> _Levels:
        obj = int.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj


class Number(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    ONE_EDIT = 2, "1 edit apart"
    DIFFERENT = 3, "different"  # NUMBER_NEAR_EDITS + 1 or more edits apart: another number
    NEAR = 4, "2-3 edits apart"  # a number mistyped in two or three digits
    ADJACENT = 5, "1 edit apart and consecutive"  # a typo, or a family's numbers in a row


#: Number levels that agree: the same number, or one a single slip away (consecutive ones
#: included — which member of a family an initial is, they do not say).
NUMBER_AGREES = (Number.EXACT, Number.ONE_EDIT, Number.ADJACENT)

#: Membership numbers at most this many edits apart (Damerau-Levenshtein, also once leading
#: zeros are dropped) may be one number mistyped. Why 3: two random 7-digit numbers are that
#: close about once in a few hundred pairs, while a number copied by hand with two digits
#: wrong (or one lost and one wrong) is 2-3 edits from the original; on the held-out set
#: every pair of one person's numbers 2-3 edits apart was a typo, and 4+ apart were as
#: often two people as one.
NUMBER_NEAR_EDITS = 3


class FirstName(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    NICKNAME = 2, "nickname"
    TYPO = 3, "similar"
    INITIAL = 4, "initial"
    DIFFERENT = 5, "different"


class LastName(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    TYPO = 2, "similar"
    CONTAINS = 3, "contains"
    DIFFERENT = 4, "different"


class Dob(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    TYPO = 2, "day/month swapped or 1 digit"  # also 1 digit of the date written yymmdd
    SAME_YEAR = 3, "same year"
    DIFFERENT = 4, "different"
    STAND_IN = 5, "different, one is 1 January"  # a date put in for an unknown birthday


#: Month and day (mmdd) of the date systems put in when only the year, or nothing, was
#: known: a 1 January that disagrees with another date is no proof of two people.
STAND_IN_MMDD = 101


class Email(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    ONE_EDIT = 2, "1 edit apart"
    DIFFERENT = 3, "different"
    SHARED = 4, "same, in another's name"  # a household's mailbox naming someone else


class Phone(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"  # a mobile (or a number abroad): one person's
    LANDLINE = 2, "same landline"  # a household's: evidence of a home, not of a person
    DIFFERENT = 3, "different"


class Postcode(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    SECTOR = 2, "same sector"
    DISTRICT = 3, "same district"
    DIFFERENT = 4, "different"


class Address(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    SIMILAR = 2, "similar"
    HOUSE = 3, "same house number"
    DIFFERENT = 4, "different"


class Town(_Levels):
    MISSING = 0, "missing"
    EXACT = 1, "exact"
    DIFFERENT = 2, "different"


class Suffix(_Levels):
    NONE = 0, "none"
    SAME = 1, "same"
    ONE_SIDE = 2, "one side only"
    CONFLICT = 3, "conflict"


@dataclass(frozen=True)
class Comparison:
    """A field comparison: its column, its levels and the thresholds that decide them."""

    column: Field
    level_enum: type[_Levels]
    thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def name(self) -> str:
        return self.column.name.lower()

    @property
    def levels(self) -> tuple[str, ...]:
        """Label of each level (index = level)."""
        return tuple(m.label for m in self.level_enum)


def _t(**kw: float) -> Mapping[str, float]:
    return MappingProxyType(kw)


#: Jaro-Winkler at or above which two first names of 2+ letters are one name with a typo.
FIRST_NAME_TYPO_JW = 0.88
#: Jaro-Winkler at or above which two surnames are one name with a typo.
LAST_NAME_TYPO_JW = 0.9
#: A swapped first/last name: one side must agree this closely, the other at least loosely.
SWAP_CLOSE_JW = 0.9
SWAP_LOOSE_JW = 0.85
#: token_set_ratio (0-100) of two address keys: similar outright, or with the same house number.
ADDRESS_SIMILAR = 92.0
ADDRESS_SIMILAR_SAME_HOUSE = 85.0

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(Field.NUMBER, Number),
    Comparison(Field.FIRST_NAME, FirstName, _t(typo_jaro_winkler=FIRST_NAME_TYPO_JW)),
    Comparison(Field.LAST_NAME, LastName, _t(typo_jaro_winkler=LAST_NAME_TYPO_JW)),
    Comparison(Field.DATE_OF_BIRTH, Dob),
    Comparison(Field.EMAIL, Email),
    Comparison(Field.PHONE, Phone),
    Comparison(Field.POSTCODE, Postcode),
    Comparison(
        Field.ADDRESS,
        Address,
        _t(similar=ADDRESS_SIMILAR, similar_same_house=ADDRESS_SIMILAR_SAME_HOUSE),
    ),
    Comparison(Field.TOWN, Town),
    Comparison(Field.SUFFIX, Suffix),
)
NAMES = tuple(c.name for c in COMPARISONS)
assert all(c.column == k for k, c in enumerate(COMPARISONS))

#: Bits per level when a pair's levels are packed into one int64 (every field has < 8 levels).
LEVEL_BITS = 3
_SHIFTS = tuple(LEVEL_BITS * f for f in Field)


def pack_levels(levels: np.ndarray) -> np.ndarray:
    """Each row of a level matrix as one int64 (field k in bits 3k..3k+2): a 1-D key.

    Column by column: one (pairs x fields) int64 temporary would cost ~0.5 GB at 1M rows.
    """
    packed = np.zeros(len(levels), np.int64)
    for k in range(levels.shape[1]):
        packed |= levels[:, k].astype(np.int64) << np.int64(_SHIFTS[k])
    return packed


def unpack_levels(packed: np.ndarray) -> np.ndarray:
    """``pack_levels`` undone: the (n x fields) int8 level matrix."""
    shifts = np.asarray(_SHIFTS, np.int64)
    out: np.ndarray = ((packed[:, None] >> shifts) & ((1 << LEVEL_BITS) - 1)).astype(np.int8)
    return out
