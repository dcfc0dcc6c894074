"""Which column of an export is which canonical field, and how sure omov is of it.

Why its own module: a header no alias knows is the commonest reason a data officer's export
fails, and a wrong guess (an id column read as a first name) costs ballots in silence. Every
column's field comes with *how* it was found (alias, abbreviation, close spelling, its values,
the mapping file) so the CLI can say it on screen; when no name column can be found, the error
proposes a mapping built from what the columns hold, never an id or number column as a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein

from dedupe.schema import (
    ALIAS_INDEX,
    CANONICAL_FIELDS,
    COALESCE_FIELDS,
    IGNORE,
    MULTI_COLUMN_FIELDS,
    expand_abbreviations,
    header_key,
    lookup_header,
)
from omov.errors import InputError

MAPPING_EXAMPLE = (
    "write a mapping file (CSV with columns file,header,field; file may be blank for 'any file'),"
    " e.g.\n      file,header,field\n      ,{header},first_name\n    and pass --mapping FILE."
    " Fields: " + ", ".join(CANONICAL_FIELDS) + ", or 'ignore'"
)
NO_NAME = "no name column found"

#: Words shorter than this are never matched by spelling ("No", "ID", "Ref", "Tel").
FUZZY_MIN_LENGTH = 5
#: Share of a column's non-empty sample cells that must look like membership numbers.
VALUE_SHARE = 0.8
#: Data rows looked at to judge what a column holds.
SAMPLE_ROWS = 200

_ALIAS_KEYS = list(ALIAS_INDEX)
_MEMBERSHIP_VALUE = re.compile(r"^(?:l|lp)?[\s-]*\d(?:[\s-]?\d){5,8}(?:\.0)?$", re.IGNORECASE)
_INITIALS_VALUE = re.compile(r"^(?:[A-Za-z]\.?\s*){1,4}$")
_WORD_VALUE = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")
_EMAIL_VALUE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
#: Header words that say "an identifier, never a name".
_ID_WORDS = frozenset({"id", "number", "ref", "reference", "code", "urn", "key", "membership"})
_MEMBERSHIP_HINTS = ("membership", "lp", "labour", "party")


class How(StrEnum):
    """How a column's field was decided (said on screen, per column)."""

    ALIAS = "alias"
    MAPPING = "mapping file"
    ABBREVIATION = "abbreviation"
    SPELLING = "close spelling"
    VALUES = "its values"
    QUALIFIED = "its words after a qualifying first word"


class Level(StrEnum):
    """A notice either informs, or asks a person to act (then the run exits 3)."""

    INFO = "info"
    WARN = "warning"


@dataclass(frozen=True)
class Notice:
    """Something about a whole file (not one row) that the data officer should read."""

    level: Level
    text: str
    field: str = "header"


@dataclass(frozen=True)
class Column:
    """One header and the field it was taken as (None: not read)."""

    index: int
    header: str
    field: str | None
    how: How | None


def recognise(header: str, sample: list[str] | None = None) -> tuple[str | None, How | None]:
    """The field a header means and how that was decided; (None, None) if nothing fits."""
    field = lookup_header(header)
    key = header_key(header)
    if field is not None:
        if key == "number" and field != "membership_number":
            return _bare_number(sample)
        if field == "org_member_id" and "membership" in key.split() and _labour_numbers(sample):
            return "membership_number", How.VALUES  # "Membership ID": L1234567, L7654321, …
        return field, How.ALIAS
    if key == "number":  # "No.", "#", "Number" alone: the values decide
        return _bare_number(sample)
    if key == "member":  # "Member" alone: a name (words) or an id
        return ("full_name" if _kind(sample or []) == "words" else "org_member_id"), How.VALUES
    spelled = expand_abbreviations(key)
    if spelled != key and (field := lookup_header(spelled)) is not None:
        return field, How.ABBREVIATION
    if (field := _close_spelling(spelled)) is not None:
        return field, How.SPELLING
    # A qualifying first word: "Member Surname", "Contact Email", "Primary Phone".
    words = spelled.split()
    if len(words) > 1 and words[0] in QUALIFIER_WORDS:
        field, how = recognise(" ".join(words[1:]), sample)
        # Never a whole name: "Preferred name" is what a member goes by, not their name.
        if field is not None and field not in ("org_member_id", "full_name"):
            return field, How.QUALIFIED if how == How.ALIAS else how
    return None, None


#: First words that only say whose or which value a column holds ("Member Surname").
QUALIFIER_WORDS = frozenset(
    {"member", "members", "contact", "person", "primary", "main", "preferred", "current"}
)
_LABOUR_NUMBER = re.compile(r"^\s*lp?[\s-]*\d(?:[\s-]?\d){5,8}\s*$", re.IGNORECASE)


def _labour_numbers(sample: list[str] | None) -> bool:
    """Most cells are Labour membership numbers written with their L (L1234567)."""
    return _mostly(sample or [], _LABOUR_NUMBER)


