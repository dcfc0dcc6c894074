"""Whose mailbox is a shared email: both records' own, or another person's the household uses.

Why: one address on two records is strong evidence of one person when it is that person's own
("oliver.atkinson509@…" on "O. Atkinson" and "Oliver Atkinson"), and only evidence of one home
when it names someone else ("junes@…" on Chris and Christopher Savage, father and son;
"madhav.fosu@…" on Larisa Fosu). A mailbox that names one first name is read as that
person's; the names are the data's own given names that are seen at least ``MIN_NAME_COUNT``
times or are in the name table, the longest one found at the start or end of a run of letters
once the record's surname is taken out (so "robinsonb68" names nobody, not Robin, and
"christine.okafor" names Christine, not Chris).

``mailbox_evidence`` turns ``Email.EXACT`` into ``Email.SHARED`` where the mailbox names
somebody and not both records can be that person (Tony's "anthonythomas71@…" on Tony's and
Katarzyna's records is the household's for that pair), and says per pair whether it names
both records (an initial's
owner: "sydney59@…" on two records of "S Hinney"; or the initial with the surname,
"fderstock@…" on "F. Derstock"). A mailbox naming only an initial with the surname is read the
same way: "brobinson803@…" is B. Robinson's, not Susan Robinson's.
"""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np
import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein

from dedupe.levels import Dob, Email, Field, FirstName, LastName, Number, Phone
from dedupe.nicknames import formal_names, is_known_name, same_person_names
from dedupe.strings import str_lens

#: A spelling must be some member's given name at least this often to count as a name.
MIN_NAME_COUNT = 3
#: Names shorter than this are not looked for in an address (Al, Jo, Di: too many hits).
MIN_NAME_LETTERS = 3

#: Longer given names are only found as a whole run of letters.
MAX_NAME_LETTERS = 12

_LETTER_RUNS = re.compile(r"[a-z]+")


def mailbox_evidence(
    A: dict[str, np.ndarray],
    i: np.ndarray,
    j: np.ndarray,
    levels: np.ndarray,
    vocab: frozenset[str],
) -> np.ndarray:
    """Per pair: the shared mailbox names both records (their own). Pairs whose mailbox names
    only someone else get ``Email.SHARED`` in ``levels`` (changed in place).

    Each record's mailbox is read once (per distinct email, first name and surname), not once
    per pair: at 1M rows some three million pairs share an email.
    """
    names_both = np.zeros(len(i), bool)
    # Records alike in full name and birthday, number or mobile are one person whoever's the
    # mailbox is (twins differ in first name): their mailbox is not read (most pairs).
    first, last = levels[:, Field.FIRST_NAME], levels[:, Field.LAST_NAME]
    alike = (
        np.isin(first, (FirstName.EXACT, FirstName.NICKNAME, FirstName.TYPO))
        & np.isin(last, (LastName.EXACT, LastName.TYPO))
        & (
            (levels[:, Field.DATE_OF_BIRTH] == Dob.EXACT)
            | (levels[:, Field.NUMBER] == Number.EXACT)
            | (levels[:, Field.PHONE] == Phone.EXACT)
        )
    )
    rows = np.flatnonzero((levels[:, Field.EMAIL] == Email.EXACT) & ~alike)
    if len(rows) == 0:
        return names_both
    a, b = i[rows], j[rows]
    recs = np.unique(np.concatenate([a, b]))
    named, own = _read_mailboxes(A, recs, vocab)
    pa, pb = np.searchsorted(recs, a), np.searchsorted(recs, b)
    fa, fb = A["first_c"][a], A["first_c"][b]
    has_a, has_b = fa >= 0, fb >= 0
    # Read beside the other record's surname ("kjenkins@" for Kirsten Thomas, née Jenkins):
    # a mailbox naming nobody by one's own surname is one's own when it names the other
    # record and both have that initial.
    initial = np.append(_initials(A["first_u"]), "")
    same_initial = has_a & has_b & (initial[fa] == initial[fb])
    own_a = own[pa] | (~named[pa] & own[pb] & same_initial)
    own_b = own[pb] | (~named[pb] & own[pa] & same_initial)
    some = named[pa] | named[pb]
    names_both[rows] = some & own_a & own_b
    # A record without a first name may be anyone the mailbox names.
    levels[rows[some & ~((own_a | ~has_a) & (own_b | ~has_b))], Field.EMAIL] = Email.SHARED
    return names_both


