"""How each organisation writes its export: headers, encoding, date/number/name/phone/address style.

Why data, not code paths: a style is a frozen record, so adding a seventh organisation is one entry
here, and the manifest can echo exactly what each file looks like (the pipeline must not read it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class OrgStyle:
    """One organisation's export conventions; ``headers``: canonical field -> header, in order."""

    key: str
    display: str
    weight: float
    encoding: str
    headers: dict[str, str]
    dob_format: str | None  # a DATE_FORMATS key or None (no DOB column)
    lp_style: str  # L7, excel, pad8, mixed, LP, spaced
    lp_missing: float
    lp_missing_token: tuple[str, ...]  # what a blank number looks like ("" mostly)
    name_style: str  # split, full, surname_comma, title_split, full_initial, initials, ...
    address_style: str  # split, single_line, split2, postcode_only, house_street
    phone_style: str  # spaced, intl, raw, paren, dashed
    id_style: str
    age_affinity: str = "none"  # young, working, older
    lineterminator: str = "\n"
    quote_all: bool = False
    street_abbrev: float = 0.0
    phone_missing: float = 0.2
    dob_missing: float = 0.04
    status: dict[str, float] = field(default_factory=dict)
    consent: tuple[str, str, float] | None = None  # yes, no, share of "no"
    extra: str | None = None  # region, branch, union
    surname_upper: float = 0.0


ORGS: list[OrgStyle] = [
    OrgStyle(
        key="northern_socialists",
        display="Northern Socialist Network",
        weight=1.0,
        encoding="utf-8",
        headers={
            "ref": "Member ID",
            "lp": "Labour Membership No",
            "first": "First Name",
            "last": "Last Name",
            "dob": "Date of Birth",
            "email": "Email",
            "phone": "Mobile",
            "addr1": "Address Line 1",
            "town": "Town",
            "postcode": "Postcode",
            "status": "Status",
            "extra": "Region",
        },
        dob_format="dmy",
        lp_style="L7",
        lp_missing=0.12,
        lp_missing_token=("",),
        name_style="split",
        address_style="split",
        phone_style="spaced",
        id_style="NSN",
        status={"Active": 0.82, "Lapsed": 0.12, "Pending": 0.05, "Suspended": 0.01},
        extra="region",
        street_abbrev=0.1,
    ),
    OrgStyle(
        key="health_socialists",
        display="Socialist Health Alliance",
        weight=0.8,
        encoding="utf-8-sig",
        headers={
            "ref": "id",
            "lp": "LP number",
            "full": "Full name",
            "dob": "DOB",
            "email": "E-mail",
            "phone": "Phone",
            "addr1": "Street",
            "town": "City",
            "postcode": "Post Code",
            "consent": "Consent to contact",
            "extra": "Branch",
        },
        dob_format="iso",
        lp_style="excel",
        lp_missing=0.18,
        lp_missing_token=("", "", "", "0"),
        name_style="full",
        address_style="split",
        phone_style="intl",
        id_style="int",
        age_affinity="older",
        consent=("Yes", "No", 0.2),
        extra="branch",
        street_abbrev=0.3,
    ),
    OrgStyle(
        key="union_link",
        display="Trade Union Labour Link",
        weight=0.6,
        encoding="cp1252",
        lineterminator="\r\n",
        headers={
            "ref": "ref",
            "lp": "lp_no",
            "first": "forename",
            "last": "surname",
            "email": "email_address",
            "phone": "tel",
            "postcode": "postcode",
            "extra": "union",
            "status": "status",
        },
        dob_format=None,
        lp_style="mixed",
        lp_missing=0.25,
        lp_missing_token=("", "", "", "", "N/A", "unknown", "TBC", "-"),
        name_style="split",
        address_style="postcode_only",
        phone_style="raw",
        id_style="TU",
        age_affinity="working",
        phone_missing=0.3,
        surname_upper=0.15,
        status={"current": 0.85, "lapsed": 0.1, "arrears": 0.05},
        extra="union",
    ),
    OrgStyle(
        key="young_left",
        display="Young Labour Left",
        weight=0.45,
        encoding="utf-8",
        headers={
            "ref": "Contact ID",
            "lp": "Membership Number (Labour)",
            "surname_comma": "Name",
            "dob": "Birth date",
            "email": "Email Address",
            "phone": "Telephone",
            "address": "Address",
            "consent": "Consent",
        },
        dob_format="mdy",
        lp_style="pad8",
        lp_missing=0.15,
        lp_missing_token=("",),
        name_style="surname_comma",
        address_style="single_line",
        phone_style="paren",
        id_style="hex",
        age_affinity="young",
        consent=("Y", "N", 0.3),
        dob_missing=0.02,
    ),
    OrgStyle(
        key="coop_forum",
        display="Co-operative Socialist Forum",
        weight=0.55,
        encoding="utf-8-sig",
        lineterminator="\r\n",
        quote_all=True,
        headers={
            "ref": "MemberNo",
            "title": "Title",
            "first": "Forename(s)",
            "last": "Surname",
            "dob": "D.O.B.",
            "lp": "Labour No.",
            "email": "Email",
            "landline": "Home Phone",
            "phone": "Mobile",
            "addr1": "Address 1",
            "addr2": "Address 2",
            "town": "Town/City",
            "postcode": "Post code",
            "status": "Membership Status",
            "consent": "Mailing consent",
        },
        dob_format="dmy2",
        lp_style="LP",
        lp_missing=0.2,
        lp_missing_token=("", "", "none"),
        name_style="title_split",
        address_style="split2",
        phone_style="spaced",
        id_style="CSF",
        status={"Full member": 0.8, "Lapsed": 0.14, "Resigned": 0.04, "Expelled": 0.02},
        consent=("Yes", "No", 0.25),
        street_abbrev=0.5,
        dob_missing=0.08,
    ),
    OrgStyle(
        key="green_left",
        display="Green Left Labour",
        weight=0.4,
        encoding="cp1252",
        headers={
            "ref": "Reference",
            "full": "Name",
            "lp": "Labour membership number",
            "dob": "Date of birth",
            "email": "email",
            "phone": "phone",
            "town": "Town",
            "postcode": "Postcode",
        },
        dob_format="dmonY",
        lp_style="spaced",
        lp_missing=0.1,
        lp_missing_token=("",),
        name_style="full_initial",
        address_style="split",
        phone_style="spaced",
        id_style="GLL",
        dob_missing=0.1,
    ),
]

