"""One row per person for the issue stage: the details to dispatch to, and eligibility.

Why these choices: the record with the most complete, consented contact details speaks for
the person (ties broken by content, never by file position, so shuffled inputs give the same
roll); eligibility is a documented policy, and every excluded person carries a reason.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Eligibility:
    """Who may vote. Defaults: lapsed-everywhere and refused-consent-everywhere are excluded."""

    include_lapsed: bool = False
    ignore_consent: bool = False

    def describe(self) -> dict[str, str]:
        return {
            "status": (
                "every person is eligible whatever their status"
                if self.include_lapsed
                else "eligible unless every record that states a status says lapsed/"
                "resigned/expired (a record without a status counts as current)"
            ),
            "consent": (
                "consent columns are ignored"
                if self.ignore_consent
                else "records with an explicit 'no' are not used for contact details; "
                "a person whose every record says 'no' is excluded"
            ),
        }


def hex_rank(values: np.ndarray, skip: int = 0) -> np.ndarray | None:
    """16-hex strings as uint64 (the same order as the strings); None if any is not one.

    ``skip`` leading characters, the same in every value (the "P" of a person id), are
    ignored. Why: numpy sorts integers many times faster than a million Python strings, and
    ``bytes.fromhex`` over all of them at once is the fastest way there.
    """
    width = 16 + skip
    if len(values) == 0:
        return np.zeros(0, np.uint64)
    try:
        fixed = np.asarray(values, dtype="S")
    except UnicodeError:
        return None
    if fixed.dtype.itemsize != width:
        return None
    chars = fixed.view(np.uint8).reshape(-1, width)
    if skip and not (chars[:, :skip] == chars[0, :skip]).all():
        return None
    text = np.ascontiguousarray(chars[:, skip:]).tobytes().decode("ascii", errors="replace")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    if raw.hex() != text:  # shorter values, upper case, spaces
        return None
    ranks: np.ndarray = np.frombuffer(raw, dtype=">u8").astype(np.uint64)
    return ranks


def _hex_rank(fingerprints: np.ndarray) -> np.ndarray:
    """hex_rank, or the strings' own order (as ranks) for unusual fingerprints."""
    rank = hex_rank(fingerprints)
    if rank is None:
        codes, _ = pd.factorize(np.asarray(fingerprints, dtype=object), sort=True)
        rank = codes.astype(np.uint64)
    return rank


def _first_in_order(
    order: np.ndarray, pcode: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(person code, record position) of each person's first record in ``order`` under mask."""
    sel = order[mask[order]]
    g = pcode[sel]
    start = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, bool)
    return g[start], sel[start]


def _mode_per_person(
    pcode: np.ndarray, value_rank: np.ndarray, mask: np.ndarray, n_persons: int
) -> np.ndarray:
    """Most frequent value rank per person under mask (ties: smallest rank); -1 where none."""
    p, v = pcode[mask].astype(np.int64), value_rank[mask].astype(np.int64)
    out = np.full(n_persons, -1, np.int64)
    if not len(p):
        return out
    width = int(v.max()) + 1
    keys, counts = np.unique(p * width + v, return_counts=True)
    kp, kv = keys // width, keys % width
    order = np.lexsort((kv, -counts, kp))
    kp, kv = kp[order], kv[order]
    start = np.r_[True, kp[1:] != kp[:-1]]
    out[kp[start]] = kv[start]
    return out


def _org_lists(orgs: np.ndarray, pcode: np.ndarray, n_persons: int) -> np.ndarray:
    """';'-joined sorted organisations per person, via a bit mask per person."""
    ocode, names = pd.factorize(orgs, sort=True)
    mask = np.zeros(n_persons, np.int64)
    np.bitwise_or.at(mask, pcode, np.left_shift(1, ocode.astype(np.int64)))
    combos, inverse = np.unique(mask, return_inverse=True)
    text = np.array(
        [";".join(o for k, o in enumerate(names) if int(m) >> k & 1) for m in combos], dtype=object
    )
    return text[inverse]


def _iso_dates(dob: np.ndarray) -> np.ndarray:
    """yyyymmdd integers to ISO strings; 0 / negative to None (each distinct date once)."""
    out = np.full(len(dob), None, dtype=object)
    ok = dob > 0
    values, inverse = np.unique(dob[ok], return_inverse=True)
    text = [f"{x // 10000:04d}-{x // 100 % 100:02d}-{x % 100:02d}" for x in values.tolist()]
    out[ok] = np.asarray(text, dtype=object)[inverse] if len(text) else text
    return out


def _person_codes(person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per record, sorted distinct ids) like ``pd.factorize(sort=True)``, but faster.

    Why: sorting 500k+ Python strings dominates a sorted factorize; ids are "P" + 16 hex, so
    the distinct ones are ordered as integers (any other shape falls back to the strings).
    """
    codes, uniques = pd.factorize(np.asarray(person, dtype=object), sort=False)
    distinct = np.asarray(uniques, dtype=object)
    rank = hex_rank(distinct, skip=1)
    if rank is None:
        codes, uniques = pd.factorize(np.asarray(person, dtype=object), sort=True)
        return codes, np.asarray(uniques, dtype=object)
    order = np.argsort(rank, kind="stable")
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    return position[codes], distinct[order]


def _str_ranks(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rank of each masked value among the distinct masked values in string order (-1 off mask).

    The distinct values are sorted as a fixed-width numpy array (code-point order, as ``str``).
    """
    ranks = np.full(len(values), -1, np.int64)
    codes, uniques = pd.factorize(values[mask], sort=False)
    if not len(uniques):
        return ranks
    order = np.argsort(np.asarray(uniques, dtype=str), kind="stable")
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    ranks[mask] = position[codes]
    return ranks


