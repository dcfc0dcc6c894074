"""Generator profiles: the distributions the synthetic exports are drawn from, as an input.

Why: a dedupe tuned on one generator's distributions learns that generator. A profile changes
what the people look like (which names are common and how common, ages, households) and how
the organisations write them (export styles, initials-only rolls), so the benchmarks can run on
data whose distributions the matching was never developed on.

``default`` is the generator as it always was (same seed, same bytes). ``heldout`` stands in for
"exports never seen": other name rankings and a steeper name frequency curve (more namesakes),
an older, narrower age band (more shared birthdays), households of 3-5 with grown-up children
sharing the landline and often one family mailbox, initials-only exports and two export styles
no default organisation uses.

``heldout2`` is a second held-out set, built after the matching rules were tuned on
``heldout`` (so that overfitting to ``heldout`` shows): another name ranking (weights handed 19
places down, a milder skew), a younger and wider age band (30 % under 30, the rest around
47 +- 20), households of 2-5 (couples, 35 % with grown-up children) of whom 45 % share a family
mailbox named after ONE member (``junes@``, ``june.smith@``: not always the first) or after
nobody (``thesmiths@``, ``smithfamily@``), and half of those members still appear with their own
address on some rows; more same-surname couples and married-name changes (70 %), and 60 % of
the renamed people's households moved (their maiden-name rows carry the old address and an
e-mail under the maiden name); more moves, e-mail and phone changes; twins of whom 70 % share an
initial (Jack and James); strangers with the same first name and birthday ("birthday
namesakes", 0.4 % of people); more initials-only rows; and two export styles no other profile
uses: ``SMITH, J.A.`` in one name column with dates as ``05-Jan-1963`` and dashed phone
numbers, and a branch contact sheet (house and street columns, ``05.01.1963``, a "Home Email").

A profile can also be read from a JSON file with the same keys.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Everything a profile may change; the defaults are the default generator."""

    name: str = "default"
    #: Overrides of gen_settings.PERSON_RATES (couple, twins, couple_shared_email, ...).
    person_rates: dict[str, float] = field(default_factory=dict)
    #: Overrides of gen_mistakes.ROW_RATES (initial_only, nickname, ...).
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
    #: Keys of organisation styles replacing the last default ones (see gen_styles.EXTRA_STYLES).
    styles: tuple[str, ...] = ()
    # The knobs below came with heldout2; at their defaults they draw no random numbers, so
    # default and heldout data stay byte-identical (see gen_households.py).
    #: Share of the people drawn in the young band (16-30).
    young_share: float = 0.2
    #: Whose the family mailbox is: "first" (the first member's own address) or "mixed" (one
    #: member's, not always the first, in a new family-use form; or nobody's: "thesmiths@").
    family_email_name: str = "first"
    #: Share of family-mailbox members whose own address still shows on some rows.
    family_email_keep_own: float = 0.0
    #: Share of twin pairs whose first names share an initial (Jack and James).
    twin_same_initial: float = 0.0
    #: Share of people in unrelated pairs with the same first name and date of birth.
    birthday_namesakes: float = 0.0
    #: Share of renamed people (married name) whose household moved and whose old e-mail
    #: was under the maiden name.
    renamed_moved: float = 0.0

    @property
    def is_default(self) -> bool:
        return self == Profile()

    def changes(self) -> dict[str, Any]:
        """The name and every field that differs from the default (what the manifest echoes:
        a profile made before a knob existed is written as it always was)."""
        base = asdict(Profile())
        return {k: v for k, v in asdict(self).items() if k == "name" or v != base[k]}


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
    "heldout2": Profile(
        name="heldout2",
        person_rates={
            "couple": 0.40,
            "couple_same_surname": 0.75,
            "married_name": 0.7,
            "couple_shared_email": 0.03,
            "twins": 0.012,
            "moved": 0.22,
            "email_changed": 0.28,
            "phone_changed": 0.15,
            "landline": 0.5,
        },
        row_rates={"initial_only": 0.04, "nickname": 0.09, "maiden_name": 0.5, "maiden_stale": 0.7},
        name_skew=1.2,
        name_rotation=19,
        age_mean=47.0,
        age_sd=20.0,
        children=0.35,
        family_email=0.45,
        styles=("initials_comma", "branch_sheet"),
        young_share=0.3,
        family_email_name="mixed",
        family_email_keep_own=0.5,
        twin_same_initial=0.7,
        birthday_namesakes=0.004,
        renamed_moved=0.6,
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