def initial_spelled_out(
    A: dict[str, np.ndarray],
    i: np.ndarray,
    j: np.ndarray,
    levels: np.ndarray,
    vocab: frozenset[str],
) -> np.ndarray:
    """An initial whose own mailbox (not one the pair shares) spells out another first name
    than the other record's: ``FirstName.INITIAL`` becomes ``DIFFERENT`` in ``levels``.

    Why: "J. Holmer" writing from "jasmine.holmer78@…" is Jasmine, not her twin James at the
    same address with the same birthday; "M Price" at "meghan.price@…" is not Max. The name
    must start with the initial ("sydney59@…" for "S"); a mailbox naming someone of another
    initial says nothing of whose the initial is (a household's). Returns per pair: the
    initial's own mailbox spells out the other record's first name ("G Summers" at
    "gregorysummers@…" beside Gregory Summers at the family's mailbox) — that member's own
    evidence, as a shared mobile would be.
    """
    named = np.zeros(len(i), bool)
    # Not where the pair shares the mailbox: then both use it, and it is the household's.
    rows = np.flatnonzero(
        (levels[:, Field.FIRST_NAME] == FirstName.INITIAL)
        & (levels[:, Field.EMAIL] != Email.EXACT)
        & (levels[:, Field.EMAIL] != Email.ONE_EDIT)
    )
    if len(rows) == 0:
        return named
    first = np.append(A["first_u"], np.array([""], dtype=object))
    lens = np.append(str_lens(A["first_u"]), 0)
    a, b = i[rows], j[rows]
    fa, fb = A["first_c"][a], A["first_c"][b]
    # The side with the initial only, against the side with a full first name.
    a_short = (lens[fa] == 1) & (lens[fb] > 1)
    b_short = (lens[fb] == 1) & (lens[fa] > 1)
    short = np.where(a_short, a, b)
    full = np.where(a_short, fb, fa)
    sel = np.flatnonzero((a_short | b_short) & (A["email_c"][short] >= 0))
    if len(sel) == 0:
        return named
    last = np.append(A["last_u"], np.array([""], dtype=object))
    other = np.zeros(len(sel), bool)
    same = np.zeros(len(sel), bool)
    for k, (mail, ini, surname, name) in enumerate(
        zip(
            A["email"][short[sel]].tolist(),
            first[A["first_c"][short[sel]]].tolist(),
            last[A["last_c"][short[sel]]].tolist(),
            first[full[sel]].tolist(),
            strict=True,
        )
    ):
        spelled = _spelled(mail.partition("@")[0], ini, _letters(surname), vocab)
        same[k] = any(_may_be(x, name) for x in spelled)
        other[k] = bool(spelled) and not same[k]
    levels[rows[sel[other]], Field.FIRST_NAME] = FirstName.DIFFERENT
    named[rows[sel[same]]] = True
    return named


@functools.lru_cache(maxsize=1 << 16)
def _spelled(local: str, initial: str, surname: str, vocab: frozenset[str]) -> frozenset[str]:
    """Given names in ``local`` that ``initial`` may stand for."""
    return frozenset(x for x in _names_in(local, (surname,), vocab) if _may_be(x, initial))


