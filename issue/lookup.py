"""Find a person's ``person_id`` for the helpline: by name, email or membership number.

The helpline hears "I am Jo Bloggs, my number is 0012345, my letter never came"; ``reissue`` and
``revoke`` need the person id. This reads ``members.parquet`` (pyarrow, only the columns it
shows) and returns every candidate, never a guess: *exact* matches (same normalised value) and,
separately, *near* ones (rapidfuzz: names by ``token_sort_ratio`` so "Bloggs, Jo" finds
"Jo Bloggs"; emails by ``ratio``; membership numbers within one edit). The caller decides; the
CLI exits 0 only when exactly one exact match was found, otherwise 3 (a person must choose).

Output holds personal data: it is for the scrutineer's terminal only (and a file written 0600).
Ineligible persons are listed too, marked, because "why did I get no ballot?" is a helpline
question as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from issue.lookup_field import Field
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


def _read(members: Path) -> pa.Table:
    """The shown columns (those present), read with pyarrow; rows become Python only when shown."""
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
    return pq.read_table(members, columns=[c for c in SHOWN if c in names])


def _texts(table: pa.Table, column: str) -> list[str]:
    """A column as Python strings, "" for null (only the column the query needs)."""
    if column not in table.column_names:
        return [""] * table.num_rows
    values = pc.fill_null(pc.cast(table.column(column), pa.string()), "")
    return [str(v) for v in values.to_pylist()]


def _candidates(table: pa.Table, index: list[int], scores: list[float]) -> list[Candidate]:
    rows = table.take(pa.array(index, pa.int64())).to_pylist() if index else []
    return [
        Candidate({k: "" if v is None else str(v) for k, v in r.items()}, float(s))
        for r, s in zip(rows, scores, strict=True)
    ]


#: (one key per row, the query's key, near matches as (row, score))
_Keys = tuple[list[str], str, list[tuple[int, float]]]


def _by_person_id(table: pa.Table, query: str) -> _Keys:
    return [k.strip().upper() for k in _texts(table, "person_id")], query.strip().upper(), []


def _by_email(table: pa.Table, query: str) -> _Keys:
    keys = [k.strip().casefold() for k in _texts(table, "email")]
    want = query.strip().casefold()
    hits = process.extract(
        want, keys, scorer=fuzz.ratio, limit=MAX_NEAR + 5, score_cutoff=NEAR_EMAIL_SCORE
    )
    return keys, want, [(i, float(sc)) for _, sc, i in hits]


def _by_number(table: pa.Table, query: str) -> _Keys:
    if "membership_number" not in table.column_names:
        raise InputError("members file has no membership_number column")
    digits = pc.replace_substring_regex(
        pc.fill_null(pc.cast(table.column("membership_number"), pa.string()), ""), r"\D", ""
    )
    keys = [str(k) for k in pc.utf8_ltrim(digits, "0").to_pylist()]
    want = _digits(query).lstrip("0")
    if not want:
        raise UsageError(f"{query!r} holds no digits of a membership number")
    hits = process.extract(
        want, keys, scorer=Levenshtein.distance, score_cutoff=1, limit=MAX_NEAR + 5
    )
    return keys, want, [(i, 90.0) for k, d, i in hits if d == 1 and k]


def _by_name(table: pa.Table, query: str) -> _Keys:
    # Normalise each distinct name once (a roll repeats common names many times).
    names = pc.fill_null(table.column("full_name").combine_chunks(), "")
    encoded = names.dictionary_encode()
    normal = [_sorted_words(str(n)) for n in encoded.dictionary.to_pylist()]
    keys = [normal[c] for c in encoded.indices.to_pylist()]
    want = _sorted_words(query)
    hits = process.extract(
        want, keys, scorer=fuzz.token_sort_ratio, limit=MAX_NEAR + 5, score_cutoff=NEAR_NAME_SCORE
    )
    return keys, want, [(i, float(sc)) for _, sc, i in hits]


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
    table = _read(members)
    keys, want, near = _MATCHERS[field](table, query)
    exact_idx = [i for i, k in enumerate(keys) if want and k == want]
    taken = set(exact_idx)
    near = sorted(((i, s) for i, s in near if i not in taken), key=lambda p: (-p[1], p[0]))
    near = near[:MAX_NEAR]
    return LookupResult(
        query,
        field,
        _candidates(table, exact_idx, [100.0] * len(exact_idx)),
        _candidates(table, [i for i, _ in near], [s for _, s in near]),
    )
