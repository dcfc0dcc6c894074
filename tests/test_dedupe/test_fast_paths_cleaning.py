"""The per-distinct-cell cleaners give exactly what the code they replaced gave: pandas ``.str``
chains per column and the old name-token peeling (kept here as the reference)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe import distinct as dd
from dedupe import names as nm
from dedupe import normalise as nz

#: Characters that exercise case, whitespace (incl. \x1c-\x1f, NBSP), digits, separators.
_CHARS = st.sampled_from(
    [
        *"aAzZeE0179.+@,-_ ()#/&'\"\t\n\r\x0b\x1c\xa0ßİéÉ٣",
        *("gmail.com", "googlemail.com", "mailto:", "LP-", "E+06", ".0", "jr", "SW1A", "1AA"),
    ]
)
CELLS = st.lists(st.lists(_CHARS, max_size=12).map("".join), min_size=1, max_size=40)


def _ref_blank(s: pd.Series) -> pd.Series:
    return s.map(
        lambda u: None if u is None or str(u).strip().lower() in dd.JUNK else str(u).strip()
    )


def _ref_emails(raw: pd.Series) -> tuple[list[object], list[bool]]:
    e = raw.str.lower().str.replace(r"\s+", "", regex=True)
    e = e.str.replace(r"^mailto:", "", regex=True)
    ok = e.fillna("").str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
    bad = e.notna() & ~ok
    e = e.where(ok, None)
    e = e.str.replace(r"@googlemail\.com$", "@gmail.com", regex=True)
    gm = e.fillna("").str.endswith("@gmail.com")
    local = (
        e[gm]
        .str.split("@")
        .str[0]
        .str.replace(r"\+.*$", "", regex=True)
        .str.replace(".", "", regex=False)
    )
    e[gm] = local + "@gmail.com"
    return e.tolist(), bad.tolist()


def _ref_numbers(raw: pd.Series) -> tuple[list[object], list[bool]]:
    sci = raw.fillna("").str.fullmatch(nz._SCIENTIFIC)
    digits = raw.str.replace(nz._POINT_ZERO, "", regex=True).str.replace(r"[^0-9]", "", regex=True)
    digits = digits.where(~sci, None)
    digits = digits.str.replace(r"^0+(?=[0-9]{7}$)", "", regex=True)
    long = digits.str.len() > 7
    digits = digits.where(~long, digits.str.replace(r"^0+", "", regex=True).str.zfill(7))
    digits = digits.where(digits.fillna("").str.len() > 0, None)
    digits = digits.where(~digits.fillna("").str.fullmatch(r"0+"), None)
    bad = raw.notna() & (digits.isna() | (digits.str.len() != 7))
    return digits.tolist(), bad.tolist()


def _ref_postcodes(raw: pd.Series) -> tuple[list[object], list[bool]]:
    compact = raw.str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    m = compact.str.extract(nz.POSTCODE_RE)
    valid = m[0].notna()
    pc = (m[0] + " " + m[1]).where(valid, compact.where(compact.fillna("") != "", None))
    return pc.tolist(), valid.tolist()


def _cells(values: list[str]) -> np.ndarray:
    return dd.objects([*values, None])


@settings(max_examples=300, deadline=None)
@given(CELLS)
def test_cleaners_match_the_pandas_chains(values: list[str]) -> None:
    cells = _cells(values)
    raw = _ref_blank(pd.Series(cells, dtype=object))
    assert dd.blank(cells).tolist() == raw.tolist()
    warn: nz.Warn = []
    e = nz.emails(cells, warn)
    ref_e, ref_bad = _ref_emails(raw)
    assert e.tolist() == ref_e
    assert [p for p, _, _ in warn] == [i for i, b in enumerate(ref_bad) if b]
    warn = []
    num = nz.membership_number(cells, warn)
    ref_n, ref_bad = _ref_numbers(raw)
    assert num.tolist() == ref_n
    assert [p for p, _, _ in warn] == [i for i, b in enumerate(ref_bad) if b]
    pc, valid = nz.postcodes(cells, [])
    ref_pc, ref_valid = _ref_postcodes(raw)
    assert pc.tolist() == ref_pc and valid.tolist() == ref_valid


@settings(max_examples=300, deadline=None)
@given(st.lists(_CHARS, max_size=14).map("".join))
def test_scientific_and_digit_shortcuts_match_the_regexes(v: str) -> None:
    assert nz._is_scientific(v) == (nz._SCIENTIFIC.fullmatch(v) is not None)
    assert nz._digits(v) == re.sub(r"[^0-9]", "", v)
    assert "".join(v.lower().split()) == re.sub(r"\s+", "", v.lower())


@settings(max_examples=300, deadline=None)
@given(st.lists(_CHARS, max_size=14).map("".join))
def test_postcode_in_text_matches_the_pandas_chain(v: str) -> None:
    s = pd.Series([v], dtype=object)
    m = s.fillna("").str.extract(nz._POSTCODE_IN_TEXT)
    pc = (m[0].str.upper() + " " + m[1].str.upper()).where(m[0].notna(), None)
    rest = s.str.replace(nz._POSTCODE_IN_TEXT, "", regex=True).str.rstrip(" ,")
    assert nz.postcode_in_text(v) == (pc[0], rest.where(pc.notna(), s)[0])


_NAME_TOKENS = st.sampled_from(
    [
        "Mr",
        "mrs.",
        "Dr",
        "Cllr",
        "Jr",
        "jr.",
        "III",
        "MP",
        "OBE",
        "van",
        "de",
        "Mac",
        "st",
        "Smith",
        "John",
        "A.",
        "i",
        "v",
        "2",
        "Sr.",
        "junior",
        "O'Neil",
        "\xa0",
        "  ",
    ]
)


def _ref_split_tokens(tokens: list[str]) -> tuple[str, list[str], str]:
    title = []
    while len(tokens) > 1 and nm._is_title(tokens[0]):
        title.append(tokens.pop(0))
    gen = ""
    while len(tokens) > 1 and nm._suffix_of(tokens[-1]) is not None:
        g = nm._suffix_of(tokens.pop())
        gen = g or gen
    return " ".join(title), tokens, gen


@settings(max_examples=500, deadline=None)
@given(st.lists(_NAME_TOKENS, min_size=1, max_size=6).map(" ".join))
def test_title_and_suffix_peeling_is_unchanged(value: str) -> None:
    assert nm._split_tokens(value.split()) == _ref_split_tokens(value.split())
    if "," not in value:
        title, toks, gen = _ref_split_tokens(" ".join(value.split()).split())
        assert nm.parse_full_name(value) == _unrun(nm._first_last(title, toks, gen))


def _unrun(parsed: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    """What ``parse_full_name`` does after either path: capitals run together are initials."""
    title, first, middle, last, gen = parsed
    return (title, *nm._unrun_initials(first, middle), last, gen)


def _ref_surname_comma(v: str) -> tuple[str, str, str, str, str]:
    """The "SURNAME, Given" branch of ``parse_full_name`` before its fast path."""
    before, after = (p.strip() for p in v.split(",", 1))
    after_toks = after.split()
    if after_toks and all(nm._suffix_word(t) for t in after_toks):
        title, toks, _ = nm._split_tokens(before.split())
        gen = next(
            (
                nm.GENERATION[t.lower().strip(".,")]
                for t in after_toks
                if t.lower().strip(".,") in nm.GENERATION
            ),
            "",
        )
        return nm._first_last(title, toks, gen)
    title, given_, gen = nm._split_tokens(after_toks)
    last_toks = before.split()
    while len(last_toks) > 1 and nm._suffix_of(last_toks[-1]) is not None:
        gen = nm._suffix_of(last_toks.pop()) or gen
    if given_:
        return title, given_[0], " ".join(given_[1:]), " ".join(last_toks), gen
    return title, "", "", " ".join(last_toks), gen


@settings(max_examples=500, deadline=None)
@given(
    st.lists(_NAME_TOKENS, max_size=4).map(" ".join),
    st.lists(_NAME_TOKENS, max_size=4).map(" ".join),
)
def test_surname_comma_fast_path_is_unchanged(before: str, after: str) -> None:
    value = f"{before},{after}"
    if not value.strip(", ") or nm._ODD_NAME.search(" ".join(value.split())):
        return
    assert nm.parse_full_name(value) == _unrun(_ref_surname_comma(" ".join(value.split())))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abcXYZ'-é \u0131", max_size=8))
def test_display_and_key_fast_path_is_unchanged(v: str) -> None:
    d = nm._display(v)
    assert nm._display_and_key(v) == (d, nm._ascii_key_one(d))
