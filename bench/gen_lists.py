"""Name, street and town lists for the synthetic member generator, loaded once as numpy arrays.

Why arrays: the generator draws millions of values by index (``names[idx]``), which shares one
Python string object per list entry instead of building a new string per row — that is what keeps
``--rows 1000000`` fast and small. The lists themselves are plain CSV data in ``bench/gen_data/``.
"""

from __future__ import annotations

import csv
import functools
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from anyascii import anyascii

DATA = Path(__file__).resolve().parent / "gen_data"

# culture -> (share of people, first-name origin used natively, native share, surname origin,
# native surname share). The rest draw British names: most people in Wales or Scotland have
# English surnames, and many Irish and Caribbean Britons have English first names.
CULTURES: dict[str, tuple[float, str, float, str, float]] = {
    "british": (0.60, "british", 1.0, "british", 1.0),
    "welsh": (0.06, "welsh", 0.6, "welsh", 0.6),
    "irish": (0.05, "irish", 0.6, "irish", 0.85),
    "scottish": (0.05, "scottish", 0.5, "scottish", 0.6),
    "south_asian": (0.09, "south_asian", 0.95, "south_asian", 1.0),
    "african": (0.03, "african", 0.8, "african", 0.95),
    "caribbean": (0.03, "caribbean", 0.4, "british", 1.0),
    "polish": (0.04, "polish", 0.9, "polish", 1.0),
    "east_asian": (0.025, "east_asian", 0.7, "east_asian", 1.0),
    "european": (0.025, "european", 0.8, "european", 1.0),
}
# Inward codes: digit + two of these letters (Royal Mail never uses C I K M O V there).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
UNIT_CODES = np.array([a + b for a in INWARD_LETTERS for b in INWARD_LETTERS], dtype=object)
UNIT_STEP = 7  # coprime with 400: a sector's first k unit codes are k distinct codes

STREET_TYPES = np.array(
    [
        "Road",
        "Street",
        "Lane",
        "Avenue",
        "Close",
        "Crescent",
        "Way",
        "Drive",
        "Gardens",
        "Terrace",
        "Grove",
        "Place",
        "Court",
        "Mews",
        "Row",
        "Walk",
        "Rise",
        "View",
        "Hill",
        "Square",
        "Parade",
    ],
    dtype=object,
)
STREET_TYPE_W = np.array(
    [30, 18, 10, 10, 9, 6, 5, 6, 5, 5, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1], dtype=float
)
STREET_ABBREV = {
    "Road": "Rd",
    "Street": "St",
    "Avenue": "Ave",
    "Lane": "Ln",
    "Close": "Cl",
    "Crescent": "Cres",
    "Drive": "Dr",
    "Gardens": "Gdns",
    "Terrace": "Terr",
    "Place": "Pl",
    "Court": "Ct",
    "Square": "Sq",
}

EMAIL_DOMAINS = np.array(
    [
        "gmail.com",
        "hotmail.co.uk",
        "yahoo.co.uk",
        "outlook.com",
        "btinternet.com",
        "icloud.com",
        "live.co.uk",
        "sky.com",
        "googlemail.com",
        "virginmedia.com",
        "aol.com",
        "ntlworld.com",
        "protonmail.com",
        "talktalk.net",
        "hotmail.com",
        "me.com",
        "yahoo.com",
        "unison.co.uk",
        "blueyonder.co.uk",
        "tiscali.co.uk",
    ],
    dtype=object,
)
EMAIL_DOMAIN_W = np.array(
    [34, 14, 8, 8, 7, 6, 4, 3, 2, 2, 2, 2, 1.5, 1.5, 2, 1, 1, 0.5, 0.5, 0.5], dtype=float
)