def _mostly(values: list[str], pattern: re.Pattern[str]) -> bool:
    """At least VALUE_SHARE of the non-empty cells (stripped) match ``pattern``."""
    cells = [v.strip() for v in values if v.strip()]
    hits = sum(1 for v in cells if pattern.match(v))
    return bool(cells) and hits >= VALUE_SHARE * len(cells)


def _bare_number(sample: list[str] | None) -> tuple[str | None, How | None]:
    """A column headed only "No." / "#": membership numbers if its cells look like them."""
    if sample and looks_like_membership_numbers(sample):
        return "membership_number", How.VALUES
    return "org_member_id", How.VALUES


def _close_spelling(key: str) -> str | None:
    """The one field with an alias that ``key`` is a typo of, word by word, else None.

    Each word must equal the alias's word or be a typo of it: one edit (a transposition is
    one) in a word of 5-7 letters, two in a longer one. Short words and numbers must match
    exactly, so "Contact pref", "Mobile 2" or "Membership start" are not guessed at.
    """
    words = key.split()
    fields = {
        ALIAS_INDEX[alias]
        for alias in _ALIAS_KEYS
        if len(alias_words := alias.split()) == len(words)
        and all(_typo_of(w, a) for w, a in zip(words, alias_words, strict=True))
    }
    return fields.pop() if len(fields) == 1 else None


def _typo_of(word: str, alias_word: str) -> bool:
    if word == alias_word:
        return True
    if len(word) < FUZZY_MIN_LENGTH or len(alias_word) < FUZZY_MIN_LENGTH or word.isdigit():
        return False
    allowed = 1 if len(alias_word) < 8 else 2
    return bool(DamerauLevenshtein.distance(word, alias_word, score_cutoff=allowed) <= allowed)


def looks_like_membership_numbers(values: list[str]) -> bool:
    """Most non-empty cells are 6-9 digits, perhaps with an L / LP prefix."""
    return _mostly(values, _MEMBERSHIP_VALUE)


def _kind(values: list[str]) -> str:
    """What a column's sample holds: 'empty', 'initials', 'words', 'number', 'email', 'other'."""
    cells = [v.strip() for v in values if v.strip()]
    if not cells:
        return "empty"
    share = 1.0 / len(cells)

    def frac(pattern: re.Pattern[str]) -> float:
        return share * sum(1 for v in cells if pattern.match(v))

    if frac(_EMAIL_VALUE) >= VALUE_SHARE:
        return "email"
    if sum(1 for v in cells if any(ch.isdigit() for ch in v)) * share >= 0.5:
        return "number"
    if share * sum(1 for v in cells if _is_initials(v)) >= VALUE_SHARE:
        return "initials"
    if frac(_WORD_VALUE) >= VALUE_SHARE:
        return "words"
    return "other"


def _is_initials(v: str) -> bool:
    """ "J", "J.A.", "J A", "JA" (capitals): initials; "Ann" or "LEE" are not."""
    if not _INITIALS_VALUE.match(v):
        return False
    letters = sum(1 for ch in v if ch.isalpha())
    return letters == 1 or "." in v or " " in v or (v.isupper() and letters <= 2)


def _sample(records: list[list[str]], i: int) -> list[str]:
    return [r[i] for r in records[:SAMPLE_ROWS] if i < len(r)]


def user_fields(mapping: list[tuple[str, str, str]], path: Path, org: str) -> dict[str, str]:
    """header key -> field from the mapping lines that apply to this file."""
    user: dict[str, str] = {}
    for file_pat, h, target in mapping:
        if file_pat and not applies_to(file_pat, path, org):
            continue
        user[header_key(h)] = target
    return user


def applies_to(file_pat: str, path: Path, org: str) -> bool:
    """A mapping line's ``file`` names this export (file name, stem, org or path)."""
    return file_pat in (path.name, path.stem, org, str(path))


