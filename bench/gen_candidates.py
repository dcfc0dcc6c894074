"""A seeded ``candidates.csv`` for the slate: real members of the sample rolls, plus bad entries.

Why bad entries on purpose: the count stage must refuse a candidate with no nomination, a bio
over 150 words, a duplicate entry and someone on no roll at all — the sample proves it does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from gen_lists import load_lists
from gen_orgs import OrgStyle

N_VALID = 14
BIO_LIMIT_WORDS = 150

_JOBS = [
    "a nurse",
    "a bus driver",
    "a retired teacher",
    "a care worker",
    "a civil servant",
    "a postal worker",
    "a junior doctor",
    "a software developer",
    "a shop steward",
    "a housing officer",
    "a student",
    "a firefighter",
    "a librarian",
    "a rail signaller",
    "a social worker",
    "a council gardener",
    "a pharmacist",
    "a supermarket worker",
]
_SINCE = [
    "has been a Labour member since {y}",
    "joined the party in {y}",
    "has been active in the labour movement since {y}",
    "rejoined Labour in {y}",
]
_DOES = [
    "organises with the local tenants' union",
    "chairs the branch political education group",
    "runs the constituency food bank rota",
    "sits on a trades council",
    "co-ordinates the branch's doorstep campaigns",
    "edits the branch newsletter",
    "represents members at work as a union rep",
    "helped found a renters' network",
]
_WANTS = [
    "wants the slate to fight for public ownership of water and rail",
    "will push for council housing on a scale not seen since 1945",
    "believes members, not officials, should choose our candidates",
    "will campaign for a real living wage and sectoral bargaining",
    "wants a Green New Deal that starts in the towns that need it most",
    "will stand up for a properly funded NHS with no outsourcing",
    "wants every branch to have a say in policy through open primaries",
    "will campaign to scrap the two-child limit",
]
_EXTRA = (
    "Outside politics {p} walks the hills, sings in a community choir and coaches a "
    "junior football side on Saturday mornings. "
)

_GENDER = {
    "F": ["Woman", "woman", "Female", "female (she/her)", "Cis woman", "Trans woman"],
    "M": ["Man", "man", "Male", "male (he/him)"],
    "X": ["Non-binary", "Genderqueer", "non-binary (they/them)"],
}


def _bio(
    rng: np.random.Generator, first: str, town: str, born: int = 1960, long: bool = False
) -> str:
    y = int(rng.integers(min(max(1979, born + 16), 2025), 2026))
    s = (
        f"{first} is {rng.choice(_JOBS)} from {town} who {rng.choice(_SINCE).format(y=y)}. "
        f"{first} {rng.choice(_DOES)} and {rng.choice(_WANTS)}."
    )
    if long:
        while len(s.split()) <= BIO_LIMIT_WORDS + 20:
            s += f" {first} {rng.choice(_DOES)}, and {rng.choice(_WANTS)}. " + _EXTRA.format(
                p=first
            )
    return s.strip()


def _nominations(rng: np.random.Generator, town: str, orgs: list[str]) -> str:
    pool = [f"{town} branch", f"{town} Central CLP", f"{town} Trades Council"] + [
        f"{o} executive" for o in orgs
    ]
    k = int(rng.integers(1, 4))
    return ";".join(rng.choice(pool, size=min(k, len(pool)), replace=False))


#: The group of each self-description, for ``omov count run --group-map`` (written beside
#: candidates.csv as gender_groups.csv). The pack prints the descriptions as written.
_GROUP = {"F": "woman", "M": "man", "X": "non-binary"}


def gender_groups() -> pd.DataFrame:
    """description,group for every description the generator writes (blank: 'not stated')."""
    rows = [(d, _GROUP[g]) for g, descs in _GENDER.items() for d in descs]
    rows += [("", "not stated"), ("Prefer not to say", "not stated")]
    return pd.DataFrame(rows, columns=["description", "group"])


def _gender(rng: np.random.Generator, g: str) -> str:
    u = rng.random()
    if u < 0.1:
        return ""
    if u < 0.13:
        return "Prefer not to say"
    return str(rng.choice(_GENDER[g]))


def make_candidates(
    persons: pd.DataFrame,
    rows: pd.DataFrame,
    flags: pd.DataFrame,
    styles: list[OrgStyle],
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidates (``name,membership_number,organisation,bio,nominations,gender``) and a key saying
    which rows must fail validation and why. Row numbers are 1-based data rows."""
    clean = rows[~(flags["lp_missing"] | flags["lp_mistyped"]).to_numpy()]
    pool = np.unique(clean["person"].to_numpy())
    ok = (persons["hard_case"].to_numpy()[pool] == "") & (persons["lp"].to_numpy()[pool] >= 0)
    pool = pool[ok]
    women = pool[(persons["gender"].to_numpy()[pool] == "F")]
    pick = np.concatenate(
        [
            rng.choice(women, 6, replace=False),
            rng.choice(np.setdiff1d(pool, women), N_VALID + 2 - 6, replace=False),
        ]
    )
    pick = pick[: N_VALID + 2]  # 14 valid + one with no nomination + one with a long bio
    mine = clean[np.isin(clean["person"].to_numpy(), pick)]
    on_roll = mine.groupby("person")["org"].agg(lambda s: sorted(set(s)))
    out: list[dict[str, str]] = []
    reasons: list[str] = []
    for j, i in enumerate(pick):
        person = persons.iloc[i]
        org_names = [styles[o].display for o in on_roll[i]]
        bad = "no_nomination" if j == N_VALID else "bio_over_150_words" if j == N_VALID + 1 else ""
        out.append(
            {
                "name": f"{person.first_name} {person.last_name}",
                "membership_number": f"L{person.lp:07d}",
                "organisation": str(rng.choice(org_names)),
                "bio": _bio(
                    rng,
                    person.first_name,
                    person.town,
                    int(str(person.dob)[:4]),
                    long=bad == "bio_over_150_words",
                ),
                "nominations": ""
                if bad == "no_nomination"
                else _nominations(rng, person.town, org_names),
                "gender": _gender(rng, person.gender),
            }
        )
        reasons.append(bad)
    dup = dict(out[0])  # the same member entered twice (as "Dr …", with another bio)
    dup["name"] = "Dr " + dup["name"]
    dup["bio"] = _bio(rng, dup["name"].split()[1], persons.iloc[pick[0]].town)
    out.append(dup)
    reasons.append("duplicate_candidate")
    lists = load_lists()
    numbers = set(persons["lp"].to_numpy().tolist())
    fake = int(rng.integers(1_000_000, 10_000_000))
    while fake in numbers:
        fake += 1
    first = str(rng.choice(lists.first[lists.first_gender == "M"]))
    out.append(
        {
            "name": f"{first} {rng.choice(lists.last)}",
            "membership_number": f"L{fake:07d}",
            "organisation": styles[0].display,
            "bio": _bio(rng, first, "Leeds"),
            "nominations": f"Leeds branch;{styles[0].display} executive",
            "gender": "Man",
        }
    )
    reasons.append("not_a_member")
    order = rng.permutation(len(out))
    first_pos, dup_pos = (
        int(np.flatnonzero(order == 0)[0]),
        int(np.flatnonzero(order == len(out) - 2)[0]),
    )
    if dup_pos < first_pos:  # the later entry is the duplicate
        order[first_pos], order[dup_pos] = order[dup_pos], order[first_pos]
    cands = pd.DataFrame([out[k] for k in order])
    key = pd.DataFrame(
        {
            "row": np.arange(1, len(out) + 1),
            "name": cands["name"],
            "valid": [reasons[k] == "" for k in order],
            "reason": [reasons[k] for k in order],
        }
    )
    return cands, key
