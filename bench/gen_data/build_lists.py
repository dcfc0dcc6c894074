"""Rebuild the generator's name and postcode lists from public open data (run by hand, rarely).

Not imported by the generator: it writes ``first_names.csv``, ``surnames.csv``,
``postcode_districts.csv`` and ``postcode_sectors.csv`` next to this file, which are committed.
Inputs (see README.md in this folder for sources and licences):

* ``--faker DIR``: an unpacked Faker wheel (``pip download faker --no-deps``, then unzip);
  its per-locale person providers are read as plain data. Faker is not a dependency of omov.
* ``--postcodes FILE``: ``postcode_data.parquet`` from an unpacked postcodinator wheel
  (ONS/OS open postcode data): live small-user postcode units counted per sector.
* ``curated_first_names.csv`` / ``curated_surnames.csv`` (hand-made, with the nicknames the
  generator uses) head each culture's list; ``towns.csv`` names the post town of district ranges
  and ``postcode_areas.csv`` every other district's.

Why ranks and Zipf weights rather than the sources' own counts: most sources are unweighted or
alphabetical, and what dedupe accuracy depends on is the *shape* (a few very common names, a
long tail). British surnames use the real GB percentages Faker's en_GB list carries for the top
500 (Smith 1.15 %, Jones 0.94 % …; 39.5 % of people in all) and a power-law tail fitted so the
whole list holds 100 %. Example:

    python bench/gen_data/build_lists.py --faker /tmp/fk/x --postcodes /tmp/pc/postcode_data.parquet
"""

from __future__ import annotations

import argparse
import csv
import importlib
import itertools
import random
import re
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-žḀ-ỿ' -]+$")
CULTURE_ORDER = [
    "british",
    "welsh",
    "irish",
    "scottish",
    "south_asian",
    "african",
    "caribbean",
    "polish",
    "east_asian",
    "european",
]

# English place-name elements (Old English / Norse) for the long tail of British surnames:
# toponymic surnames (Ashworth, Bradley, Thornton …) are the largest class of rare English names.
PREFIXES = """Ab Ac Ad Al Alder Ald Ambler Ash Ask Ather Ay Bad Bag Bal Bam Bar Bark Barn Bas Bay
Beck Bed Bel Ben Bent Ber Bex Bick Bil Bing Birch Black Blak Blen Bol Bon Bos Bot Brad Bram Bran
Bray Brent Brid Brig Brom Brook Broom Bud Bur Burn Bux Cal Cald Can Car Carl Cat Chad Chal Chap
Chat Ched Chel Ches Chil Chis Church Clay Clif Cod Cog Col Cold Com Con Cop Cot Cress Crick Crom
Cros Cud Dal Dar Dart Daw Dean Deb Den Der Dit Don Dor Down Drax Dray Dun Dur Ead Earn East Eb Ed
Eg El Elm Ers Ev Fair Far Farn Fel Fen Fern Fin Fish Flet Ford Fox Fram Frid Ful Gar Gat Glad God
Gold Good Gos Gran Green Gres Grim Had Hag Hal Ham Han Har Hart Has Hath Haw Hay Hazel Heath Hel
Hen Her Hes Hey Hick Hil Hind Hol Holm Hop Horn Hors Hud Hun Hurst Ick Ing Ips Kel Ken Ker Kes Kid
Kil King Kir Knap Lang Lath Lax Lea Led Lee Ley Lid Lin Lit Lock Long Lud Lyn Mal Man Mar Mark Mat
Mel Mer Mid Mil Mon Mor Moss Mow Nap Nether New Nor North Not Oak Ock Old Or Os Ot Over Pad Pal Pen
Pick Pil Pol Pres Pud Rad Ram Rav Red Ren Rid Rip Rock Rom Ros Rother Row Rud Rush Rye Sal Sand Sax
Scar Sel Shal Shap Shel Shep Sher Ship Shot Sid Sil Skel Slad Snel Som Sop South Spal Stal Stan
Stap Staw Stock Ston Stow Strat Stur Sud Sun Sut Swin Tad Tal Tam Tat Tem Thack Thorn Thur Til Tod
Top Tot Tow Trent Tun Up Wad Wal Wald War Wat Wav Wed Wel Wes West Wet Wey Whal Whit Wick Wil Win
Wind Wing Wit Wol Wood Wort Wrax Yar Yat Yeo""".split()
SUFFIXES = """by bury cliffe combe cott croft dale den don er ey ford field forth gate ham hill hope
hurst ington land ley ling man more mouth ney ridge sett shaw stead stock stone thorpe thwaite ton
well wick wood worth""".split()
SUFFIX_W = {"ton": 4, "ley": 4, "ford": 3, "field": 2, "worth": 2, "by": 2, "ham": 2, "er": 2}