UNIONS = np.array(
    [
        "Unite",
        "UNISON",
        "GMB",
        "CWU",
        "PCS",
        "NEU",
        "RMT",
        "Usdaw",
        "FBU",
        "ASLEF",
        "BFAWU",
        "TSSA",
        "Musicians' Union",
        "Equity",
    ],
    dtype=object,
)
UNION_P = np.array([22, 22, 14, 7, 7, 8, 4, 6, 2, 2, 1, 1, 2, 2], dtype=float)

MONTHS = np.array(
    ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    dtype=object,
)
_PAD2 = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_NOPAD = np.array([str(i) for i in range(100)], dtype=object)
DATE_FORMATS = {
    "dmy": "%d/%m/%Y",
    "iso": "%Y-%m-%d",
    "mdy": "%m/%d/%Y",
    "dmy2": "%d-%m-%y",
    "dmonY": "%-d %b %Y",
    "dmonY_dash": "%d-%b-%Y",
    "dmy_dot": "%d.%m.%Y",
}


def org_styles(k: int, extra: tuple[str, ...] = ()) -> list[OrgStyle]:
    """The first k organisation styles (4 ≤ k ≤ 6); ``extra`` styles (gen_styles.py) replace
    the last ones."""
    if not 4 <= k <= len(ORGS):
        raise ValueError(f"--orgs must be between 4 and {len(ORGS)}, got {k}")
    styles = ORGS[:k]
    if extra:
        from gen_styles import EXTRA_STYLES  # it builds on OrgStyle: imported when needed

        styles = styles[: k - len(extra)] + [EXTRA_STYLES[x] for x in extra]
    return styles


