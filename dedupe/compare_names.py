"""First and last name comparison levels, and first/last names swapped between records.

Names are compared once per distinct pair of spellings (``unique_pairs``), not per pair of
records: at 1M rows the candidate pairs hold a few hundred thousand distinct name pairs.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, LCSseq, Prefix

from dedupe.keys import pack_pairs, unpack_pairs
from dedupe.levels import (
    FIRST_NAME_TYPO_JW,
    LAST_NAME_TYPO_JW,
    SWAP_CLOSE_JW,
    SWAP_LOOSE_JW,
    FirstName,
    LastName,
)
from dedupe.nicknames import family, formal_names, nickname_group, same_person_names
from dedupe.strings import (
    bounded_dl,
    exact,
    pairwise,
    scores_from,
    str_lens,
    unique_pairs,
    within_one_edit,
)

#: A spelling at most this share as common as a name one edit away is that name mistyped.
RARE_BESIDE_SHARE = 1 / 50
#: Seen at most this often, a spelling the name table does not know is a likely typo.
RARE_COUNT = 2


def spelling_slips(
    names: np.ndarray, counts: np.ndarray, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct first-name spelling: is it a likely typo, and which spelling (index into
    ``names``) it is a slip of (-1: none known).

    A likely typo (rare): a spelling the name table does not know that is seen at most
    ``RARE_COUNT`` times; the typo rules give it more latitude. A slip of a name: a spelling
    the table does not know that is one edit from a spelling at least 50 times as common
    ("emiky" beside "emily"), which is the name meant — and only that name. Why: a keyboard
    slip on a common name recurs as the export grows (five "Emiky"s in 200k rows, more at
    1M), so a count alone would make it a real name and two typos of one Emily (Emilly,
    Emiky) two people; yet it is a slip of Emily, not of any name near it ("Maire", a real
    name one edit from Marie, is not Mary: twins at 1M held-out rows were joined so).
    """
    beside, meant = _commonest_neighbour(names, counts, np.flatnonzero(~known))
    slip = ~known & (counts <= beside * RARE_BESIDE_SHARE)
    rare = (counts <= RARE_COUNT) & ~known
    return rare, np.where(slip, meant, -1)


