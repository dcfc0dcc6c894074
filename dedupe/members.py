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


def _mode_per_person(df: pd.DataFrame, col: str, keep: pd.Series) -> pd.Series:
    """Most frequent value of ``col`` per person (ties: smallest), vectorised."""
    sub = df.loc[keep, ["person_id", col]]
    counts = sub.groupby(["person_id", col], sort=False).size().reset_index(name="_n")
    counts = counts.sort_values(["person_id", "_n", col], ascending=[True, False, True])
    return counts.drop_duplicates("person_id").set_index("person_id")[col]


def _org_lists(df: pd.DataFrame) -> pd.Series:
    """';'-joined sorted organisations per person, via a bit mask per person (fast at 1M)."""
    orgs = sorted(df["source_org"].unique())
    person = df["person_id"].to_numpy()
    mask = pd.Series(0, index=pd.Index(sorted(set(person))), dtype="int64")
    for k, o in enumerate(orgs):
        has = pd.Series(df["source_org"].to_numpy() == o).groupby(person).any()
        mask = mask + has.reindex(mask.index, fill_value=False).astype("int64") * (1 << k)
    names = {m: ";".join(o for k, o in enumerate(orgs) if m >> k & 1) for m in mask.unique()}
    return mask.map(names)


def build_members(
    r: pd.DataFrame, person: np.ndarray, min_link: dict[str, float], policy: Eligibility
) -> pd.DataFrame:
    """members table (see dedupe.schema.MEMBERS_SCHEMA) from records and their person ids."""
    df = r.copy()
    # Integer person codes (in person_id order) make the sorts and group-bys cheap at 1M rows.
    codes, uniques = pd.factorize(pd.Series(person), sort=True)
    df["person_id"] = codes
    refused = df["consent"].map(lambda c: c is False).astype(bool)
    usable = ~refused | policy.ignore_consent
    contact = ["first_key", "last_key", "email", "phone", "postcode", "address", "number"]
    df["_score"] = df[contact].notna().sum(axis=1) + (df["dob"] > 0) + usable.astype(int) * 100
    df = df.sort_values(
        ["person_id", "_score", "fingerprint"], ascending=[True, False, True], kind="stable"
    )
    best = df.drop_duplicates("person_id").set_index("person_id")
    use = df[usable.loc[df.index]]
    g = use.groupby("person_id", sort=True)
    email = g["email"].first()
    phone = g["phone"].first()
    place = use[use["postcode"].notna() | use["address"].notna()].drop_duplicates("person_id")
    place = place.set_index("person_id")
    orgs = _org_lists(df)
    number = _mode_per_person(df, "number", df["number"].fillna("").str.len() == 7)
    dob = _mode_per_person(df, "dob", df["dob"] > 0)
    n = df.groupby("person_id").size()
    has_status = df["active"].notna()
    is_active = df["active"].map(lambda x: x is True).astype(bool)
    gp = pd.DataFrame(
        {"p": df["person_id"], "has": has_status, "act": is_active, "ref": refused.loc[df.index]}
    ).groupby("p")
    lapsed = gp["has"].all() & ~gp["act"].any()
    all_refused = gp["ref"].all()
    ids = best.index
    out = pd.DataFrame(index=ids)
    out["person_id"] = np.asarray(uniques, dtype=object)[ids.to_numpy()]
    first = best["first_name"].fillna("")
    last = best["last_name"].fillna("")
    middle = best["middle_names"].fillna("")
    # The generation suffix is kept if any record states it (one export may drop it).
    any_sfx = df[df["suffix"].fillna("") != ""].groupby("person_id")["suffix"].first()
    suffix = any_sfx.reindex(ids).fillna(best["suffix"].fillna(""))
    sfx = suffix.map({"jr": "Jr", "sr": "Sr"}).fillna(suffix.str.upper())
    full = (first + " " + middle + " " + last + " " + sfx.fillna("")).str.split().str.join(" ")
    out["full_name"] = full
    out["first_name"] = best["first_name"]
    out["last_name"] = best["last_name"]
    out["email"] = email.reindex(ids)
    out["phone"] = phone.reindex(ids)
    out["address"] = place["address"].reindex(ids)
    out["town"] = place["town"].reindex(ids)
    out["postcode"] = place["postcode"].reindex(ids)
    out["organisations"] = orgs.reindex(ids)
    out["membership_number"] = number.reindex(ids)
    reason = pd.Series([None] * len(ids), index=ids, dtype=object)
    if not policy.include_lapsed:
        reason[lapsed.reindex(ids).to_numpy(dtype=bool)] = (
            "lapsed or resigned in every organisation that lists a status"
        )
    if not policy.ignore_consent:
        reason[all_refused.reindex(ids).to_numpy(dtype=bool)] = (
            "refused consent in every organisation"
        )
    out["eligible"] = reason.isna()
    out["ineligible_reason"] = reason
    out["title"] = best["title"]
    out["suffix"] = suffix.replace("", None)
    d = dob.reindex(ids)
    ds = d.dropna().astype("int64")
    iso = pd.Series(
        (ds // 10000).astype(str).str.zfill(4)
        + "-"
        + (ds // 100 % 100).astype(str).str.zfill(2)
        + "-"
        + (ds % 100).astype(str).str.zfill(2),
        index=ds.index,
    )
    out["date_of_birth"] = iso.reindex(ids).astype(object).where(lambda x: x.notna(), None)
    out["n_records"] = n.reindex(ids).astype("int32")
    out["min_link_weight"] = (
        pd.Series(min_link, dtype=float).reindex(out["person_id"].to_numpy()).to_numpy()
    )
    return out.reset_index(drop=True)
