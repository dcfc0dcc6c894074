"""Candidates: read ``candidates.csv``, find every problem at once, and fix the ballot paper.

Why a pure core: the scrutineer must be able to see *all* nomination problems in one pass (a
candidate fixed one at a time misses the close of nominations), and the ballot-paper order must be
reproducible by anyone from the published seed (a keyed hash, never the ``random`` module).
Nothing here reads or writes files; ``candidates_cli`` does.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "name",
    "membership_number",
    "organisation",
    "bio",
    "nominations",
    "gender",
)
REQUIRED_COLUMNS: tuple[str, ...] = CANDIDATE_COLUMNS[:5]
BALLOT_DEF_FORMAT_VERSION = "omov.ballot-definition/1"
ORDER_CHOICES: tuple[str, ...] = ("alphabetical", "random")
_ORDER_CONTEXT = b"omov/v1/ballot-order"
_MEMBERSHIP_PREFIX = re.compile(r"^(LP-?|L)", re.IGNORECASE)
_WORD = re.compile(r"\S+")
_HEADER_JUNK = re.compile(r"[^0-9a-z]+")
#: Header spellings seen in hand-made candidate sheets, after ``header_key`` (lower case, runs of
#: anything but letters and digits as one ``_``).
HEADER_ALIASES: dict[str, str] = {
    "candidate": "name",
    "candidate_name": "name",
    "full_name": "name",
    "membership_no": "membership_number",
    "membership": "membership_number",
    "member_number": "membership_number",
    "member_no": "membership_number",
    "labour_membership_number": "membership_number",
    "labour_number": "membership_number",
    "organization": "organisation",
    "org": "organisation",
    "biography": "bio",
    "statement": "bio",
    "nomination": "nominations",
    "nominated_by": "nominations",
    "gender_self_description": "gender",
}


@dataclass(frozen=True)
class Candidate:
    """One row of candidates.csv, as given (``line`` is the 1-based file line, header = 1)."""

    line: int
    name: str
    membership_number_raw: str
    membership_number: str | None
    organisation: str
    bio: str
    nominations: tuple[str, ...]
    gender: str = ""

    @property
    def bio_words(self) -> int:
        return count_words(self.bio)


@dataclass(frozen=True)
class Problem:
    """One thing a person must fix before the ballot can be printed."""

    path: str
    line: int
    code: str
    message: str
    candidate: str = ""

    def render(self) -> str:
        who = f" ({self.candidate})" if self.candidate else ""
        return f"{self.path}:{self.line}: {self.code}{who}: {self.message}"


@dataclass(frozen=True)
class RollEntry:
    """What the merged roll says about one membership number: eligibility and the name it is
    held under (to catch a candidate paired with somebody else's number)."""

    eligible: bool
    reason: str = ""
    name: str = ""


#: Key under which ``roll`` may list name keys of roll entries that have *no* membership number,
#: so a candidate missing by number can be told why (usually a merge still awaiting the auditor).
UNNUMBERED_PREFIX = "name:"


@dataclass(frozen=True)
class BallotCandidate:
    """One name on the ballot paper."""

    ballot_number: int
    name: str
    organisation: str
    gender: str = ""


@dataclass(frozen=True)
class BallotDefinition:
    """What intake and the count need to read a returned paper: who is in which position."""

    election_id: str
    seats: int
    title: str
    order: str
    candidates: tuple[BallotCandidate, ...]
    candidates_sha256: str = ""
    seed_sha256: str = ""
    format_version: str = BALLOT_DEF_FORMAT_VERSION
    dropped: tuple[str, ...] = field(default_factory=tuple)

    def names(self) -> list[str]:
        return [c.name for c in self.candidates]


_ProblemMaker = Callable[[str, str], Problem]


def count_words(text: str) -> int:
    """Words as a reader counts them: runs of non-space characters."""
    return len(_WORD.findall(text))


def normalise_membership_number(text: str) -> str | None:
    """Labour membership number as the merged roll keys it: 7 digits, or None if not one.

    Accepts ``L1234567``, ``LP-1234567``, ``0001234567``, ``123 4567``: the prefix and spaces go,
    zero padding is removed down to (or added up to) 7 digits.
    """
    compact = re.sub(r"[\s]", "", text or "")
    compact = _MEMBERSHIP_PREFIX.sub("", compact)
    if not compact.isdigit() or not compact.isascii():
        return None
    stripped = compact.lstrip("0")
    if len(stripped) > 7:
        return None
    return stripped.zfill(7)


def name_key(name: str) -> str:
    """Case-, accent- and spacing-insensitive key, so 'Zoë  Smith' duplicates 'zoe smith'."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def split_nominations(text: str) -> tuple[str, ...]:
    """``;``-separated nominating bodies, blanks dropped (``'A; ;B'`` is two nominations)."""
    return tuple(part.strip() for part in (text or "").split(";") if part.strip())


def header_key(header: str) -> str:
    """A header as omov matches it: case, spacing and punctuation ignored, aliases applied
    (``Membership No.`` and ``membership_number`` are the same column)."""
    key = _HEADER_JUNK.sub("_", unicodedata.normalize("NFKC", header).casefold()).strip("_")
    return HEADER_ALIASES.get(key, key)


def sniff_delimiter(text: str) -> str:
    """``,`` unless the header line is plainly split by ``;`` or a TAB instead."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def read_candidates(text: str, path: str) -> tuple[list[Candidate], list[Problem]]:
    """Parse candidates.csv text; a missing column is one problem at line 1, not a crash.

    Headers are matched as leniently as member exports (case, spaces, punctuation, common
    aliases), and a file split by ``;`` or TAB is read as such."""
    reader = csv.DictReader(io.StringIO(text), delimiter=sniff_delimiter(text))
    header = [header_key(h) for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [
            Problem(
                path,
                1,
                "missing_columns",
                f"missing column(s): {', '.join(missing)}; "
                f"expected header {','.join(CANDIDATE_COLUMNS)}",
            )
        ]
    reader.fieldnames = header
    candidates: list[Candidate] = []
    problems: list[Problem] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(
                Problem(
                    path,
                    line,
                    "malformed_row",
                    "more fields than columns (quote a bio that contains commas)",
                    str(row.get("name") or ""),
                )
            )
            continue
        candidates.append(_candidate(row, line))
    return candidates, problems


def _candidate(row: Mapping[str, str | None], line: int) -> Candidate:
    raw_number = (row.get("membership_number") or "").strip()
    return Candidate(
        line=line,
        name=" ".join((row.get("name") or "").split()),
        membership_number_raw=raw_number,
        membership_number=normalise_membership_number(raw_number),
        organisation=(row.get("organisation") or "").strip(),
        bio=(row.get("bio") or "").strip(),
        nominations=split_nominations(row.get("nominations") or ""),
        gender=(row.get("gender") or "").strip(),
    )


def validate_candidates(
    candidates: Sequence[Candidate],
    roll: Mapping[str, RollEntry],
    path: str,
    bio_word_limit: int = 150,
) -> list[Problem]:
    """Every problem with every candidate, in file order (never stops at the first)."""
    problems: list[Problem] = []
    seen_numbers: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for cand in candidates:
        problems.extend(_row_problems(cand, roll, path, bio_word_limit))
        problems.extend(_duplicate_problems(cand, seen_numbers, seen_names, path))
    return problems


def _row_problems(
    cand: Candidate, roll: Mapping[str, RollEntry], path: str, limit: int
) -> Iterable[Problem]:
    def problem(code: str, message: str) -> Problem:
        return Problem(path, cand.line, code, message, cand.name)

    if not cand.name:
        yield problem("no_name", "the candidate has no name")
    if not cand.nominations:
        yield problem(
            "no_nomination",
            "no nomination: at least one branch, local group or "
            "organisation's executive must nominate the candidate",
        )
    if cand.bio_words > limit:
        yield problem("bio_too_long", f"bio has {cand.bio_words} words; the limit is {limit}")
    yield from _roll_problems(cand, roll, problem)


def _roll_problems(
    cand: Candidate, roll: Mapping[str, RollEntry], problem: _ProblemMaker
) -> Iterable[Problem]:
    if cand.membership_number is None:
        shown = cand.membership_number_raw or "(empty)"
        yield problem(
            "bad_membership_number",
            f"membership number {shown!r} is not a Labour "
            "membership number (7 digits, optionally L/LP- prefixed)",
        )
        return
    entry = roll.get(cand.membership_number)
    if entry is None:
        hint = ""
        if UNNUMBERED_PREFIX + name_key(cand.name) in roll:
            hint = (
                "; a member of this name is on the roll without a membership number (a "
                "merge awaiting the auditor's decision?)"
            )
        yield problem(
            "not_on_roll",
            f"membership number {cand.membership_number} is not on the merged roll{hint}",
        )
    elif not entry.eligible:
        why = f": {entry.reason}" if entry.reason else ""
        yield problem(
            "not_eligible",
            f"membership number {cand.membership_number} is on the "
            f"merged roll but not eligible{why}",
        )
    if entry is not None and entry.name and cand.name and not names_agree(cand.name, entry.name):
        yield problem(
            "name_mismatch",
            f"membership number {cand.membership_number} belongs to {entry.name!r} on the merged "
            "roll, not to this candidate: check the number (or the name, if it has changed)",
        )


def _name_parts(name: str) -> list[str]:
    """Name words, with leading titles (Dr, Cllr, Rev, …: nameparser's list, plus ``cllr``) off."""
    from nameparser.config import CONSTANTS

    parts = [p for p in re.split(r"[\W_]+", name_key(name)) if p]
    while len(parts) > 2 and (parts[0] in CONSTANTS.titles or parts[0] == "cllr"):
        parts.pop(0)
    return parts


def names_agree(candidate: str, on_roll: str) -> bool:
    """Could ``candidate`` be the member the roll lists as ``on_roll``?

    Lenient on purpose (the check is for a number paired with somebody else, not for spelling):
    some surname part must be shared, and the first given names must agree by initial or be
    variants of one name (Bob / Robert, per dedupe's nickname families). "Ann Able" for a
    number held by "Bob Baker" is caught; "Annie Able-Smith" for "Ann Smith" is not.
    """
    from dedupe.nicknames import nickname_group

    cand, roll = _name_parts(candidate), _name_parts(on_roll)
    if not cand or not roll:
        return True
    if not set(cand[1:] or cand) & set(roll[1:] or roll):
        return False
    a, b = cand[0], roll[0]
    return a[0] == b[0] or nickname_group(a) == nickname_group(b)


def _duplicate_problems(
    cand: Candidate, seen_numbers: dict[str, int], seen_names: dict[str, int], path: str
) -> Iterable[Problem]:
    number, key = cand.membership_number, name_key(cand.name)
    if number is not None and number in seen_numbers:
        yield Problem(
            path,
            cand.line,
            "duplicate_candidate",
            f"membership number {number} is already a candidate at line {seen_numbers[number]}",
            cand.name,
        )
    elif key and key in seen_names:
        yield Problem(
            path,
            cand.line,
            "duplicate_candidate",
            f"the name is already a candidate at line {seen_names[key]}",
            cand.name,
        )
    if number is not None:
        seen_numbers.setdefault(number, cand.line)
    if key:
        seen_names.setdefault(key, cand.line)


def order_key(seed: str, cand: Candidate) -> bytes:
    """Keyed hash that places a candidate: anyone with the seed can re-derive the order."""
    message = b"\x00".join(
        [
            _ORDER_CONTEXT,
            name_key(cand.name).encode(),
            (cand.membership_number or cand.membership_number_raw).encode(),
        ]
    )
    return hmac.new(seed.encode("utf-8"), message, hashlib.sha256).digest()


def ballot_order(candidates: Sequence[Candidate], order: str, seed: str | None) -> list[Candidate]:
    """Ballot-paper order: alphabetical by surname-insensitive full name, or seeded-random."""
    if order == "alphabetical":
        return sorted(candidates, key=lambda c: (name_key(c.name), c.line))
    if order == "random":
        if not seed:
            raise ValueError("a random ballot order needs a seed (publish it with the result)")
        return sorted(candidates, key=lambda c: (order_key(seed, c), c.line))
    raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDER_CHOICES)}")


