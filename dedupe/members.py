"""One row per person for the issue stage: the details to dispatch to, and eligibility.

Why these choices: the record with the most complete, consented contact details speaks for
the person (ties broken by content, never by file position, so shuffled inputs give the same
roll); eligibility is a documented policy, and every excluded person carries a reason.
"""

from __future__ import annotations

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


def hex_rank(fingerprints: np.ndarray) -> np.ndarray | None:
    """16-hex fingerprints as uint64 (the same order as the strings); None if any is not.

    Why: numpy sorts integers many times faster than a million Python strings, and
    ``bytes.fromhex`` over all of them at once is the fastest way there.
    """
    if len(fingerprints) == 0:
        return np.zeros(0, np.uint64)
    try:
        fixed = np.asarray(fingerprints, dtype="S")
        text = fixed.tobytes().decode("ascii")
        raw = bytes.fromhex(text)
    except (UnicodeError, ValueError):
        return None
    if fixed.dtype.itemsize != 16 or raw.hex() != text:  # shorter/longer, upper case, spaces
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
    """yyyymmdd integers to ISO strings; 0 / negative to None."""
    out = np.full(len(dob), None, dtype=object)
    ok = dob > 0
    d = dob[ok]
    out[ok] = [f"{x // 10000:04d}-{x // 100 % 100:02d}-{x % 100:02d}" for x in d.tolist()]
    return out


def _blank_to_none(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[values == ""] = None
    return out


def _col(r: pd.DataFrame, name: str) -> np.ndarray:
    return r[name].to_numpy(dtype=object)


def build_members(
    r: pd.DataFrame, person: np.ndarray, min_link: dict[str, float], policy: Eligibility
) -> pd.DataFrame:
    """members table (see dedupe.schema.MEMBERS_SCHEMA) from records and their person ids.

    Column-wise numpy over one ordering of the records (person, completeness, fingerprint):
    no copy of the 1M-row records table, no sort of its string columns.
    """
    pcode, uniques = pd.factorize(np.asarray(person, dtype=object), sort=True)
    n_persons = len(uniques)
    consent = _col(r, "consent")
    refused = np.fromiter((c is False for c in consent), bool, len(consent))
    usable = ~refused | policy.ignore_consent
    dob = r["dob"].to_numpy(dtype=np.int64)
    contact = ["first_key", "last_key", "email", "phone", "postcode", "address", "number"]
    score = (
        r[contact].notna().sum(axis=1).to_numpy(np.int64)
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

    email = pick("email", first_of(usable & r["email"].notna().to_numpy()))
    phone = pick("phone", first_of(usable & r["phone"].notna().to_numpy()))
    place = first_of(usable & (r["postcode"].notna() | r["address"].notna()).to_numpy())
    number_col = r["number"].fillna("")
    valid_number = (number_col.str.len() == 7).to_numpy()
    num_rank, num_values = pd.factorize(number_col.to_numpy(dtype=object), sort=True)
    number_mode = _mode_per_person(pcode, num_rank, valid_number, n_persons)
    number = np.asarray(num_values, dtype=object)[np.maximum(number_mode, 0)].astype(object)
    number[number_mode < 0] = None
    dob_rank, dob_values = pd.factorize(dob, sort=True)
    dob_mode = _mode_per_person(pcode, dob_rank, dob > 0, n_persons)
    dob_best = np.where(dob_mode >= 0, np.asarray(dob_values)[np.maximum(dob_mode, 0)], 0)
    n_records = np.bincount(pcode, minlength=n_persons)
    active = _col(r, "active")
    has_status = np.fromiter((a is not None and a is not pd.NA for a in active), bool, len(active))
    is_active = np.fromiter((a is True for a in active), bool, len(active))
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
    first = pd.Series(_col(r, "first_name")[best]).fillna("")
    last = pd.Series(_col(r, "last_name")[best]).fillna("")
    middle = pd.Series(_col(r, "middle_names")[best]).fillna("")
    sfx = pd.Series(suffix)
    sfx_shown = sfx.map({"jr": "Jr", "sr": "Sr"}).fillna(sfx.str.upper())
    full = (first + " " + middle + " " + last + " " + sfx_shown).str.split().str.join(" ")
    person_ids = np.asarray(uniques, dtype=object)
    out = pd.DataFrame(
        {
            "person_id": person_ids,
            "full_name": full.to_numpy(dtype=object),
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
            "min_link_weight": pd.Series(min_link, dtype=float).reindex(person_ids).to_numpy(),
        }
    )
    return out
