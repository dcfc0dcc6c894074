"""Name, street and town lists for the synthetic member generator, loaded once as numpy arrays.

Why arrays: the generator draws millions of values by index (``names[idx]``), which shares one
Python string object per list entry instead of building a new string per row — that is what keeps
``--rows 1000000`` fast and small. The lists themselves are plain CSV data in ``bench/gen_data/``.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from anyascii import anyascii

DATA = Path(__file__).resolve().parent / "gen_data"

# culture -> (share of people, first-name origin used natively, native share, surname origin)
CULTURES: dict[str, tuple[float, str, float, str]] = {
    "british": (0.60, "british", 1.0, "british"),
    "welsh": (0.06, "welsh", 0.6, "welsh"),
    "irish": (0.05, "irish", 0.6, "irish"),
    "scottish": (0.05, "scottish", 0.5, "scottish"),
    "south_asian": (0.09, "south_asian", 0.95, "south_asian"),
    "african": (0.03, "african", 0.8, "african"),
    "caribbean": (0.03, "caribbean", 0.4, "british"),
    "polish": (0.04, "polish", 0.9, "polish"),
    "east_asian": (0.025, "east_asian", 0.7, "east_asian"),
    "european": (0.025, "european", 0.8, "european"),
}

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
    town: np.ndarray
    region: np.ndarray
    area: np.ndarray
    dmin: np.ndarray
    dmax: np.ndarray
    std: np.ndarray
    town_p: np.ndarray
    street: np.ndarray
    street_p: np.ndarray
    first_pools: dict[tuple[str, str], NamePool] = field(default_factory=dict)
    last_pools: dict[str, NamePool] = field(default_factory=dict)


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@functools.cache
def load_lists() -> Lists:
    """Read ``gen_data/*.csv`` once per process."""
    fn = _read("first_names.csv")
    sn = _read("surnames.csv")
    tw = _read("towns.csv")
    st = _read("streets.csv")
    lists = Lists(
        first=np.array([r["name"] for r in fn], dtype=object),
        first_gender=np.array([r["gender"] for r in fn], dtype=object),
        first_origin=np.array([r["origin"] for r in fn], dtype=object),
        nicknames=[tuple(x for x in r["nicknames"].split("|") if x) for r in fn],
        has_nick=np.array([bool(r["nicknames"]) for r in fn]),
        last=np.array([r["name"] for r in sn], dtype=object),
        last_origin=np.array([r["origin"] for r in sn], dtype=object),
        town=np.array([r["town"] for r in tw], dtype=object),
        region=np.array([r["region"] for r in tw], dtype=object),
        area=np.array([r["area"] for r in tw], dtype=object),
        dmin=np.array([int(r["dmin"]) for r in tw]),
        dmax=np.array([int(r["dmax"]) for r in tw]),
        std=np.array([r["std"] for r in tw], dtype=object),
        town_p=_p(np.array([float(r["weight"]) for r in tw])),
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
        idx = np.flatnonzero(lists.last_origin == origin)
        lists.last_pools[origin] = NamePool(idx, _p(sw[idx]))
    return lists
