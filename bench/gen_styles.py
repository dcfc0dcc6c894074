"""Export styles no default organisation uses: profiles swap them in (gen_profile.py).

Why apart from gen_orgs.py: the six default organisations are the generator's baseline; these
are the "exports never seen" of the held-out profiles, and each is one frozen record here plus,
when its names or addresses are written in a new way, a small renderer below.

``initials_roll`` and ``pipe_forum`` came with ``heldout``; ``initials_comma`` and
``branch_sheet`` with ``heldout2``.
"""

from __future__ import annotations

import re

import numpy as np
from gen_orgs import OrgStyle

EXTRA_STYLES: dict[str, OrgStyle] = {
    "initials_roll": OrgStyle(
        key="initials_roll",
        display="Socialist Societies Roll (initials only)",
        weight=0.8,
        encoding="utf-8",
        headers={
            "ref": "Ref",
            "lp": "Membership Number",
            "first": "Forename",
            "last": "Surname",
            "dob": "D.O.B.",
            "email": "Email",
            "landline": "Home Phone",
            "phone": "Mobile",
            "addr1": "Address 1",
            "town": "Town",
            "postcode": "Post Code",
        },
        dob_format="dmy",
        lp_style="excel",
        lp_missing=0.2,
        lp_missing_token=("",),
        name_style="initials",
        address_style="split",
        phone_style="raw",
        id_style="int",
        age_affinity="older",
        surname_upper=0.5,
    ),
    "pipe_forum": OrgStyle(
        key="pipe_forum",
        display="Labour Forum for the Regions",
        weight=0.7,
        encoding="cp1252",
        lineterminator="\r\n",
        headers={
            "ref": "Forum Ref",
            "full": "Member Name",
            "lp": "Labour Number",
            "dob": "DOB",
            "email": "E-mail",
            "phone": "Tel",
            "address": "Postal Address",
        },
        dob_format="dmy2",
        lp_style="mixed",
        lp_missing=0.3,
        lp_missing_token=("", "n/a", "TBC"),
        name_style="full",
        address_style="single_line",
        phone_style="intl",
        id_style="int",
        dob_missing=0.08,
    ),
    # A register kept in an old membership system: one name cell "SMITH, J.A." (initials for
    # most rows, a forename for the rest), dates as 05-Jan-1963, phones as 01632-960123.
    "initials_comma": OrgStyle(
        key="initials_comma",
        display="Midlands Labour Assembly (register)",
        weight=0.75,
        encoding="cp1252",
        lineterminator="\r\n",
        headers={
            "ref": "Reg No",
            "full": "Name",
            "lp": "Party Membership No",
            "dob": "Birth Date",
            "email": "Email Addr",
            "phone": "Tel No",
            "addr1": "Address",
            "town": "Town",
            "postcode": "Postcode",
        },
        dob_format="dmonY_dash",
        lp_style="L7",
        lp_missing=0.22,
        lp_missing_token=("", "", "?"),
        name_style="surname_initials",
        address_style="split",
        phone_style="dashed",
        id_style="MLA",
        age_affinity="older",
        dob_missing=0.06,
    ),
    # A branch secretary's contact sheet: house and street apart, a "Home Email" (often the
    # family's), home and mobile numbers, dates as 05.01.1963.
    "branch_sheet": OrgStyle(
        key="branch_sheet",
        display="Eastern Socialist Campaign (branch contact sheet)",
        weight=0.65,
        encoding="utf-8",
        headers={
            "ref": "Branch Ref",
            "lp": "Labour Member No",
            "first": "Forenames",
            "last": "Surname",
            "dob": "DoB",
            "email": "Home Email",
            "landline": "Home Tel",
            "phone": "Mobile Tel",
            "house": "House No/Name",
            "street": "Street",
            "town": "Post Town",
            "postcode": "Post Code",
        },
        dob_format="dmy_dot",
        lp_style="pad8",
        lp_missing=0.16,
        lp_missing_token=("",),
        name_style="split",
        address_style="house_street",
        phone_style="spaced",
        id_style="int",
        age_affinity="working",
        phone_missing=0.15,
        dob_missing=0.05,
    ),
}

#: Share of an initials_comma register's rows written with initials only.
INITIALS_SHARE = 0.6


def surname_initials(
    rng: np.random.Generator,
    formal_first: np.ndarray,
    middle: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One "Surname, Initials" cell per row and which rows hold initials only.

    ``last`` carries the row's noise and any suffix; initials come from the formal first name
    (a register of initials never holds a nickname's), the others show ``first`` as written."""
    n = len(first)
    init = rng.random(n) < INITIALS_SHARE
    form = rng.integers(0, 4, n)  # J.A. / J. A. / J A / JA
    with_mid = rng.random(n) < 0.75
    upper = rng.random(n) < 0.6
    cells = np.empty(n, dtype=object)
    for k in range(n):
        f, m = formal_first[k][:1].upper(), middle[k][:1].upper() if with_mid[k] else ""
        if init[k]:
            letters = [f, m] if m else [f]
            given = (".".join(letters) + ".", ". ".join(letters) + ".", " ".join(letters))
            g = given[form[k]] if form[k] < 3 else "".join(letters)
        else:
            g = first[k].strip() + (f" {m}." if m else "")
        sur = last[k].upper() if upper[k] else last[k]
        cells[k] = f"{sur}, {g}"
    return cells, init


_HOUSE = re.compile(r"^((?:Flat \d+, )?\d+) (.+)$")


def house_street(addr1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ "Flat 3, 12 High Street" → ("Flat 3, 12", "High Street") (house column, street column)."""
    house = np.empty(len(addr1), dtype=object)
    street = np.empty(len(addr1), dtype=object)
    for k, a in enumerate(addr1):
        m = _HOUSE.match(a)
        house[k], street[k] = (m.group(1), m.group(2)) if m else ("", a)
    return house, street