def _p(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def ascii_fold(text: str) -> str:
    """Accent-free form (Zoë -> Zoe, Łukasz -> Lukasz), as a careless export or keyboard gives."""
    return anyascii(text)


def cp1252_safe(text: str) -> str:
    """Keep what Windows-1252 can hold (Zoë, Siân, Ó Briain); fold only the rest (Łukasz)."""
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            out.append(anyascii(ch))
    return "".join(out)


@dataclass(frozen=True)
class NamePool:
    """Names of one origin (and gender), with draw probabilities."""

    idx: np.ndarray  # indices into Lists.first / Lists.last
    p: np.ndarray


@dataclass
class Lists:
    """Every list the generator draws from, as arrays indexed by integer codes."""

    first: np.ndarray
    first_gender: np.ndarray
    first_origin: np.ndarray
    nicknames: list[tuple[str, ...]]
    has_nick: np.ndarray
    last: np.ndarray
    last_origin: np.ndarray
    last_fem: np.ndarray  # index of the feminine form (Kowalski -> Kowalska), else itself
    district: np.ndarray  # outward codes ("SW15"), with their post town, region, dialling code
    town: np.ndarray
    region: np.ndarray
    std: np.ndarray
    sector_district: np.ndarray  # per postcode sector: index into district
    sector_digit: np.ndarray  # "8" of "SW15 8"
    sector_units: np.ndarray  # live residential postcode units in the sector (<= 400)
    sector_offset: np.ndarray  # where the sector's unit codes start in UNIT_CODES
    sector_p: np.ndarray  # draw weights: units, as a proxy for households
    street: np.ndarray
    street_p: np.ndarray
    first_pools: dict[tuple[str, str], NamePool] = field(default_factory=dict)
    last_pools: dict[str, NamePool] = field(default_factory=dict)


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


FEMININE = (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka"))


def _feminine(names: list[str], origins: list[str]) -> tuple[list[str], np.ndarray]:
    """Names plus the feminine forms of Polish -ski/-cki surnames (appended, drawn by no pool),
    and for each name the index of the form a woman bears (itself when there is none)."""
    out = list(names)
    where = {n: i for i, n in enumerate(names)}
    fem = np.arange(len(names))
    for i, (n, o) in enumerate(zip(names, origins, strict=True)):
        if o != "polish":
            continue
        for m, f in FEMININE:
            if n.endswith(m):
                form = n[: -len(m)] + f
                if form not in where:
                    where[form] = len(out)
                    out.append(form)
                fem[i] = where[form]
                break
    return out, np.concatenate([fem, np.arange(len(names), len(out))])


@functools.cache
def load_lists() -> Lists:
    """Read ``gen_data/*.csv`` once per process."""
    fn = _read("first_names.csv")
    sn = _read("surnames.csv")
    ds = _read("postcode_districts.csv")
    sc = _read("postcode_sectors.csv")
    st = _read("streets.csv")
    last, last_fem = _feminine([r["name"] for r in sn], [r["origin"] for r in sn])
    d_index = {r["district"]: i for i, r in enumerate(ds)}
    units = np.array([int(r["units"]) for r in sc])
    lists = Lists(
        first=np.array([r["name"] for r in fn], dtype=object),
        first_gender=np.array([r["gender"] for r in fn], dtype=object),
        first_origin=np.array([r["origin"] for r in fn], dtype=object),
        nicknames=[tuple(x for x in r["nicknames"].split("|") if x) for r in fn],
        has_nick=np.array([bool(r["nicknames"]) for r in fn]),
        last=np.array(last, dtype=object),
        last_origin=np.array(
            [r["origin"] for r in sn] + ["polish"] * (len(last) - len(sn)), dtype=object
        ),
        last_fem=last_fem,
        district=np.array([r["district"] for r in ds], dtype=object),
        town=np.array([r["town"] for r in ds], dtype=object),
        region=np.array([r["region"] for r in ds], dtype=object),
        std=np.array([r["std"] for r in ds], dtype=object),
        sector_district=np.array([d_index[r["district"]] for r in sc]),
        sector_digit=np.array([r["sector"] for r in sc], dtype=object),
        sector_units=units,
        sector_offset=np.array(
            [zlib.crc32(f"{r['district']} {r['sector']}".encode()) % 400 for r in sc]
        ),
        sector_p=_p(units.astype(float)),
        street=np.array([r["name"] for r in st], dtype=object),
        street_p=_p(np.array([float(r["weight"]) for r in st])),
    )
    fw = np.array([float(r["weight"]) for r in fn])
    for origin in set(lists.first_origin):
        for g in ("F", "M"):
            idx = np.flatnonzero((lists.first_origin == origin) & (lists.first_gender == g))
            lists.first_pools[(origin, g)] = NamePool(idx, _p(fw[idx]))
    sw = np.array([float(r["weight"]) for r in sn])
    for origin in set(lists.last_origin):
        idx = np.flatnonzero(lists.last_origin[: len(sw)] == origin)
        lists.last_pools[origin] = NamePool(idx, _p(sw[idx]))
    return lists
