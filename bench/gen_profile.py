"""Generator profiles: the distributions the synthetic exports are drawn from, as an input.

Why: a dedupe tuned on one generator's distributions learns that generator. A profile changes
what the people look like (which names are common and how common, ages, households) and how
the organisations write them (export styles, initials-only rolls), so the benchmarks can run on
data whose distributions the matching was never developed on.

``default`` is the generator as it always was (same seed, same bytes). ``heldout`` stands in for
"exports never seen": other name rankings and a steeper name frequency curve (more namesakes),
an older, narrower age band (more shared birthdays), households of 3-5 with grown-up children
sharing the landline and often one family mailbox, initials-only exports and two export styles
no default organisation uses. A profile can also be read from a JSON file with the same keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Everything a profile may change; the defaults are the default generator."""

    name: str = "default"
    #: Overrides of gen_people.PERSON_RATES (couple, twins, couple_shared_email, ...).
    person_rates: dict[str, float] = field(default_factory=dict)
    #: Overrides of gen_rows.ROW_RATES (initial_only, nickname, ...).
    row_rates: dict[str, float] = field(default_factory=dict)
    #: Name weights are raised to this power within each pool (> 1: common names commoner).
    name_skew: float = 1.0
    #: Weights are handed on this many places down each pool's ranking (another top 20).
    name_rotation: int = 0
    #: Age of the older members: mean and spread in years (default 56 and 15).
    age_mean: float = 56.0
    age_sd: float = 15.0
    #: Share of couples with grown-up children at home (1-3 each, households of 3-5).
    children: float = 0.0
    #: Share of households (couples, with their children) sharing one family mailbox.
    family_email: float = 0.0
    #: Keys of organisation styles replacing the last default ones (see gen_orgs.EXTRA_STYLES).
    styles: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self == Profile()


PROFILES: dict[str, Profile] = {
    "default": Profile(),
    "heldout": Profile(
        name="heldout",
        person_rates={"couple": 0.46, "couple_same_surname": 0.8, "twins": 0.012},
        row_rates={"initial_only": 0.06, "nickname": 0.05},
        name_skew=1.35,
        name_rotation=7,
        age_mean=64.0,
        age_sd=9.0,
        children=0.45,
        family_email=0.35,
        styles=("initials_roll", "pipe_forum"),
    ),
}


def load_profile(spec: str) -> Profile:
    """A profile by name (``PROFILES``) or from a JSON file of the same keys."""
    if spec in PROFILES:
        return PROFILES[spec]
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"unknown profile {spec!r}: use one of {sorted(PROFILES)} or a JSON file")
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(Profile)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{path}: unknown profile keys {sorted(unknown)}")
    if "styles" in raw:
        raw["styles"] = tuple(raw["styles"])
    raw.setdefault("name", path.stem)
    return Profile(**raw)
