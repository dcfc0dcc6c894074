"""Find a person's ``person_id`` for the helpline: by name, email or membership number.

The helpline hears "I am Jo Bloggs, my number is 0012345, my letter never came"; ``reissue`` and
``revoke`` need the person id. This reads ``members.parquet`` (pandas + pyarrow, only the columns
it shows) and returns every candidate, never a guess: *exact* matches (same normalised value)
and, separately, *near* ones (rapidfuzz: names by ``token_sort_ratio`` so "Bloggs, Jo" finds
"Jo Bloggs"; emails by ``ratio``; membership numbers within one edit). The caller decides; the
CLI exits 0 only when exactly one exact match was found, otherwise 3 (a person must choose).

Output holds personal data: it is for the scrutineer's terminal only (and a file written 0600).
Ineligible persons are listed too, marked, because "why did I get no ballot?" is a helpline
question as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from omov.errors import InputError, UsageError

#: Columns shown for each candidate (those present in the file).
SHOWN = (
    "person_id",
    "full_name",
    "email",
    "membership_number",
    "organisations",
    "postcode",
    "eligible",
)
NEAR_NAME_SCORE = 80.0
NEAR_EMAIL_SCORE = 90.0
MAX_NEAR = 10


class Field(StrEnum):
    """What the query is."""

    AUTO = "auto"
    NAME = "name"
    EMAIL = "email"
    NUMBER = "number"
    PERSON_ID = "person-id"


@dataclass(frozen=True)
class Candidate:
    """One person who might be the caller; ``score`` 100 for exact matches."""

    row: dict[str, str]
    score: float


@dataclass(frozen=True)
class LookupResult:
    query: str
    by: Field
    exact: list[Candidate]
    near: list[Candidate]

    def all_rows(self) -> list[dict[str, str]]:
        return [c.row for c in self.exact + self.near]

    @property
    def unique(self) -> bool:
        """Exactly one exact match: the only case that needs no human choice."""
        return len(self.exact) == 1


def _norm_name(text: str) -> str:
    """Case, accents, punctuation and spacing do not matter; word order is kept."""
    letters = re.sub(r"[^a-z0-9 ]+", " ", anyascii(text).casefold())
    return " ".join(letters.split())


def _sorted_words(text: str) -> str:
    return " ".join(sorted(_norm_name(text).split()))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def guess_field(query: str) -> Field:
    q = query.strip()
    if "@" in q:
        return Field.EMAIL
    if re.fullmatch(r"[Pp]\d+", q):
        return Field.PERSON_ID
    if re.fullmatch(r"[\d\s-]+", q):
        return Field.NUMBER
    return Field.NAME


def _read(members: Path) -> pd.DataFrame:
    try:
        names = pq.ParquetFile(members).schema_arrow.names
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read members file ({exc})", path=str(members)) from None
    if "person_id" not in names or "full_name" not in names:
        raise InputError(
            "members file has no person_id/full_name column",
            path=str(members),
            fix="give the members.parquet written by `omov dedupe run`",
        )
    frame = pd.read_parquet(members, columns=[c for c in SHOWN if c in names])
    return frame.astype("string").fillna("")


def _candidates(frame: pd.DataFrame, index: list[int], scores: list[float]) -> list[Candidate]:
    rows = frame.iloc[index].to_dict("records")
    return [
        Candidate({str(k): str(v) for k, v in r.items()}, float(s))
        for r, s in zip(rows, scores, strict=True)
    ]


#: (one key per row, the query's key, near matches as (row, score))
_Keys = tuple[list[str], str, list[tuple[int, float]]]


def _by_person_id(frame: pd.DataFrame, query: str) -> _Keys:
    return frame["person_id"].str.strip().str.upper().tolist(), query.strip().upper(), []


def _by_email(frame: pd.DataFrame, query: str) -> _Keys:
    keys = frame["email"].str.strip().str.casefold().tolist() if "email" in frame else []
    want = query.strip().casefold()
    hits = process.extract(
        want, keys, scorer=fuzz.ratio, limit=MAX_NEAR + 5, score_cutoff=NEAR_EMAIL_SCORE
    )
    return keys, want, [(i, float(s)) for _, s, i in hits]


def _by_number(frame: pd.DataFrame, query: str) -> _Keys:
    if "membership_number" not in frame:
        raise InputError("members file has no membership_number column")
    keys = [_digits(k).lstrip("0") for k in frame["membership_number"].tolist()]
    want = _digits(query).lstrip("0")
    if not want:
        raise UsageError(f"{query!r} holds no digits of a membership number")
    near = [(i, 90.0) for i, k in enumerate(keys) if k and Levenshtein.distance(want, k) == 1]
    return keys, want, near


def _by_name(frame: pd.DataFrame, query: str) -> _Keys:
    keys = [_sorted_words(n) for n in frame["full_name"].tolist()]
    want = _sorted_words(query)
    hits = process.extract(
        want, keys, scorer=fuzz.token_sort_ratio, limit=MAX_NEAR + 5, score_cutoff=NEAR_NAME_SCORE
    )
    return keys, want, [(i, float(s)) for _, s, i in hits]


_MATCHERS = {
    Field.PERSON_ID: _by_person_id,
    Field.EMAIL: _by_email,
    Field.NUMBER: _by_number,
    Field.NAME: _by_name,
}


def lookup(members: Path, query: str, by: Field = Field.AUTO) -> LookupResult:
    """Every person matching ``query`` exactly, and the nearest others (module docstring)."""
    if not query.strip():
        raise UsageError("give a name, an email or a membership number to look up")
    field = guess_field(query) if by is Field.AUTO else by
    frame = _read(members)
    keys, want, near = _MATCHERS[field](frame, query)
    exact_idx = [i for i, k in enumerate(keys) if want and k == want]
    taken = set(exact_idx)
    near = sorted(((i, s) for i, s in near if i not in taken), key=lambda p: (-p[1], p[0]))
    near = near[:MAX_NEAR]
    return LookupResult(
        query,
        field,
        _candidates(frame, exact_idx, [100.0] * len(exact_idx)),
        _candidates(frame, [i for i, _ in near], [s for _, s in near]),
    )
