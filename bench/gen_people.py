"""The true person table: who exists, where they live, and which of them look alike on purpose.

Why a separate step: every organisation's export is a noisy *view* of this table, so the hidden
truth is exact by construction. Everything is drawn column-wise with numpy (no per-person Python
loop except on small subsets such as double-barrelled surnames). The parts: names
(gen_names.py), addresses and contacts (gen_contacts.py), look-alike relations
(gen_relations.py, gen_households.py); one run's settings travel as a ``PeopleSettings``
(gen_settings.py). The draw order below is what makes a seed give the same bytes.
"""

from __future__ import annotations

import gen_households
import numpy as np
import pandas as pd
from gen_contacts import addresses, emails, history, mobiles, own_mailboxes
from gen_names import people_names
from gen_relations import couple_email, family_email, relations
from gen_settings import LP_HIGH, LP_LOW, REF_DATE, PeopleSettings, fold


def make_persons(
    n: int, rng: np.random.Generator, settings: PeopleSettings | None = None
) -> pd.DataFrame:
    """The true people: names, DOB, number, contacts, old contacts, and the look-alike relations."""
    s = settings or PeopleSettings()
    r, prof = s.rates, s.profile
    p = _people(n, rng, s)
    for k, v in addresses(rng, n).items():
        p[k] = v
    p["landline"] = np.where(rng.random(n) < r["landline"], p["landline"], "")
    p["mobile"] = np.where(rng.random(n) < r["mobile"], mobiles(rng, n), "")
    p["household"] = np.arange(n)
    p["hard_case"] = ""
    p["related_to"] = ""
    p["partner"] = -1
    relations(p, rng, s)
    p["email"] = emails(
        rng,
        p["first_name"].to_numpy(),
        p["last_name"].to_numpy(),
        p["dob"].to_numpy().astype("datetime64[Y]").astype(int) + 1970,
    )
    couple_email(p, rng, r)
    own = None  # a family-mailbox member's own address (heldout2: gen_households.py)
    if prof.family_email > 0 and prof.family_email_name == "first":
        family_email(p, rng, prof.family_email)
    elif prof.family_email > 0:
        own = gen_households.family_mailboxes(p, rng, prof.family_email)
    moved = None
    if prof.renamed_moved > 0:
        moved = gen_households.renamed_moves(p, rng, prof.renamed_moved)
    history(p, rng, r, moved)
    if own is not None or moved is not None:
        gen_households.after_history(p, rng, own, prof.family_email_keep_own, moved)
    own_mailboxes(p)
    p.loc[rng.random(n) < r["no_lp"], "lp"] = -1
    return p


def _people(n: int, rng: np.random.Generator, s: PeopleSettings) -> pd.DataFrame:
    """n unrelated people: names, date of birth and a distinct membership number each."""
    names = people_names(rng, n, s.rates, s.profile)
    dob = _dates_of_birth(n, rng, s)
    lp = rng.choice(LP_HIGH - LP_LOW, size=n, replace=False).astype(np.int64) + LP_LOW
    ids = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 7)).astype(object)
    return pd.DataFrame(
        {
            "person_id": ids,
            "culture": names["culture"],
            "gender": names["gender"],
            "first_name": names["first_name"],
            "first_idx": names["first_idx"],
            "middle_name": names["middle_name"],
            "last_name": names["last_name"],
            "maiden_name": "",
            "suffix": "",
            "dob": dob,
            "lp": lp,
        }
    )


def _dates_of_birth(n: int, rng: np.random.Generator, s: PeopleSettings) -> np.ndarray:
    """A ``young_share`` aged 16-30, the rest around the profile's age (30-97, see ``fold``)."""
    prof = s.profile
    young = rng.random(n) < prof.young_share
    age_days = (
        np.where(
            young,
            rng.uniform(16, 30, n),
            fold(rng.normal(prof.age_mean, prof.age_sd, n), 30, 97, s.fold_dob),
        )
        * 365.25
    )
    dob: np.ndarray = (REF_DATE - age_days.astype("timedelta64[D]")).astype("datetime64[D]")
    return dob
