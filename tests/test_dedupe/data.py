# ruff: noqa: E501  (CSV fixtures are clearer on one line each)
"""A small hand-made world of three organisations, with the classic traps in it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dedupe.levels import COMPARISONS, Field
from dedupe.outputs import DIGESTED_OUTPUTS

NORTH = """Member ID,Labour Membership No,First Name,Last Name,Date of Birth,Email,Mobile,Address Line 1,Town,Postcode,Status
N1,L1234567,Margaret,Hughes,03/04/1961,maggie.hughes@gmail.com,07700 900001,12 Mill Lane,Leeds,LS6 2AB,Active
N2,L2345678,Robert,Okafor,15/09/1975,rob.okafor@btinternet.com,07700 900002,4 Kirk Road,York,YO1 7HH,Active
N3,L3456789,David,Price,01/02/1950,dprice@aol.com,,9 Bank St,Hull,HU1 1AA,Active
N4,L3456780,David,Price Jr,14/06/1980,dprice.jr@aol.com,07700 900004,9 Bank St,Hull,HU1 1AA,Active
N5,L5678901,Aisha,Begum,22/11/1990,aisha.begum@outlook.com,07700 900005,77 Park Ave,Bradford,BD1 1XY,Lapsed
N6,L6789012,Tom,Ward,05/05/1985,tom.ward@gmail.com,07700 900006,3 Elm Close,Derby,DE1 2CD,Active
N7,L6789013,Tim,Ward,05/05/1985,tim.ward@gmail.com,07700 900007,3 Elm Close,Derby,DE1 2CD,Active
"""

UNION = """ref,lp_no,forename,surname,email_address,tel,postcode,union
T1,1234567,Maggie,Hughes,maggiehughes@googlemail.com,447700900001,LS6 2AB,UNISON
T2,L 234 5687,Rob,Okafor,rob.okafor@btinternet.com,,YO1 7HH,GMB
T3,,Siân,Llewellyn,sian.ll@example.org,07700 900008,CF10 1AA,PCS
T4,8901234,Aisha,Begum,aisha.begum@outlook.com,,BD1 1XY,PCS
"""

YOUNG = """Contact ID,Membership Number (Labour),Name,Birth date,Email Address,Telephone,Address,Consent
Y1,06789012,"WARD, Tom",05/05/1985,tom.ward@gmail.com,,"3 Elm Close, Derby, DE1 2CD",Y
Y2,09012345,"LLEWELLYN, Siân",12/25/1999,sian.ll@example.org,+44 (0)7700 900008,"5 Bute St, Cardiff, CF10 1AA",N
Y3,09999999,"NOBODY, Nia",01/13/2001,nia@example.org,,"1 Sea View, Rhyl, LL18 1AA",N
"""

#: Every file ``omov dedupe run`` writes into --out.
OUTPUTS = (*DIGESTED_OUTPUTS, "summary.json")

#: The true persons, by (org, row_id).
TRUTH = {
    ("north", 1): "margaret",
    ("union", 1): "margaret",
    ("north", 2): "robert",
    ("union", 2): "robert",
    ("north", 3): "david_sr",
    ("north", 4): "david_jr",
    ("north", 5): "aisha",
    ("union", 4): "aisha",
    ("north", 6): "tom",
    ("young", 1): "tom",
    ("north", 7): "tim",
    ("union", 3): "sian",
    ("young", 2): "sian",
    ("young", 3): "nia",
}


def write_world(
    folder: Path, encodings: tuple[str, str, str] = ("utf-8", "cp1252", "utf-8-sig")
) -> list[Path]:
    """Write the three exports; return their paths (org name = file stem)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for (name, text), enc in zip(
        (("north", NORTH), ("union", UNION), ("young", YOUNG)), encodings, strict=True
    ):
        p = folder / f"{name}.csv"
        p.write_bytes(text.encode(enc))
        paths.append(p)
    return paths


def shuffle_file(path: Path, order: list[int]) -> dict[int, int]:
    """Rewrite ``path`` with its data rows in ``order``; return old row_id -> new row_id."""
    lines = (
        path.read_bytes()
        .decode("utf-8-sig" if path.read_bytes().startswith(b"\xef\xbb\xbf") else "cp1252")
        .splitlines(keepends=True)
    )
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    enc = "utf-8" if bom or _is_utf8(raw) else "cp1252"
    header, rows = lines[0], lines[1:]
    new = [rows[k] for k in order]
    data = (header + "".join(new)).encode(enc)
    path.write_bytes(
        (b"\xef\xbb\xbf" if bom and not data.startswith(b"\xef\xbb\xbf") else b"") + data
    )
    return {old + 1: pos + 1 for pos, old in enumerate(order)}


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def population(names: list[tuple[str, str]]) -> str:
    """Rows of other members (no shared address, number or email with anyone) in the
    ``Member ID,Labour Membership No,First Name,Last Name,Date of Birth,Email,Phone,
    Address Line 1,Town,Postcode`` layout: enough of each given name that the data knows it,
    as any real export of a few hundred members does."""
    return "".join(
        f"P{k},{7300100 + 37 * k},{first},{last},{1 + k % 27:02d}/{1 + k % 12:02d}/{1950 + k},"
        f"{first.lower()}{k}@example.net,,{k} High Street,Leeds,LS1{k % 9} {k % 9}AB\n"
        for k, (first, last) in enumerate(names, start=1)
    )


def level_row(**named: int) -> np.ndarray:
    """One candidate pair's level row, the named fields set (``first_name=FirstName.EXACT``),
    every other field missing: the input ``pair_rules`` and ``sure_links`` read."""
    out = np.zeros((1, len(COMPARISONS)), np.int8)
    for name, value in named.items():
        out[0, Field[name.upper()]] = value
    return out