def _refuse_duplicates(header: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        k = header_key(h)
        if not k:
            continue
        if k in seen:
            raise InputError(
                f"duplicate header {h!r} (columns {seen[k] + 1} and {i + 1})",
                path=str(path),
                line=1,
                fix="rename or delete one of the two columns so each header is unique",
            )
        seen[k] = i


def choose_columns(
    header: list[str],
    records: list[list[str]],
    path: Path,
    org: str,
    mapping: list[tuple[str, str, str]],
    line: int = 1,
) -> tuple[dict[int, str], list[Column], list[Notice]]:
    """Column index -> field, every column's choice, and the notices for the data officer.

    Raises (exit 2) on a duplicate header, two columns for one single-column field, or no
    name column; the last error proposes a mapping built from the columns' values.
    """
    _refuse_duplicates(header, path)
    user = user_fields(mapping, path, org)
    columns: list[Column] = []
    for i, h in enumerate(header):
        k = header_key(h)
        if k in user:
            target = user[k]
            columns.append(Column(i, h, None if target == IGNORE else target, How.MAPPING))
            continue
        field, how = recognise(h, _sample(records, i)) if k else (None, None)
        columns.append(Column(i, h, field, how))
    by_col = {c.index: c.field for c in columns if c.field}
    _refuse_two_for_one(header, by_col, path, line)
    used = set(by_col.values())
    has_name = "full_name" in used or (
        "last_name" in used and ("first_name" in used or "initials" in used)
    )
    if not has_name:
        raise InputError(
            f"{NO_NAME} (need 'full name', or 'first name' (or 'initials') and 'last name'); "
            "headers not recognised: "
            + (", ".join(repr(c.header) for c in columns if not c.field) or "none"),
            path=str(path),
            line=line,
            fix=propose_mapping(header, records, columns, path),
        )
    return by_col, columns, _notices(columns, records, user)


def _refuse_two_for_one(header: list[str], by_col: dict[int, str], path: Path, line: int) -> None:
    used: dict[str, list[int]] = {}
    for i, f in by_col.items():
        used.setdefault(f, []).append(i)
    for f, cols in used.items():
        if len(cols) > 1 and f not in MULTI_COLUMN_FIELDS | COALESCE_FIELDS:
            names = " and ".join(repr(header[c]) for c in cols)
            raise InputError(
                f"columns {names} both mean {f!r}",
                path=str(path),
                line=line,
                fix=MAPPING_EXAMPLE.format(header=header[cols[1]]).replace("first_name", "ignore"),
            )


def _notices(columns: list[Column], records: list[list[str]], user: dict[str, str]) -> list[Notice]:
    """Guesses to confirm (info) and a membership-number column left unread (warning)."""
    out = [
        Notice(Level.INFO, f"{c.header!r} read as {c.field} ({c.how})")
        for c in columns
        if c.field and c.how in (How.ABBREVIATION, How.SPELLING, How.VALUES, How.QUALIFIED)
    ]
    if any(c.field == "membership_number" for c in columns):
        return out
    for c in columns:
        if c.field or header_key(c.header) in user:
            continue
        key = expand_abbreviations(header_key(c.header))
        hinted = any(w in key.split() for w in _MEMBERSHIP_HINTS)
        if hinted or looks_like_membership_numbers(_sample(records, c.index)):
            out.append(
                Notice(
                    Level.WARN,
                    f"column {c.header!r} looks like a membership number but omov cannot tell; "
                    "it was NOT read, so this file's members are matched without their numbers. "
                    f"Fix: a mapping line ',{c.header},membership_number' (or ',{c.header},ignore' "
                    "if it is not one), passed with --mapping",
                    "membership_number",
                )
            )
    return out


def propose_mapping(
    header: list[str], records: list[list[str]], columns: list[Column], path: Path
) -> str:
    """A mapping-file fix that names plausible columns: words for names, never numbers/ids."""
    taken = {c.field for c in columns if c.field}
    lines: list[str] = []
    words: list[Column] = []
    for c in columns:
        if c.field:
            continue
        kind = _kind(_sample(records, c.index))
        id_like = bool(_ID_WORDS & set(expand_abbreviations(header_key(c.header)).split()))
        if kind == "initials" and "initials" not in taken and not id_like:
            lines.append(f",{_cell(c.header)},initials")
            taken.add("initials")
        elif kind == "words" and not id_like:
            words.append(c)
    for c in words:
        spaced = sum(1 for v in _sample(records, c.index) if " " in v.strip())
        mostly_spaced = spaced * 2 > len(records[:SAMPLE_ROWS])
        if "full_name" not in taken and "last_name" not in taken and mostly_spaced:
            lines.append(f",{_cell(c.header)},full_name")
            taken.add("full_name")
            continue
        hinted = _name_hint(c.header)
        order = (hinted,) if hinted else ("first_name", "last_name")
        for target in order:
            if target not in taken and not (target == "first_name" and "initials" in taken):
                lines.append(f",{_cell(c.header)},{target}")
                taken.add(target)
                break
    if not lines:
        return MAPPING_EXAMPLE.format(header="Forename").replace(
            ",Forename,first_name", ",<the first-name header>,first_name"
        )
    return (
        "check and save this proposed mapping as a file (e.g. headers.csv), then pass "
        f"--mapping headers.csv (it names the columns of {path.name} whose values look like "
        "names):\n      file,header,field\n      " + "\n      ".join(lines)
    )


#: Header words that say which name a column of words holds, for a proposed mapping.
_LAST_NAME_WORDS = frozenset({"surname", "last", "family", "lastname", "familyname", "nom"})
_FIRST_NAME_WORDS = frozenset(
    {"forename", "forenames", "first", "given", "christian", "firstname", "prenom", "prénom"}
)


def _name_hint(header: str) -> str | None:
    words = set(re.findall(r"[^\W\d_]+", header.lower()))
    if words & _LAST_NAME_WORDS:
        return "last_name"
    if words & _FIRST_NAME_WORDS:
        return "first_name"
    return None


def _cell(text: str) -> str:
    """A CSV cell for a proposed mapping line (quoted when it holds a comma or a quote)."""
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"') else text
