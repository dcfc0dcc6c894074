"""What every part of the person draw shares: the reference date, the number range, the default
rates, one run's settings, and the two ways a date of birth is kept in range.

Why a settings object: generate.py used to set module globals (``PROFILE``, ``FOLD_DOB``) that
each module read; now that the draw spans several modules, one run's choices travel as one
frozen ``PeopleSettings`` passed down, so no module can hold a stale copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from gen_profile import Profile

REF_DATE = np.datetime64("2026-11-01")
LP_LOW, LP_HIGH = 100_000, 10_000_000  # 7 digits shown zero-padded: 0100000 … 9999999

PERSON_RATES: dict[str, float] = {
    "no_lp": 0.025,  # the person's number is known to no organisation
    "middle_name": 0.30,
    "double_barrelled": 0.025,
    "couple": 0.34,  # share of people living with a partner (same address and landline)
    "couple_same_surname": 0.55,
    "married_name": 0.45,  # of same-surname couples: one partner changed name (maiden on file)
    "couple_consecutive_lp": 0.20,  # joined together: numbers one apart
    "couple_shared_email": 0.06,
    "twins": 0.005,
    "junior": 0.004,  # father and son with the same name at one address ("Jr")
    "namesake": 0.003,  # same first and last name living on the same street
    "moved": 0.12,
    "email_changed": 0.15,
    "phone_changed": 0.08,
    "landline": 0.40,
    "mobile": 0.92,
    "flat": 0.12,
}


@dataclass(frozen=True)
class PeopleSettings:
    """One run's choices: the rates (``PERSON_RATES`` with overrides), the distributions to
    draw from (gen_profile.py) and whether out-of-range ages are reflected (``fold_dob``)."""

    rates: dict[str, float] = field(default_factory=lambda: dict(PERSON_RATES))
    profile: Profile = field(default_factory=Profile)
    #: Reflect out-of-range ages instead of clipping them; generate.py --no-fold-dob gives
    #: the old clipped draws back (they pile birthdays on one date).
    fold_dob: bool = True

    @classmethod
    def of(
        cls, rates: dict[str, float] | None, profile: Profile | None, fold_dob: bool
    ) -> PeopleSettings:
        """``PERSON_RATES`` overridden by ``rates``, with the profile (None = the default)."""
        return cls(dict(PERSON_RATES, **(rates or {})), profile or Profile(), fold_dob)


def fold(x: np.ndarray, low: float, high: float, reflect: bool) -> np.ndarray:
    """Reflect values outside [low, high] back inside (no new random draws).

    Why not np.clip: clipping piles every out-of-range draw onto one value, so thousands of
    unrelated people shared the birthday exactly 30 years before REF_DATE and same-name
    strangers then matched on name + DOB, which real member lists do not do. ``reflect``
    False clips as before (``PeopleSettings.fold_dob``)."""
    if not reflect:
        return np.clip(x, low, high)
    x = np.where(x < low, 2 * low - x, x)
    x = np.where(x > high, 2 * high - x, x)
    return np.clip(x, low, high)  # only for draws more than a whole range away (never seen)


def not_after(d: np.ndarray, cap: np.datetime64, reflect: bool) -> np.ndarray:
    """Dates later than cap reflected to before it (np.minimum would pile them on cap)."""
    if not reflect:
        return np.minimum(d, cap)
    d = np.asarray(d).astype("datetime64[D]")
    cap = np.datetime64(cap, "D")
    return np.where(d > cap, cap - (d - cap), d)