def build_ballot_definition(
    candidates: Sequence[Candidate],
    *,
    election_id: str,
    seats: int,
    title: str,
    order: str,
    seed: str | None,
    candidates_sha256: str = "",
    dropped: Sequence[str] = (),
) -> BallotDefinition:
    """The ballot definition: candidates in paper order numbered from 1."""
    placed = ballot_order(candidates, order, seed)
    return BallotDefinition(
        election_id=election_id,
        seats=seats,
        title=title,
        order=order,
        candidates=tuple(
            BallotCandidate(i, c.name, c.organisation, c.gender)
            for i, c in enumerate(placed, start=1)
        ),
        candidates_sha256=candidates_sha256,
        seed_sha256=hashlib.sha256(seed.encode()).hexdigest() if seed and order == "random" else "",
        dropped=tuple(dropped),
    )


def ballot_definition_to_dict(ballot: BallotDefinition) -> dict[str, object]:
    """JSON-ready form (see docs/formats-intake.md, "Ballot definition")."""
    return {
        "format_version": ballot.format_version,
        "election_id": ballot.election_id,
        "title": ballot.title,
        "seats": ballot.seats,
        "order": ballot.order,
        "seed_sha256": ballot.seed_sha256,
        "candidates_sha256": ballot.candidates_sha256,
        "dropped": list(ballot.dropped),
        "candidates": [
            {
                "ballot_number": c.ballot_number,
                "name": c.name,
                "organisation": c.organisation,
                "gender": c.gender,
            }
            for c in ballot.candidates
        ],
    }