def format_dates(y: np.ndarray, m: np.ndarray, d: np.ndarray, style: str) -> np.ndarray:
    """Render integer year/month/day arrays (0 = missing) in one organisation's date style."""
    ys = y.astype(str).astype(object)
    if style == "dmy":
        out = _PAD2[d] + "/" + _PAD2[m] + "/" + ys
    elif style == "iso":
        out = ys + "-" + _PAD2[m] + "-" + _PAD2[d]
    elif style == "mdy":
        out = _PAD2[m] + "/" + _PAD2[d] + "/" + ys
    elif style == "dmy2":
        out = _PAD2[d] + "-" + _PAD2[m] + "-" + _PAD2[y % 100]
    elif style == "dmonY":
        out = _NOPAD[d] + " " + MONTHS[m] + " " + ys
    elif style == "dmonY_dash":
        out = _PAD2[d] + "-" + MONTHS[m] + "-" + ys
    elif style == "dmy_dot":
        out = _PAD2[d] + "." + _PAD2[m] + "." + ys
    else:
        raise ValueError(style)
    return np.where(y > 0, out, "").astype(object)


def format_lp(digits: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """Render number strings (7 digits, or 6/8 after a typo) in an organisation's style."""
    d = digits.astype(object)
    if style == "L7":
        return "L" + d
    if style == "excel":  # a spreadsheet ate the leading zeros
        return np.array([s.lstrip("0") or "0" for s in d], dtype=object)
    if style == "pad8":
        return np.array([s.zfill(8) for s in d], dtype=object)
    if style == "LP":
        return np.where(rng.random(len(d)) < 0.9, "LP-" + d, "LP" + d).astype(object)
    if style == "spaced":
        return np.array([f"L {s[:3]} {s[3:]}" for s in d], dtype=object)
    if style == "mixed":
        forms = [
            "L" + d,
            "l" + d,
            " L" + d + " ",
            "LP-" + d,
            d,
            np.array([f"L {s[:3]} {s[3:]}" for s in d], dtype=object),
        ]
        which = rng.choice(len(forms), len(d), p=[0.3, 0.1, 0.15, 0.1, 0.2, 0.15])
        return np.choose(which, forms).astype(object)
    raise ValueError(style)


def _std_len(digits: str) -> int:
    """Length of a UK dialling code within an 11-digit national number."""
    if digits.startswith("07"):
        return 5
    if digits[:3] in ("020", "023", "024", "028", "029"):
        return 3
    if digits[:3] == "011" or (digits[:2] == "01" and digits[3] == "1"):
        return 4
    return 5


def _group(digits: str, style: str) -> str:
    if not digits:
        return ""
    k = _std_len(digits)
    code, rest = digits[:k], digits[k:]
    if len(rest) == 8:
        body = f"{rest[:4]} {rest[4:]}"
    elif len(rest) == 7:
        body = f"{rest[:3]} {rest[3:]}"
    else:
        body = rest
    if style == "spaced":
        return f"{code} {body}"
    if style == "paren":
        return f"+44 (0){code[1:]} {body}" if code.startswith("07") else f"({code}) {body}"
    if style == "intl":
        return f"+44 {code[1:]} {body}"
    if style == "dashed":  # an old system's "01632-960123", "07700-900123"
        return f"{code}-{rest}"
    return digits


def format_phones(digits: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """Render national 11-digit numbers ('' = none) in an organisation's phone style."""
    if style == "raw":  # 30 % "447…"; 10 % lost the leading zero to a spreadsheet ("7700…")
        u = rng.random(len(digits))
        return np.array(
            [
                ("44" + s[1:] if x < 0.3 else s[1:] if x < 0.4 else s) if s else s
                for s, x in zip(digits, u, strict=True)
            ],
            dtype=object,
        )
    if style == "intl":
        compact = rng.random(len(digits)) < 0.5
        return np.array(
            [
                ("+44" + s[1:] if c and s else _group(s, "intl"))
                for s, c in zip(digits, compact, strict=True)
            ],
            dtype=object,
        )
    return np.array([_group(s, style) for s in digits], dtype=object)