def _read_mailboxes(
    A: dict[str, np.ndarray], recs: np.ndarray, vocab: frozenset[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per record: its mailbox names somebody (a given name, or an initial beside the
    surname), and it names this record."""
    first = np.append(A["first_u"], np.array([""], dtype=object))
    last = np.append(A["last_u"], np.array([""], dtype=object))
    fc, lc = A["first_c"][recs], A["last_c"][recs]
    key = (A["email_c"][recs].astype(np.int64) * (len(first) + 1) + fc + 1) * (len(last) + 1)
    codes, uniq = pd.factorize(key + lc + 1)
    named_u = np.zeros(len(uniq), bool)
    own_u = np.zeros(len(uniq), bool)
    firsts = np.zeros(len(uniq), dtype=object)
    lasts = np.zeros(len(uniq), dtype=object)
    mails = np.zeros(len(uniq), dtype=object)
    firsts[codes], lasts[codes], mails[codes] = first[fc], last[lc], A["email"][recs]
    # Every surname written with the address is taken out of it (a married name: Anamika
    # Rahman at "sanjaydoshi68@" beside her Doshi record names Sanjay, not "Doshi").
    email_c = A["email_c"][recs].tolist()
    by_email: dict[int, set[str]] = {}
    for e, surname in zip(email_c, last[lc].tolist(), strict=True):
        by_email.setdefault(e, set()).add(_letters(surname))
    written = {e: tuple(sorted(names)) for e, names in by_email.items()}
    surnames = np.empty(len(uniq), dtype=object)
    for code, e in zip(codes.tolist(), email_c, strict=True):
        surnames[code] = written[e]  # one by one: numpy would read a list of tuples as 2-D
    for k, (mail, f, surname, known) in enumerate(
        zip(mails.tolist(), firsts.tolist(), lasts.tolist(), surnames.tolist(), strict=True)
    ):
        local = mail.partition("@")[0]
        found = _names_in(local, known, vocab)
        if found:
            named_u[k], own_u[k] = True, f != "" and _owns(found, f)
            continue
        initials = _initials_by_surname(local, _letters(surname))
        named_u[k], own_u[k] = bool(initials), f != "" and f[:1] in initials
    return named_u[codes], own_u[codes]


def first_name_handles(
    A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Per pair (only ``rows``, pairs sharing an email; False elsewhere): the email's local
    part is either record's first name and digits only ("abbie77@", "frank.99@"). Such a
    handle says which first name, not which member of that name: at uk100k, Abbie Burton's
    and Abbie Holmes's records both carried abbie77@.
    """
    out = np.zeros(len(i), bool)
    if len(rows) == 0:
        return out
    local = [_letters(e.partition("@")[0]) for e in A["email"][i[rows]].tolist()]
    firsts = np.append(A["first_u"], "")
    fa, fb = firsts[A["first_c"][i[rows]]].tolist(), firsts[A["first_c"][j[rows]]].tolist()
    out[rows] = [x in (f, g) for x, f, g in zip(local, fa, fb, strict=True)]
    return out


def _initials(names: np.ndarray) -> np.ndarray:
    return np.array([x[:1] for x in names.tolist()], dtype=object)


def given_names(A: dict[str, np.ndarray]) -> frozenset[str]:
    """The given names looked for in mailboxes (once per run, for both readings): spellings
    of MIN_NAME_LETTERS+ letters seen MIN_NAME_COUNT+ times, or known to the name table."""
    codes = A["first_c"]
    counts = np.bincount(codes[codes >= 0], minlength=len(A["first_u"]))
    return frozenset(
        name
        for name, n in zip(A["first_u"].tolist(), counts.tolist(), strict=True)
        if len(name) >= MIN_NAME_LETTERS
        and name.isalpha()
        and (n >= MIN_NAME_COUNT or is_known_name(name))
    )


@functools.lru_cache(maxsize=1 << 18)
def _letters(name: str) -> str:
    return "".join(ch for ch in name.lower() if "a" <= ch <= "z")


def _names_in(local: str, surnames: tuple[str, ...], vocab: frozenset[str]) -> frozenset[str]:
    """Given names at the start or end of a run of letters in ``local``, the surnames removed:
    the longest one at each end ("christine.okafor" names Christine, not also Chris)."""
    found: set[str] = set()
    for run in _LETTER_RUNS.findall(local.lower()):
        for surname in surnames:
            if len(surname) >= MIN_NAME_LETTERS:
                run = run.replace(surname, " ")
        for part in run.split():
            if part in vocab:
                found.add(part)
                continue
            longest = min(len(part) - 1, MAX_NAME_LETTERS)
            for ends in (
                (part[:k] for k in range(longest, MIN_NAME_LETTERS - 1, -1)),
                (part[-k:] for k in range(longest, MIN_NAME_LETTERS - 1, -1)),
            ):
                name = next((x for x in ends if x in vocab), None)
                if name is not None:
                    found.add(name)
    return frozenset(found)


def _owns(found: frozenset[str], first: str) -> bool:
    """A record whose first name (or initial) is one the mailbox names."""
    return first != "" and any(_may_be(name, first) for name in found)


@functools.lru_cache(maxsize=1 << 18)
def _may_be(name: str, first: str) -> bool:
    if len(first) == 1:
        return any(f[:1] == first for f in formal_names(name))
    if name == first or same_person_names(name, first):
        return True
    if min(len(name), len(first)) >= MIN_NAME_LETTERS and (
        name.startswith(first) or first.startswith(name)
    ):
        return True
    return (
        min(len(name), len(first)) >= MIN_NAME_LETTERS
        and DamerauLevenshtein.distance(name, first, score_cutoff=1) <= 1
    )


@functools.lru_cache(maxsize=1 << 18)
def _initials_by_surname(local: str, surname: str) -> frozenset[str]:
    """Letters the mailbox puts beside the surname as an initial: 'fderstock', 'derstock.f',
    'f_derstock' give {'f'}; 'thederstocks' gives none (the whole run must be initial and
    surname)."""
    if len(surname) < MIN_NAME_LETTERS:
        return frozenset()
    runs = _LETTER_RUNS.findall(local.lower())
    out = {run[0] for run in runs if len(run) == len(surname) + 1 and run[1:] == surname}
    out |= {run[-1] for run in runs if len(run) == len(surname) + 1 and run[:-1] == surname}
    for x, y in itertools.pairwise(runs):
        if len(x) == 1 and y == surname:
            out.add(x)
        elif x == surname and len(y) == 1:
            out.add(y)
    return frozenset(out)