def _full_names(first: list[str], middle: list[str], last: list[str], sfx: list[str]) -> list[str]:
    """'First Middle Last Jr' with runs of whitespace collapsed (as str.split/join)."""
    shown = {"jr": "Jr", "sr": "Sr"}
    return [
        " ".join(f"{a} {m} {z} {shown.get(s) or s.upper()}".split())
        for a, m, z, s in zip(first, middle, last, sfx, strict=True)
    ]


def _blank_to_none(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[values == ""] = None
    return out


def _is(values: np.ndarray, obj: object) -> np.ndarray:
    """``values[k] is obj`` for every k (identity, as the policy means: True is not 1)."""
    return np.fromiter(map(operator.is_, values.tolist(), itertools.repeat(obj)), bool, len(values))


def _col(r: pd.DataFrame, name: str) -> np.ndarray:
    return r[name].to_numpy(dtype=object)


def build_members(
    r: pd.DataFrame, person: np.ndarray, min_link: np.ndarray, policy: Eligibility
) -> pd.DataFrame:
    """members table (see dedupe.schema.MEMBERS_SCHEMA) from records and their person ids.

    ``min_link`` is per record: the weakest accepted link of its person (NaN: none).

    Column-wise numpy over one ordering of the records (person, completeness, fingerprint):
    no copy of the 1M-row records table, no sort of its string columns.
    """
    pcode, uniques = _person_codes(person)
    n_persons = len(uniques)
    refused = _is(_col(r, "consent"), False)
    usable = ~refused | policy.ignore_consent
    dob = r["dob"].to_numpy(dtype=np.int64)
    contact = ["first_key", "last_key", "email", "phone", "postcode", "address", "number"]
    present = {c: r[c].notna().to_numpy() for c in contact}
    score = (
        np.sum([present[c] for c in contact], axis=0, dtype=np.int64)
        + (dob > 0)
        + usable.astype(np.int64) * 100
    )
    fp = _hex_rank(_col(r, "fingerprint"))
    order = np.lexsort((fp, -score, pcode))
    every = np.ones(len(r), bool)
    _, best = _first_in_order(order, pcode, every)

    def first_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _first_in_order(order, pcode, mask)

    def pick(col: str, found: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        out = np.full(n_persons, None, dtype=object)
        out[found[0]] = _col(r, col)[found[1]]
        return out

    email = pick("email", first_of(usable & present["email"]))
    phone = pick("phone", first_of(usable & present["phone"]))
    place = first_of(usable & (present["postcode"] | present["address"]))
    number_all = r["number"].fillna("").to_numpy(dtype=object)
    valid_number = np.fromiter(map(len, number_all.tolist()), np.int64, len(r)) == 7
    num_rank = _str_ranks(number_all, valid_number)
    number_mode = _mode_per_person(pcode, num_rank, valid_number, n_persons)
    by_rank = np.empty(int(num_rank.max(initial=-1)) + 1, dtype=object)
    by_rank[num_rank[valid_number]] = number_all[valid_number]
    number = np.full(n_persons, None, dtype=object)
    number[number_mode >= 0] = by_rank[number_mode[number_mode >= 0]]
    dob_rank, dob_values = pd.factorize(dob, sort=True)
    dob_mode = _mode_per_person(pcode, dob_rank, dob > 0, n_persons)
    dob_best = np.where(dob_mode >= 0, np.asarray(dob_values)[np.maximum(dob_mode, 0)], 0)
    n_records = np.bincount(pcode, minlength=n_persons)
    active = _col(r, "active")
    has_status = ~_is(active, None) & ~_is(active, pd.NA)
    is_active = _is(active, True)
    lapsed = (np.bincount(pcode, has_status, n_persons) == n_records) & (
        np.bincount(pcode, is_active, n_persons) == 0
    )
    all_refused = np.bincount(pcode, refused, n_persons) == n_records
    suffix_col = r["suffix"].fillna("").to_numpy(dtype=object)
    suffix = np.full(n_persons, "", dtype=object)
    got = first_of(suffix_col != "")
    suffix[got[0]] = suffix_col[got[1]]
    reason = np.full(n_persons, None, dtype=object)
    if not policy.include_lapsed:
        reason[lapsed] = "lapsed or resigned in every organisation that lists a status"
    if not policy.ignore_consent:
        reason[all_refused] = "refused consent in every organisation"

    def best_text(col: str) -> list[str]:
        return pd.Series(_col(r, col)[best]).fillna("").tolist()

    full = _full_names(
        best_text("first_name"), best_text("middle_names"), best_text("last_name"), suffix.tolist()
    )
    return frame_of(
        {
            "person_id": uniques,
            "full_name": np.asarray(full, dtype=object),
            "first_name": _col(r, "first_name")[best],
            "last_name": _col(r, "last_name")[best],
            "email": email,
            "phone": phone,
            "address": pick("address", place),
            "town": pick("town", place),
            "postcode": pick("postcode", place),
            "organisations": _org_lists(_col(r, "source_org"), pcode, n_persons),
            "membership_number": number,
            "eligible": pd.isna(reason),
            "ineligible_reason": reason,
            "title": _col(r, "title")[best],
            "suffix": _blank_to_none(suffix),
            "date_of_birth": _iso_dates(dob_best),
            "n_records": n_records.astype("int32"),
            "min_link_weight": np.asarray(min_link, dtype=float)[best],
        }
    )


def frame_of(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A DataFrame of these columns as they are, each in its own block.

    Why not ``pd.DataFrame(dict)``: it consolidates the object columns into one 2-D block,
    copying half a million values per column (~0.7 s at 1M records) for no use here.
    """
    return pd.concat(
        [pd.Series(v, name=k, copy=False) for k, v in columns.items()], axis=1, copy=False
    )