def _load(faker: Path, loc: str):  # returns a Faker provider class
    if str(faker) not in sys.path:
        sys.path.insert(0, str(faker))
    return importlib.import_module(f"faker.providers.person.{loc}").Provider


def _clean(name: str) -> str | None:
    """A plausible written name in Latin script, title-cased if the source shouted it."""
    name = name.strip().replace("\u2019", "'")
    if not name or not LATIN.match(name) or len(name) < 2:
        return None
    if name.isupper() or name.islower():
        name = "-".join(p.capitalize() for p in name.split("-"))
    return name


def _fold(name: str) -> str:
    """Accents off, for comparing names across sources (Peña = Pena)."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def _ordered(values: Iterable[str] | dict[str, float]) -> list[str]:
    """Names most common first when the source has weights; as given otherwise."""
    if isinstance(values, dict):
        return [k for k, _ in sorted(values.items(), key=lambda kv: -kv[1])]
    return list(values)


def _shuffled(values: Iterable[str], seed: int) -> list[str]:
    """Alphabetical sources carry no frequency: a fixed shuffle stops A-names heading the list."""
    out = list(values)
    random.Random(seed).shuffle(out)
    return out


def _merge(*ranked: list[str]) -> list[str]:
    """Interleave ranked lists (one from each in turn), keeping the first of each duplicate."""
    seen: set[str] = set()
    out: list[str] = []
    longest = max((len(r) for r in ranked), default=0)
    for i in range(longest):
        for r in ranked:
            if i < len(r):
                n = _clean(r[i])
                if n and n not in seen:
                    seen.add(n)
                    out.append(n)
    return out


def _zipf(n: int, s: float, q: float) -> list[float]:
    """Zipf-Mandelbrot shares 1/(rank+q)^s, normalised to 1."""
    w = [1.0 / (r + q) ** s for r in range(1, n + 1)]
    t = sum(w)
    return [x / t for x in w]


def _curated(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def first_names(fk: Path) -> list[tuple[str, str, str, float, str]]:
    """(name, gender, origin, weight per million of that pool, nicknames)."""
    L = lambda loc: _load(fk, loc)  # noqa: E731
    cur = _curated("curated_first_names.csv")
    gb, us, ie = L("en_GB"), L("en_US"), L("en_IE")
    zh, ja, vi = L("zh_CN"), L("ja_JP"), L("vi_VN")
    src: dict[tuple[str, str], list[list[str]]] = {
        ("british", "M"): [
            list(gb.first_names_male),
            _ordered(us.first_names_male),
            _shuffled(ie.first_names_male, 1),
        ],
        ("british", "F"): [
            list(gb.first_names_female),
            _ordered(us.first_names_female),
            _shuffled(ie.first_names_female, 2),
        ],
        ("irish", "M"): [_shuffled(L("ga_IE").first_names_male, 3)],
        ("irish", "F"): [_shuffled(L("ga_IE").first_names_female, 4)],
        ("south_asian", "M"): [_shuffled(L("en_IN").first_names_male, 5)],
        ("south_asian", "F"): [_shuffled(L("en_IN").first_names_female, 6)],
        ("african", "M"): [
            list(L("en_NG").first_names_male),
            _shuffled(L("yo_NG").first_names_male, 7),
            list(L("ig_NG").first_names_male),
            _shuffled(L("tw_GH").first_names_male, 8),
            _ordered(L("en_KE").first_names_male)[:200],
            list(L("ha_NG").first_names_male),
        ],
        ("african", "F"): [
            list(L("en_NG").first_names_female),
            _shuffled(L("yo_NG").first_names_female, 9),
            list(L("ig_NG").first_names_female),
            _shuffled(L("tw_GH").first_names_female, 10),
            _ordered(L("en_KE").first_names_female)[:200],
            list(L("ha_NG").first_names_female),
        ],
        ("polish", "M"): [list(L("pl_PL").first_names_male)],
        ("polish", "F"): [list(L("pl_PL").first_names_female)],
        ("east_asian", "M"): [
            list(vi.first_names_male),
            list(zh.first_romanized_names)[::2],
            list(ja.first_romanized_names)[::2],
        ],
        ("east_asian", "F"): [
            list(vi.first_names_female),
            list(zh.first_romanized_names)[1::2],
            list(ja.first_romanized_names)[1::2],
        ],
        ("european", "M"): [
            _shuffled(L(loc).first_names_male, 20 + i)[:120]
            for i, loc in enumerate(
                ["ro_RO", "it_IT", "pt_PT", "es_ES", "fr_FR", "de_DE", "hu_HU", "lv_LV", "nl_NL"]
            )
        ],
        ("european", "F"): [
            _shuffled(L(loc).first_names_female, 40 + i)[:120]
            for i, loc in enumerate(
                ["ro_RO", "it_IT", "pt_PT", "es_ES", "fr_FR", "de_DE", "hu_HU", "lv_LV", "nl_NL"]
            )
        ],
    }
    # Zipf shape per pool: men's names are more concentrated than women's in the UK.
    shape = {"M": (1.0, 3.0), "F": (1.0, 6.0)}
    rows: list[tuple[str, str, str, float, str]] = []
    for origin in CULTURE_ORDER:
        for g in ("F", "M"):
            head = [r for r in cur if r["origin"] == origin and r["gender"] == g]
            head.sort(key=lambda r: -float(r["weight"]))
            nick = {r["name"]: r["nicknames"] for r in head}
            lists = src.get((origin, g), [[]])
            # British sources one after another (ONS order first, an alphabetical list last);
            # other cultures interleave their countries' lists
            flat = list(itertools.chain.from_iterable(lists))
            merged = _merge(flat) if origin == "british" else _merge(*lists)
            ranked = [r["name"] for r in head] + [n for n in merged if n not in nick]
            s, q = shape[g]
            for name, w in zip(ranked, _zipf(len(ranked), s, q), strict=True):
                rows.append((name, g, origin, w * 1e6, nick.get(name, "")))
    return rows


def _british_tail(exclude: set[str], n_max: int) -> list[str]:
    """Toponymic surnames from place-name elements, in a fixed pseudo-random order."""
    rng = random.Random(1066)
    out = []
    for p in PREFIXES:
        for s in SUFFIXES:
            if p[-1] == s[0] and p[-1] not in "lnrs":
                continue
            name = p + s
            if name not in exclude:
                out.append(name)
    rng.shuffle(out)
    # prefer the productive suffixes (-ton, -ley, -ford …) by a weighted stable sort
    out.sort(
        key=lambda n: -max(SUFFIX_W.get(s, 1) for s in SUFFIXES if n.endswith(s)) * rng.random()
    )
    return out[:n_max]


def surnames(fk: Path) -> list[tuple[str, str, float]]:
    """(name, origin, weight per million of that origin's pool)."""
    L = lambda loc: _load(fk, loc)  # noqa: E731
    cur = _curated("curated_surnames.csv")
    gb, us, nz, ie = L("en_GB"), L("en_US"), L("en_NZ"), L("en_IE")
    foreign = set()
    for loc in ("es_ES", "it_IT", "pt_PT", "de_DE", "en_IN", "fr_FR", "nl_NL"):
        foreign |= {_fold(n) for n in L(loc).last_names}
    foreign |= {
        "Nguyen",
        "Kim",
        "Patel",
        "Singh",
        "Khan",
        "Tran",
        "Pham",
        "Le",
        "Chen",
        "Wang",
        "Huang",
        "Liu",
        "Zhang",
        "Yang",
        "Wu",
        "Park",
        "Li",
        "Lin",
        "Vang",
        "Xiong",
        "Ali",
        "Shah",
        "Cho",
        "Choi",
        "Ho",
        "Lu",
        "Truong",
        "Vu",
        "Ngo",
        "Dang",
        "Do",
        "Hernandez",
        "Gonzalez",
        "Rodriguez",
        "Martinez",
        "Lopez",
        "Perez",
        "Sanchez",
        "Ramirez",
        "Torres",
        "Flores",
        "Rivera",
        "Gomez",
        "Diaz",
        "Cruz",
        "Reyes",
        "Morales",
        "Gutierrez",
        "Ortiz",
        "Chavez",
        "Ramos",
        "Ruiz",
        "Alvarez",
        "Mendoza",
        "Castillo",
        "Jimenez",
        "Moreno",
        "Romero",
        "Herrera",
        "Medina",
        "Aguilar",
        "Vargas",
        "Guzman",
    }
    out: list[tuple[str, str, float]] = []
    # British: real GB shares for the top 500, then a power-law tail.
    gb_share = dict(gb.last_names)  # percent of the population
    known = set(us.last_names) | set(ie.last_names) | set(gb_share)
    # one after another, not interleaved: a shuffled (alphabetical) source must not outrank
    # a weighted one
    ranked = _merge(
        _ordered(gb_share)
        + [
            r["name"]
            for r in sorted(cur, key=lambda r: -float(r["weight"]))
            if r["origin"] == "british"
        ]
        + [r["name"] for r in cur if r["origin"] == "welsh"]  # Welsh names are British names too
        + [n for n in _ordered(nz.last_names) if n in known]  # not the Maori names
        + [n for n in _ordered(us.last_names) if _fold(n) not in foreign]
        + _shuffled(
            [n for n in ie.last_names if not n.startswith(("O'", "Mc", "Mac", "Ó", "Ni"))], 11
        )
    )
    tail = _british_tail(set(ranked), 30_000)
    ranked += tail
    head_total = sum(gb_share.values()) / 100
    last_head = min(gb_share.values()) / 100
    n_head = len(gb_share)
    # tail share at rank r: last_head * (n_head / r) ** s, with s chosen so all shares sum to 1
    lo, hi = 0.3, 3.0
    for _ in range(60):
        s = (lo + hi) / 2
        t = sum(last_head * (n_head / r) ** s for r in range(n_head + 1, len(ranked) + 1))
        lo, hi = (s, hi) if t > 1 - head_total else (lo, s)
    for r, name in enumerate(ranked, start=1):
        w = gb_share[name] / 100 if name in gb_share else last_head * (n_head / r) ** s
        out.append((name, "british", w * 1e6))
    pl = L("pl_PL")
    src: dict[str, tuple[list[list[str]], float, float]] = {
        # Welsh surnames really are few and very common (Jones, Williams, Davies …).
        "welsh": ([], 1.0, 1.0),
        "irish": (
            [_shuffled(ie.last_names, 12), _shuffled(L("ga_IE").last_names, 13)[:300]],
            1.0,
            8.0,
        ),
        "scottish": ([_scottish()], 1.0, 8.0),
        "south_asian": ([_shuffled(L("en_IN").last_names, 14)], 1.0, 4.0),
        "african": (
            [
                list(L("en_NG").last_names),
                _shuffled(L("yo_NG").last_names, 16),
                list(L("ig_NG").last_names),
                _shuffled(L("tw_GH").last_names, 17),
                _ordered(L("en_KE").last_names)[:300],
                list(L("ha_NG").last_names),
            ],
            1.0,
            8.0,
        ),
        "polish": (
            [list(pl.male_last_names), _shuffled(pl.unisex_last_names, 18)[:1500]],
            1.0,
            8.0,
        ),
        "east_asian": (
            [
                list(L("vi_VN").last_names),
                list(L("zh_CN").last_romanized_names),
                _ordered(L("zh_TW").last_romanized_names),
                list(L("ja_JP").last_romanized_names),
            ],
            1.0,
            3.0,
        ),
        "european": (
            [
                _shuffled([n for n in L(loc).last_names if not n.endswith("á")], 60 + i)[:400]
                for i, loc in enumerate(
                    [
                        "ro_RO",
                        "it_IT",
                        "pt_PT",
                        "es_ES",
                        "fr_FR",
                        "de_DE",
                        "hu_HU",
                        "lt_LT",
                        "lv_LV",
                        "nl_NL",
                        "cs_CZ",
                        "sk_SK",
                    ]
                )
            ],
            1.0,
            20.0,
        ),
    }
    for origin in CULTURE_ORDER:
        if origin in ("british", "caribbean"):
            continue
        lists, s, q = src[origin]
        head = [
            r["name"]
            for r in sorted(cur, key=lambda r: -float(r["weight"]))
            if r["origin"] == origin
        ]
        ranked = head + [n for n in _merge(*lists) if n not in head]
        for name, w in zip(ranked, _zipf(len(ranked), s, q), strict=True):
            out.append((name, origin, w * 1e6))
    return out


def _scottish() -> list[str]:
    stems = """Donald Leod Kenzie Intosh Gregor Kay Lean Millan Pherson Farlane Kinnon Neil Ewan
    Allister Arthur Aulay Bain Call Coll Cormick Crae Culloch Dougall Duff Fadyen Gillivray Gowan
    Innes Intyre Iver Kechnie Kie Lachlan Laren Lennan Master Nab Naughton Nicol Phail Quarrie
    Queen Rae Ritchie Robert Sween Tavish Vicar Whirter Alpine Andrew Askill Caig Clure Connell
    Crindle Cuish Dermid Diarmid Elhinney Fie Gill Glashan Grath Guire Hardy Ilroy Indoe Kellar
    Kendrick Lellan Menemy Murchie Murdo Nair Niven Onie Pake Shane Taggart Vey Wattie""".split()
    names = ["Mac" + s for s in stems] + ["Mc" + s for s in stems]
    plain = """Smith Brown Wilson Thomson Campbell Stewart Robertson Anderson Scott Murray Taylor
    Reid Clark Ross Young Watson Paterson Morrison Mitchell Fraser Walker Hamilton Gray Henderson
    Graham Johnston Hunter Kerr Ferguson Grant Kennedy Bell Miller Cameron Duncan Martin Allan
    Gordon Black Simpson Boyle Hughes Wallace Ritchie Sutherland Milne Munro Craig Burns Dunlop
    Kelly Buchanan Forbes Lindsay Gillespie Baird Crawford Drummond Cunningham Douglas Fleming
    Bruce Sinclair Jamieson Hutchison Irvine Moffat Rennie Urquhart Lamont Dalziel Gilchrist
    Baxter Watt Marshall Muir Lawson Dickson Wood Findlay Aitken Hay Shaw Brodie Hendry Chalmers
    Colquhoun Crichton Guthrie Kirkpatrick Laing Ogilvie Pollock Rankin Souter Strachan Tait
    Tennant Weir Wylie Galbraith Geddes Gunn Lennox Meikle Robb Rodger Spence Stirling""".split()
    out: list[str] = []
    for a, b in zip(plain, names, strict=False):
        out += [a, b]
    return out + names[len(plain) :] + plain[len(names) :]


def postcodes(parquet: Path) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, int, int]]]:
    """(district, town, region, std) rows and (district, sector digit, units) rows."""
    import pandas as pd

    d = pd.read_parquet(
        parquet,
        columns=["status", "usertype", "postcode_area", "postcode_district", "postcode_sector"],
    )
    d = d[(d["status"] == "live") & (d["usertype"] == "small")]
    d = d[~d["postcode_area"].isin(["GY", "JE", "IM"])]  # not in the UK
    sec = d.groupby(["postcode_district", "postcode_sector"], observed=True).size().reset_index()
    sec.columns = ["district", "sector", "units"]
    areas = {r["area"]: r for r in _curated("postcode_areas.csv")}
    towns = _curated("towns.csv")
    sectors = [
        (r.district, int(r.sector.split(" ")[1]), min(int(r.units), 400))
        for r in sec.itertuples(index=False)
    ]
    # Northern Ireland (BT) is not in the open GB data: the districts towns.csv names, 9 sectors
    # each of a typical size (about 1.5 % of the UK's units, a little under its population share).
    for t in towns:
        if t["area"] == "BT":
            for k in range(int(t["dmin"]), int(t["dmax"]) + 1):
                sectors += [(f"BT{k}", s, 150) for s in range(1, 10)]
    sectors.sort(key=lambda r: (_dkey(r[0]), r[1]))
    districts = []
    for dist in sorted({s[0] for s in sectors}, key=_dkey):
        area = re.match(r"[A-Z]+", dist).group(0)  # type: ignore[union-attr]
        num = int(re.match(r"[A-Z]+(\d+)", dist).group(1))  # type: ignore[union-attr]
        hit = [t for t in towns if t["area"] == area and int(t["dmin"]) <= num <= int(t["dmax"])]
        if hit:
            t = max(hit, key=lambda t: float(t["weight"]))
            districts.append((dist, t["town"], t["region"], t["std"]))
        else:
            a = areas[area]
            districts.append((dist, a["town"], a["region"], a["std"]))
    return districts, sectors


def _dkey(d: str) -> tuple[str, int, str]:
    m = re.match(r"([A-Z]+)(\d+)([A-Z]?)", d)
    assert m, d
    return m.group(1), int(m.group(2)), m.group(3)


def _write(name: str, header: list[str], rows: Iterable[tuple[object, ...]]) -> int:
    n = 0
    with open(HERE / name, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([f"{x:.4g}" if isinstance(x, float) else x for x in r])
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--faker", type=Path, required=True, help="unpacked Faker wheel")
    ap.add_argument("--postcodes", type=Path, required=True, help="postcodinator's parquet")
    a = ap.parse_args()
    fn = first_names(a.faker)
    print(
        "first_names",
        _write("first_names.csv", ["name", "gender", "origin", "weight", "nicknames"], fn),
    )
    sn = surnames(a.faker)
    print("surnames", _write("surnames.csv", ["name", "origin", "weight"], sn))
    districts, sectors = postcodes(a.postcodes)
    print(
        "districts",
        _write("postcode_districts.csv", ["district", "town", "region", "std"], districts),
    )
    print("sectors", _write("postcode_sectors.csv", ["district", "sector", "units"], sectors))


if __name__ == "__main__":
    main()