def ballot_definition_from_dict(data: Mapping[str, object]) -> BallotDefinition:
    """Read a ballot definition back; raises ValueError naming what is wrong."""
    if data.get("format_version") != BALLOT_DEF_FORMAT_VERSION:
        raise ValueError(
            f"format_version {data.get('format_version')!r} is not {BALLOT_DEF_FORMAT_VERSION!r}"
        )
    raw = data.get("candidates")
    if not isinstance(raw, list) or not raw:
        raise ValueError("no candidates")
    cands = tuple(
        BallotCandidate(
            int(c["ballot_number"]),
            str(c["name"]),
            str(c.get("organisation", "")),
            str(c.get("gender", "")),
        )
        for c in raw
    )
    if [c.ballot_number for c in cands] != list(range(1, len(cands) + 1)):
        raise ValueError("ballot numbers must run 1, 2, 3 … in list order")
    seats = data.get("seats")
    if not isinstance(seats, int) or seats < 1:
        raise ValueError(f"seats {seats!r} is not a positive whole number")
    return BallotDefinition(
        election_id=str(data.get("election_id", "")),
        seats=seats,
        title=str(data.get("title", "")),
        order=str(data.get("order", "")),
        candidates=cands,
        candidates_sha256=str(data.get("candidates_sha256", "")),
        seed_sha256=str(data.get("seed_sha256", "")),
        dropped=tuple(str(x) for x in _as_list(data.get("dropped"))),
    )


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def pack_rows(candidates: Sequence[Candidate], ballot: BallotDefinition) -> list[dict[str, str]]:
    """Rows of the candidates' pack, in ballot-paper order (no membership numbers: not needed)."""
    by_name = {c.name: c for c in candidates}
    rows = []
    for bc in ballot.candidates:
        cand = by_name[bc.name]
        rows.append(
            {
                "ballot_number": str(bc.ballot_number),
                "name": cand.name,
                "organisation": cand.organisation,
                "gender": cand.gender,
                "nominations": "; ".join(cand.nominations),
                "bio": cand.bio,
            }
        )
    return rows
