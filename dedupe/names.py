"""Names: title, given, middle, family and generation suffix from any export layout, and the
accent-free keys they are matched on.

Why a module of its own: UK member exports put names in one cell ("SMITH, John"), two or
three, with titles in the first-name cell ("Cllr Jane") and initials for given names ("J.A.");
every parser runs once per distinct cell (``per_distinct``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
from anyascii import anyascii
from nameparser import HumanName
from nameparser.config import CONSTANTS

from dedupe.distinct import (
    Cells,
    blank,
    nones,
    per_distinct,
    per_distinct1,
    present,
)
from dedupe.nicknames import is_known_name, nickname_group

#: nameparser's titles are US-flavoured: it misses the British councillor's "Cllr", which
#: exports put in the first-name cell ("Cllr Jane") and which then hid the real given name.
_TITLES = frozenset(t.lower() for t in CONSTANTS.titles) | {
    "mx",
    "ms",
    "mrs",
    "mr",
    "miss",
    "cllr",
    "councillor",
    "revd",
}


_SUFFIX_WORDS = frozenset(s.lower() for s in CONSTANTS.suffix_not_acronyms) | frozenset(
    s.lower() for s in CONSTANTS.suffix_acronyms
)


#: Generational suffixes are evidence (a "Jr" is not his father); others (MP, OBE) are dropped.
GENERATION = {
    "jr": "jr",
    "jnr": "jr",
    "junior": "jr",
    "sr": "sr",
    "snr": "sr",
    "senior": "sr",
    "ii": "ii",
    "iii": "iii",
    "iv": "iv",
    "2nd": "ii",
    "3rd": "iii",
}


_PREFIXES = frozenset(p.lower() for p in CONSTANTS.prefixes) - {"st", "mac", "mc"}


_ODD_NAME = re.compile(r"[&()\"/]| and ", re.IGNORECASE)


_NOT_AZ = re.compile(r"[^a-z]")


def ascii_key_one(v: str) -> str | None:
    """``ascii_key`` of one value."""
    return _NOT_AZ.sub("", anyascii(v).lower()) or None


_ascii_key_one = ascii_key_one


def ascii_key(cells: Cells) -> Cells:
    """Accent-free lower-case letters only: the name matching key (Siân -> sian)."""
    return per_distinct1(cells, _ascii_key_one, clean=False)


def _is_title(tok: str) -> bool:
    return tok.lower().strip(".") in _TITLES


#: Every token ``_suffix_of`` does not answer None for (lower-cased, stripped of ".,").
_ANY_SUFFIX = frozenset(GENERATION) | (_SUFFIX_WORDS - {"i", "v", "2", "dr"})


def _suffix_word(tok: str) -> bool:
    """A suffix after a name ("Jr", "MBE", "PhD"), unless it is also a given name: in
    "Smith, Ed" or "SMITH, SI" it is the first name (Ed.D. and S.I. stand after a name)."""
    t = tok.lower().strip(".,")
    return t in _ANY_SUFFIX and (t in GENERATION or not is_known_name(t))


def _suffix_of(tok: str) -> str | None:
    t = tok.lower().strip(".,")
    if t in GENERATION:
        return GENERATION[t]
    return "" if t in _SUFFIX_WORDS and t not in {"i", "v", "2", "dr"} else None


#: Initials written together: "R.A.", "R.A", "J.-P." — one letter per dot.
_JOINED_INITIALS = re.compile(r"(?:[^\W\d_]\.-?){2,}|(?:[^\W\d_]\.){1,}[^\W\d_]")


def _expand_initials(tokens: list[str]) -> list[str]:
    """ "R.A." is two given names known by their initials, not one name 'RA' (it would never
    match Rebecca as an initial)."""
    if not any("." in t for t in tokens):
        return tokens
    out: list[str] = []
    for t in tokens:
        if _JOINED_INITIALS.fullmatch(t):
            out.extend(x + "." for x in re.findall(r"[^\W\d_]", t))
        else:
            out.append(t)
    return out


def initials_parts(value: str) -> tuple[str, str] | None:
    """An initials cell ("RA", "R.A.", "R A") as (first initial, other initials); None when
    the cell is not initials only (a name typed into the initials column stays a name)."""
    v = value.strip()
    letters = re.findall(r"[^\W\d_]", v)
    if not letters or len(letters) > 4:
        return None
    if re.fullmatch(r"(?:[^\W\d_][.\s]*)+", v) is None:
        return None
    if len(letters) > 1 and not (v.isupper() or "." in v or " " in v):
        return None  # "Al", "Jo": a short name, not initials
    return letters[0].upper(), " ".join(x.upper() for x in letters[1:])


def _split_tokens(tokens: list[str]) -> tuple[str, list[str], str]:
    """Title and generation suffix peeled off a token list (kept when only a name remains)."""
    tokens = _expand_initials(tokens)
    n_title = 0
    while len(tokens) - n_title > 1 and tokens[n_title].lower().strip(".") in _TITLES:
        n_title += 1
    title = " ".join(tokens[:n_title])
    if n_title:
        tokens = tokens[n_title:]
    gen = ""
    while len(tokens) > 1:
        g = _suffix_of(tokens[-1])
        if g is None:
            break
        tokens.pop()
        gen = g or gen
    return title, tokens, gen


def parse_full_name(value: str) -> tuple[str, str, str, str, str]:
    """(title, first, middle, last, generation) of a one-field name; initials written together
    as the given names ("J.A. Smith", "BRENNAN, RE") are a first initial and a middle one."""
    title, first, middle, last, gen = _parse_full_name(value)
    if "." in first and _JOINED_INITIALS.fullmatch(first):
        first, *rest = _expand_initials([first])
        middle = " ".join([*rest, middle]).strip()
    first, middle = _unrun_initials(first, middle)
    return title, first, middle, last, gen


def _unrun_initials(first: str, middle: str) -> tuple[str, str]:
    """Capitals run together as the given name ("RE" for Rhianne Ellen, "HFB"): initials.

    Only two capitals that are no name the table knows ("ED", "JO", "DI" stay names), or
    three without a vowel: "IAN", "AMY" and "ROY" are names.
    """
    if not (first.isascii() and first.isalpha() and first.isupper()):
        return first, middle
    two = len(first) == 2 and not is_known_name(first.lower())
    three = len(first) == 3 and not any(ch in "AEIOUY" for ch in first)
    if not (two or three):
        return first, middle
    return first[0], " ".join([*first[1:], middle]).strip()


def _parse_full_name(value: str) -> tuple[str, str, str, str, str]:
    """(title, first, middle, last, generation) of a one-field name.

    Fast path with nameparser's own title/suffix/prefix tables for the usual layouts
    ("Mr John A. Smith Jr", "SMITH, John"); nameparser itself for anything odder.
    """
    toks = value.split()  # str.split() splits on no-break spaces too
    v = " ".join(toks)
    odd = _ODD_NAME.search(v) is not None
    if not odd and "," not in v:  # the usual "Mr John A. Smith Jr"
        n = len(toks)
        if (  # no title, suffix or surname prefix: what _split_tokens and _first_last give
            n >= 2
            and toks[0].lower().strip(".") not in _TITLES
            and toks[-1].lower().strip(".,") not in _ANY_SUFFIX
            and (n == 2 or toks[-2].lower() not in _PREFIXES)
        ):
            return "", toks[0], " ".join(toks[1:-1]), toks[-1], ""
        return _first_last(*_split_tokens(toks))
    if odd or v.count(",") > 1:
        h = HumanName(v)
        gen = next(
            (
                GENERATION[t.lower().strip(".,")]  # was strip("."): KeyError on "Jr,"
                for t in h.suffix.split()
                if t.lower().strip(".,") in GENERATION
            ),
            "",
        )
        return h.title, h.first, h.middle, h.last, gen
    if "," in v:
        before, after = v.split(",", 1)
        after_toks, last_toks = after.split(), before.split()
        if (  # "SMITH, John A": no title or suffix on either side (what the code below gives)
            after_toks
            and last_toks
            and after_toks[0].lower().strip(".") not in _TITLES
            and not _suffix_word(after_toks[0])
            and not _suffix_word(after_toks[-1])
            and last_toks[-1].lower().strip(".,") not in _ANY_SUFFIX
        ):
            return "", after_toks[0], " ".join(after_toks[1:]), " ".join(last_toks), ""
        if after_toks and all(_suffix_word(t) for t in after_toks):
            title, toks, _ = _split_tokens(before.split())
            gen = next(
                (
                    GENERATION[t.lower().strip(".,")]
                    for t in after_toks
                    if t.lower().strip(".,") in GENERATION
                ),
                "",
            )
            return _first_last(title, toks, gen)
        title, given, gen = _split_tokens(after_toks)
        last_toks = before.split()
        while len(last_toks) > 1 and _suffix_of(last_toks[-1]) is not None:
            gen = _suffix_of(last_toks.pop()) or gen
        if given and len(given) >= 1:
            return title, given[0], " ".join(given[1:]), " ".join(last_toks), gen
        return title, "", "", " ".join(last_toks), gen
    raise AssertionError("unreachable: a name without a comma took the first branch")


def _first_last(title: str, toks: list[str], gen: str) -> tuple[str, str, str, str, str]:
    if not toks:
        return title, "", "", "", gen
    if len(toks) == 1:
        return title, "", "", toks[0], gen
    last_start = len(toks) - 1
    while last_start > 1 and toks[last_start - 1].lower() in _PREFIXES:
        last_start -= 1
    return title, toks[0], " ".join(toks[1:last_start]), " ".join(toks[last_start:]), gen


def _split_given(value: str) -> tuple[str, str, str, str]:
    """A 'first name' cell: (title, first, middle, generation) — exports put middles here."""
    title, toks, gen = _split_tokens(value.split())
    first, middle = _unrun_initials(toks[0] if toks else "", " ".join(toks[1:]))
    return title, first, middle, gen


def _split_family(value: str) -> tuple[str, str]:
    """A 'last name' cell: (last, generation) — "Armstrong Jr" is Armstrong, junior."""
    toks = value.split()
    gen = ""
    while len(toks) > 1 and _suffix_of(toks[-1]) is not None:
        gen = _suffix_of(toks.pop()) or gen
    return " ".join(toks), gen


_ALL_CAPS = re.compile(r"[^a-z]*[A-Z]{2,}[^a-z]*")


def _display(v: str) -> str:
    """SMITH -> Smith for display; mixed-case originals are kept as written."""
    return v.title() if _ALL_CAPS.fullmatch(v) else v


def _display_and_key(v: str) -> tuple[str, str | None]:
    if v.isascii() and v.isalpha():  # A-Z/a-z only: no regex, nothing for the key to drop
        d = v.title() if len(v) > 1 and v.isupper() else v
        return d, d.lower()
    d = _display(v)
    return d, _ascii_key_one(d)


def _first_display_keys(v: str) -> tuple[str, str | None, str | None]:
    d, key = _display_and_key(v)
    return d, key, (None if key is None else nickname_group(key))


def _given_parts(v: str) -> tuple[str, str, str, str, bool]:
    return (*_split_given(v), True)


def _family_parts(v: str) -> tuple[str, str, bool, bool]:
    last, gen = _split_family(v)
    return last, gen, True, gen != ""


def _full_parts(v: str) -> tuple[str, str, str, str, str, bool]:
    return (*parse_full_name(v), True)


def _initials_or_none(v: str) -> tuple[str | None, str | None, bool]:
    parts = initials_parts(v)
    if parts is None:
        return None, None, False
    return parts[0], parts[1] or None, True


def _generation(v: str) -> str:
    return GENERATION.get(v.lower().strip("."), "")


def names(cols: Mapping[str, Cells], n: int) -> dict[str, Cells]:
    """Title, first, middle, last, generation suffix and matching keys from whichever layout.

    ``cols`` holds the export's raw name columns (any of first_name, last_name, full_name,
    title, middle_names, suffix); each is parsed once per distinct cell.
    """
    title, first, middle, last = nones(n), nones(n), nones(n), nones(n)
    gen = np.full(n, "", dtype=object)
    has_first = np.zeros(n, dtype=bool)
    has_last = np.zeros(n, dtype=bool)
    if "first_name" in cols:
        t, f, m, g, ok = per_distinct(
            cols["first_name"], _given_parts, (None, None, None, None, False)
        )
        has_first = ok.astype(bool)
        for col, part in ((title, t), (first, f), (middle, m), (gen, g)):
            col[has_first] = part[has_first]
    if "last_name" in cols:
        lst, g, ok, has_gen = per_distinct(
            cols["last_name"], _family_parts, (None, None, False, False)
        )
        has_last = ok.astype(bool)
        last[has_last] = lst[has_last]
        set_gen = has_gen.astype(bool)
        gen[set_gen] = g[set_gen]
    if "full_name" in cols:
        need = ~has_first & ~has_last
        full = cols["full_name"].copy()
        full[~need] = None
        t, f, m, lst, g, ok = per_distinct(full, _full_parts, (None,) * 5 + (False,))
        parsed = ok.astype(bool)
        for col, part in ((title, t), (first, f), (middle, m), (last, lst), (gen, g)):
            col[parsed] = part[parsed]
    for fld, col in (("title", title), ("middle_names", middle)):
        if fld in cols:
            given = blank(cols[fld])
            has = present(given)
            col[has] = given[has]
    if "initials" in cols:  # an export with initials instead of first names
        parsed_init = per_distinct(cols["initials"], _initials_or_none, (None, None, False))
        take = parsed_init[2].astype(bool) & ~present(first)
        first[take] = parsed_init[0][take]
        no_middle = take & ~present(middle)
        middle[no_middle] = parsed_init[1][no_middle]
        typed = present(cols["initials"]) & ~parsed_init[2].astype(bool) & ~present(first)
        if typed.any():  # a given name typed into the initials column stays a name
            cells = cols["initials"].copy()
            cells[~typed] = None
            _, f, m, _, ok = per_distinct(cells, _given_parts, (None, None, None, None, False))
            got = ok.astype(bool)
            first[got] = f[got]
            middle[got & ~present(middle)] = m[got & ~present(middle)]
    if "suffix" in cols:
        sfx = per_distinct1(cols["suffix"], _generation)
        has = present(sfx) & (sfx != "")
        gen[has] = sfx[has]
    first_name, first_key, nick_key = per_distinct(first, _first_display_keys, (None, None, None))
    middle_names, middle_key = per_distinct(middle, _display_and_key, (None, None))
    last_name, last_key = per_distinct(last, _display_and_key, (None, None))
    return {
        "title": blank(title),
        "first_name": first_name,
        "middle_names": middle_names,
        "last_name": last_name,
        "suffix": gen,
        "first_key": first_key,
        "last_key": last_key,
        "middle_key": middle_key,
        "nick_key": nick_key,
    }