def _commonest_neighbour(
    names: np.ndarray, counts: np.ndarray, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per spelling (only those in ``which``; 0 and -1 elsewhere): the count and index of the
    commonest other spelling one edit away, found through shared one-letter deletions (a
    substitution, an insertion or a swap of neighbours leaves two spellings a deletion in
    common). Ties go to the spelling first in ``names``."""
    by_deletion: dict[str, list[int]] = {}
    for k, name in enumerate(names.tolist()):
        for key in _deletions(name):
            by_deletion.setdefault(key, []).append(k)
    top = np.zeros(len(names), np.int64)
    meant = np.full(len(names), -1, np.int64)
    for k in which.tolist():
        x = str(names[k])
        near = {m for key in _deletions(x) for m in by_deletion.get(key, ())} - {k}
        best = max(
            (
                (int(counts[m]), -m)
                for m in near
                if DamerauLevenshtein.distance(x, str(names[m]), score_cutoff=1) <= 1
            ),
            default=(0, 1),
        )
        top[k], meant[k] = best[0], -best[1]
    return top, meant


def _deletions(name: str) -> set[str]:
    """The name itself and every spelling one letter shorter."""
    return {name} | {name[:k] + name[k + 1 :] for k in range(len(name))}


def _first_name_levels(
    a: np.ndarray,
    b: np.ndarray,
    nick_a: np.ndarray,
    nick_b: np.ndarray,
    rare_a: np.ndarray | None = None,
    rare_b: np.ndarray | None = None,
) -> np.ndarray:
    """``FirstName`` level (NICKNAME, TYPO, INITIAL or DIFFERENT) of distinct first-name pairs."""
    la, lb = str_lens(a), str_lens(b)
    short = np.minimum(la, lb)
    rare = np.zeros(len(a), bool) if rare_a is None or rare_b is None else (rare_a | rare_b)
    # A rare spelling beside a common name is likely that name mistyped; two rare ones (a
    # small export, where every name is rare) or two common ones are names as written.
    lopsided = np.zeros(len(a), bool) if rare_a is None or rare_b is None else (rare_a ^ rare_b)
    common = pairwise(Prefix.similarity, a, b, dtype=np.int32)  # shared leading letters
    same_initial = (common >= 1) | ((la == 0) & (lb == 0))
    initial = ((la == 1) | (lb == 1)) & same_initial
    # An initial of the formal name against a nickname that starts otherwise ("O." and Liv
    # for Olivia, "C" and Kit for Christopher): an initial of any name in the family.
    other = np.flatnonzero(((la == 1) ^ (lb == 1)) & ~same_initial)
    initial[other] = [
        _initial_in_family(x, y) if len(x) == 1 else _initial_in_family(y, x)
        for x, y in zip(a[other], b[other], strict=True)
    ]
    # On one line of the name table (Bob/Robert, Kath/Catherine), or a short form that starts
    # the long one (Ant/Anthony, Sam/Samantha); a name and its feminine form (Paul/Paula,
    # Daniel/Danielle) are made DIFFERENT at the end, whichever rule found them alike.
    nickname = (short >= 3) & (common == short)
    kin = np.flatnonzero(nick_a == nick_b)
    nickname[kin] |= np.array(
        [same_person_names(x, y) for x, y in zip(a[kin], b[kin], strict=True)], dtype=bool
    )
    sub = np.full(len(a), FirstName.DIFFERENT, np.int8)
    sub[initial] = FirstName.INITIAL
    # A typo only matters where no nickname rule wins and both names are longer than initials.
    open_ = np.flatnonzero((la > 1) & (lb > 1) & ~nickname)
    typo = _first_name_typos(
        a[open_], b[open_], la[open_], lb[open_], same_initial[open_], rare[open_]
    )
    sub[open_[typo]] = FirstName.TYPO
    sub[nickname] = FirstName.NICKNAME
    if rare_a is not None and rare_b is not None:
        sub[_misspelt_short_form(a, b, rare_a, rare_b, sub)] = FirstName.TYPO
    alike = np.flatnonzero((sub == FirstName.TYPO) | (sub == FirstName.NICKNAME))
    sub[alike[_other_gender(a[alike], b[alike], lopsided[alike])]] = FirstName.DIFFERENT
    return sub


def _initial_in_family(initial: str, name: str) -> bool:
    """ "O." for Liv (Olivia), "C" for Kit (Christopher): the initial of a given name the
    short form stands for; never of another short form of it ("P" is not Megan's, though
    Peggy and Meg are both Margaret's)."""
    return any(m[:1] == initial for m in formal_names(name))


#: Endings that make a given name its feminine form (Paul → Paula, Louis → Louise,
#: Daniel → Danielle, Justin → Justine) or swap one for the other (Antonio/Antonia,
#: Julius/Julia, Francis/Frances).
FEMININE_ENDINGS = ("a", "e", "na", "ne", "le", "lle", "ine", "ette")
GENDER_SWAPS = (("o", "a"), ("us", "a"), ("is", "es"))


def _other_gender(a: np.ndarray, b: np.ndarray, lopsided: np.ndarray) -> np.ndarray:
    """Per pair: a name and its other-gender form, unless one is a rare spelling beside a
    common name (``lopsided``: then a typo is the likelier story).

    Why: one letter or a feminine ending apart, such names pass as a typo or a short form,
    and a brother and sister (Paul and Paula Hughes, at one address) would become one member.
    """
    out = np.zeros(len(a), bool)
    for k in np.flatnonzero(~lopsided).tolist():
        out[k] = _gendered(str(a[k]), str(b[k]))
    return out


def _gendered(x: str, y: str) -> bool:
    if x == y or len(x) < 3 or len(y) < 3 or same_person_names(x, y):
        return False
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    if long_.startswith(short) and long_[len(short) :] in FEMININE_ENDINGS:
        return True
    return any(
        x.endswith(p) and y.endswith(q) and x[: -len(p)] == y[: -len(q)] and len(x) > len(p) + 1
        for p, q in (*GENDER_SWAPS, *((q, p) for p, q in GENDER_SWAPS))
    )


def _first_name_typos(
    a: np.ndarray,
    b: np.ndarray,
    la: np.ndarray,
    lb: np.ndarray,
    same_initial: np.ndarray,
    rare: np.ndarray,
) -> np.ndarray:
    """Which first-name pairs are one name with a typo.

    One edit is a typo when the names are long enough or a letter was dropped/added;
    a substitution in a short name is another name (Tom/Tim, Jon/Jan: twins exist).
    Swapped letters (Zoe/Zeo) and a rare non-name spelling of a short name (Amy/Amh) are
    typos too; two real names one letter apart are not. The edit distance is computed only
    where Jaro-Winkler has not decided, and the anagram test only where it decides.
    """
    short = np.minimum(la, lb)
    typo = (
        scores_from(JaroWinkler.normalized_similarity, a, b, FIRST_NAME_TYPO_JW)
        >= FIRST_NAME_TYPO_JW
    )
    need = np.flatnonzero(~typo & (np.abs(la - lb) <= 2))  # else 3+ edits apart
    dl = bounded_dl(a[need], b[need], 2)
    one = dl <= 1
    long_enough = (short[need] >= 4) | ((la[need] != lb[need]) & (short[need] >= 2)) | rare[need]
    undecided = np.flatnonzero(one & ~long_enough)
    anagram = np.zeros(len(need), bool)
    anagram[undecided] = [
        sorted(x) == sorted(y) for x, y in zip(a[need[undecided]], b[need[undecided]], strict=True)
    ]
    typo[need] = (one & (long_enough | anagram)) | (
        (dl <= 2) & (short[need] >= 5) & same_initial[need]
    )
    # Two real spellings (neither rare in the data) alike by Jaro-Winkler's long shared
    # prefix are two names (Christine/Christopher, Nicola/Nicholas), not one mistyped:
    # they are a typo only 1 edit apart (Rachael/Rachel; not Charles/Charlene).
    real = np.flatnonzero(typo & ~rare)
    typo[real] = bounded_dl(a[real], b[real], 1) <= 1
    return typo


def _misspelt_short_form(
    a: np.ndarray, b: np.ndarray, rare_a: np.ndarray, rare_b: np.ndarray, sub: np.ndarray
) -> np.ndarray:
    """A rare spelling one edit from a name in the other side's family: a nickname with a typo.

    Why: "Lotttie"/"Charlotte", "Cthy"/"Catherine", "Shron"/"Shaz" were refused as different
    first names (the twin guard) although everything else agreed. Only a spelling that is
    not itself a known name qualifies, so two real names (twins) are never joined this way.
    """
    out = np.zeros(len(a), bool)
    for k in np.flatnonzero((sub == FirstName.DIFFERENT) & (rare_a | rare_b)).tolist():
        x, y = (a[k], b[k]) if rare_a[k] else (b[k], a[k])
        if len(x) < 3:
            continue
        out[k] = any(
            len(m) >= 2 and DamerauLevenshtein.distance(x, m, score_cutoff=1) <= 1
            for m in family(y)
        )
    return out


def first_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["first_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = FirstName.DIFFERENT
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        ci, cj = A["first_c"][i[rest]], A["first_c"][j[rest]]
        ui, uj, inv = unique_pairs(ci, cj)
        nick = A["nick_of_first"]
        rare = A["first_rare"]
        sub = _first_name_levels(
            A["first_u"][ui], A["first_u"][uj], nick[ui], nick[uj], rare[ui], rare[uj]
        )
        # A slip of the other name ("Emiky", Emily), or two slips of one common name
        # ("Niegl" and "Ngel" for Nigel): that name.
        meant = A["first_meant"]
        slip = (meant[ui] >= 0) & ((meant[ui] == meant[uj]) | (meant[ui] == uj))
        slip |= (meant[uj] >= 0) & (meant[uj] == ui)
        sub[(sub == FirstName.DIFFERENT) & slip] = FirstName.TYPO
        sub = sub[inv]
        # A middle name used as the first name ("A. John Smith" vs "John Smith").
        fs, ms = A["first_s"], A["mid_s"]
        differ = np.flatnonzero(sub == FirstName.DIFFERENT)
        a, b = i[rest[differ]], j[rest[differ]]
        mid = ((fs[a] >= 0) & (fs[a] == ms[b])) | ((fs[b] >= 0) & (fs[b] == ms[a]))
        sub[differ[mid]] = FirstName.INITIAL
        lvl[rest] = sub
    lvl[same] = FirstName.EXACT
    # Two equal initials ("H" and "H.") say no more than an initial does.
    initial_only = str_lens(A["first_u"]) == 1
    lvl[same & np.append(initial_only, False)[A["first_c"][i]]] = FirstName.INITIAL
    return lvl


def _last_name_levels(a: np.ndarray, b: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """``LastName`` level (TYPO, CONTAINS: one in the other, DIFFERENT) of distinct surname pairs.

    A typo (Jaro-Winkler >= 0.9, or one edit in a name of 3+ letters) wins over containment,
    so each test runs only on the pairs the earlier ones left open. Containment needs the
    shorter name to be a subsequence of the longer (LCS = its length, bit-parallel in C):
    only those few pairs reach the Python substring test.
    """
    short = np.minimum(la, lb)
    similar = (
        scores_from(JaroWinkler.normalized_similarity, a, b, LAST_NAME_TYPO_JW) >= LAST_NAME_TYPO_JW
    )
    maybe = np.flatnonzero(~similar & (short >= 3) & (np.abs(la - lb) <= 1))
    similar[maybe] = within_one_edit(a[maybe], b[maybe])
    rest = np.flatnonzero(~similar & (short > 2))
    lcs = pairwise(LCSseq.similarity, a[rest], b[rest], dtype=np.int32)
    cand = rest[lcs == short[rest]]
    contains = np.zeros(len(a), bool)
    contains[cand] = [
        (len(x) > 2 and x in y) or (len(y) > 2 and y in x)
        for x, y in zip(a[cand], b[cand], strict=True)
    ]
    sub = np.full(len(a), LastName.DIFFERENT, np.int8)
    sub[contains] = LastName.CONTAINS
    sub[similar] = LastName.TYPO
    return sub


def last_level(A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    present, same = exact(A["last_c"], i, j)
    lvl = np.zeros(len(i), np.int8)
    lvl[present] = LastName.DIFFERENT
    rest = np.flatnonzero(present & ~same)
    if len(rest):
        ui, uj, inv = unique_pairs(A["last_c"][i[rest]], A["last_c"][j[rest]], symmetric=True)
        lens = A["last_len"]
        lvl[rest] = _last_name_levels(A["last_u"][ui], A["last_u"][uj], lens[ui], lens[uj])[inv]
    lvl[same] = LastName.EXACT
    return lvl


def swapped_names(
    A: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """First and last name exchanged between the two records (a common data-entry slip).

    Compared on the first word of each name cell ("Warner | Iain Kyle" vs "Iain | Warner"),
    allowing a typo on each side. Only ``rows`` (pairs whose names disagree) are examined.
    """
    out = np.zeros(len(i), bool)
    if len(rows) == 0:
        return out
    a, b = i[rows], j[rows]
    first, last1, vocab = _swap_vocabulary(A)
    f1, l1, f2, l2 = first[a], last1[a], first[b], last1[b]
    ok = (
        (A["first_c"][a] >= 0)
        & (A["last1_c"][a] >= 0)
        & (A["first_c"][b] >= 0)
        & (A["last1_c"][b] >= 0)
        & (f1 != l1)
    )
    sel = np.flatnonzero(ok)
    f1, l1, f2, l2 = f1[sel], l1[sel], f2[sel], l2[sel]
    # Jaro-Winkler is symmetric, so s2 = JW(l1, f2) = JW(f2, l1): both are scores of
    # (first name, surname word) pairs, each distinct pair scored once.
    size = len(vocab)
    sims = _vocabulary_scores(
        vocab,
        np.concatenate([pack_pairs(f1, l2, size), pack_pairs(f2, l1, size)]),
        SWAP_LOOSE_JW,
    )
    s1, s2 = sims[: len(sel)], sims[len(sel) :]
    lens = str_lens(vocab)
    # A swap rarely comes alone: the given name on the other side is often an initial, a
    # nickname or has a typo ("Shaw | Ian" vs "I | Shaw", "White | Trevor" vs "Trev | White").
    # One side must agree closely (a surname); the other may agree loosely.
    close = (s1 >= SWAP_CLOSE_JW) & (s2 >= SWAP_CLOSE_JW)
    strong = ((s1 >= SWAP_CLOSE_JW) & (lens[f1] > 1) & (lens[l2] > 1)) | (
        (s2 >= SWAP_CLOSE_JW) & (lens[l1] > 1) & (lens[f2] > 1)
    )
    # The per-pair Python checks (initials, nicknames) only for the few pairs they can decide.
    maybe = np.flatnonzero(~close & strong)
    loose = np.zeros(len(sel), bool)
    loose[maybe] = (
        (s1[maybe] >= SWAP_LOOSE_JW) | _given_alike(vocab[f1[maybe]], vocab[l2[maybe]])
    ) & ((s2[maybe] >= SWAP_LOOSE_JW) | _given_alike(vocab[l1[maybe]], vocab[f2[maybe]]))
    out[rows[sel]] = close | loose
    return out


def _swap_vocabulary(A: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per record, codes of ``first`` and ``last1`` in one vocabulary (equal code <=> equal
    string, '' included), and that vocabulary. ``record_arrays`` builds them once from the
    factorised columns; otherwise they come from per-record strings ``first`` and ``last1``."""
    if "swap_vocab" in A:
        return A["swap_first"], A["swap_last1"], A["swap_vocab"]
    n = len(A["first"])
    codes, vocab = pd.factorize(np.concatenate([A["first"], A["last1"]]))
    return codes[:n].astype(np.int64), codes[n:].astype(np.int64), np.asarray(vocab, dtype=object)


def _vocabulary_scores(vocab: np.ndarray, pair: np.ndarray, lowest: float) -> np.ndarray:
    """Jaro-Winkler of vocab[x] and vocab[y] for each ``pair`` = x * len(vocab) + y (exact
    from ``lowest`` up), once per distinct pair (one int64 per pair keeps memory low)."""
    if len(pair) == 0:
        return np.zeros(0, np.float32)
    inv, uniq = pd.factorize(pair)
    size = len(vocab)
    x, y = unpack_pairs(uniq, size)
    scores = scores_from(JaroWinkler.normalized_similarity, vocab[x], vocab[y], lowest)
    out: np.ndarray = scores[inv]
    return out


def _given_alike(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two given-name spellings that may be one person: an initial of, or a nickname of."""
    initial = np.array(
        [(len(x) == 1 or len(y) == 1) and x[:1] == y[:1] != "" for x, y in zip(a, b, strict=True)],
        dtype=bool,
    )
    nick = np.array(
        [x != "" and same_person_names(x, y) for x, y in zip(a, b, strict=True)],
        dtype=bool,
    )
    out: np.ndarray = initial | nick
    return out


@functools.lru_cache(maxsize=1 << 16)
def names_compatible(a: str, b: str) -> bool:
    """Two full first-name keys that may be one person's (the same, a nickname or a typo of
    each other): the pair levels' rule for one pair, for the clustering's name constraint."""
    if a == b:
        return True
    x, y = np.array([a], dtype=object), np.array([b], dtype=object)
    nick = np.array([nickname_group(a), nickname_group(b)], dtype=object)
    level = _first_name_levels(x, y, nick[:1], nick[1:])[0]
    return bool(level != FirstName.DIFFERENT)
