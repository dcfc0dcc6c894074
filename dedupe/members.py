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
            "status": ("every person is eligible whatever their status" if self.include_lapsed
                       else "eligible unless every record that states a status says lapsed/"
                            "resigned/expired (a record without a status counts as current)"),
            "consent": ("consent columns are ignored" if self.ignore_consent
                        else "records with an explicit 'no' are not used for contact details; "
                             "a person whose every record says 'no' is excluded"),
        }


def _mode(values: pd.Series) -> object:
    v = values.dropna()
    if v.empty:
        return None
    counts = v.value_counts()
    top = counts[counts == counts.iloc[0]].index
    return sorted(top)[0]


def build_members(r: pd.DataFrame, person: np.ndarray, min_link: dict[str, float],
                  policy: Eligibility) -> pd.DataFrame:
    """members table (see dedupe.schema.MEMBERS_SCHEMA) from records and their person ids."""
    df = r.copy()
    df["person_id"] = person
    usable = df["consent"].map(lambda c: c is not False) | policy.ignore_consent
    contact = ["first_key", "last_key", "email", "phone", "postcode", "address", "number"]
    df["_score"] = df[contact].notna().sum(axis=1) + (df["dob"] > 0) + usable.astype(int) * 100
    df = df.sort_values(["person_id", "_score", "fingerprint"], ascending=[True, False, True],
                        kind="stable")
    best = df.drop_duplicates("person_id").set_index("person_id")
    use = df[usable.loc[df.index]] if not policy.ignore_consent else df
    g = use.groupby("person_id", sort=True)
    email = g["email"].first()
    phone = g["phone"].first()
    place = use[use["postcode"].notna() | use["address"].notna()].drop_duplicates("person_id")
    place = place.set_index("person_id")
    ga = df.groupby("person_id", sort=True)
    orgs = ga["source_org"].agg(lambda s: ";".join(sorted(set(s))))
    number = ga["number"].agg(lambda s: _mode(s[s.str.len() == 7]) if s.notna().any() else None)
    dob = ga["dob"].agg(lambda s: _mode(s[s > 0]))
    n = ga.size()
    status = df.groupby("person_id")["active"].agg(
        lambda s: "lapsed" if (s.notna().any() and not any(x is True for x in s)
                               and s.isna().sum() == 0) else "ok")
    consent = df.groupby("person_id")["consent"].agg(
        lambda s: "refused" if all(x is False for x in s) else "ok")
    ids = best.index
    out = pd.DataFrame(index=ids)
    out["person_id"] = ids
    first = best["first_name"].fillna("")
    last = best["last_name"].fillna("")
    middle = best["middle_names"].fillna("")
    sfx = best["suffix"].map({"jr": "Jr", "sr": "Sr"}).fillna(best["suffix"].str.upper())
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
        reason[status.reindex(ids) == "lapsed"] = "lapsed or resigned in every organisation that lists a status"
    if not policy.ignore_consent:
        reason[consent.reindex(ids) == "refused"] = "refused consent in every organisation"
    out["eligible"] = reason.isna()
    out["ineligible_reason"] = reason
    out["title"] = best["title"]
    out["suffix"] = best["suffix"].replace("", None)
    d = dob.reindex(ids)
    out["date_of_birth"] = d.map(lambda v: None if v is None or v != v else
                                 f"{int(v) // 10000:04d}-{int(v) // 100 % 100:02d}-{int(v) % 100:02d}")
    out["n_records"] = n.reindex(ids).astype("int32")
    out["min_link_weight"] = pd.Series(min_link, dtype=float).reindex(ids)
    return out.reset_index(drop=True)
