"""Each candidate's group for a guard/doom constraint, from the candidates file.

Why a group map: candidates describe themselves (``Cis woman``, ``female (she/her)``, ``Man``),
and the pack prints what they wrote; a constraint such as ``gender:woman>=5`` needs a group per
candidate. ``--group-map FILE`` (CSV: a self-description and its group per line) says which
description belongs to which group, so the descriptions stay as written and nobody's answer is
rewritten. Without a map, the column must already hold the group names.

Every candidate's description must be in the map (spacing and case aside): a description the map
does not know is an error naming the candidates file's line, never a silent "other" group.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from issue.candidates import header_key, sniff_delimiter
from omov.csvsafe import restore
from omov.errors import InputError
from omov.textio import read_text

MAP_FIX = (
    "add a line 'DESCRIPTION,GROUP' to the group map for each description shown "
    "(docs/formats-count.md, 'Group map')"
)


def _key(text: str) -> str:
    """A description as the map matches it: case and spacing ignored."""
    return " ".join(text.casefold().split())


def _rows(path: Path, what: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header keys and (line, restored cells) of a small CSV (any delimiter ``,`` ``;`` TAB)."""
    text = read_text(path, what)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    rows = [(reader.line_num, [restore(c).strip() for c in row]) for row in reader if row]
    if not rows:
        raise InputError(f"the {what} is empty", path=str(path))
    return [header_key(h) for h in rows[0][1]], rows[1:]


def read_group_map(path: Path) -> dict[str, str]:
    """description → group, from a CSV whose first two columns are the two (header row first)."""
    header, rows = _rows(path, "group map")
    if len(header) < 2:
        raise InputError(
            "the group map needs two columns: a self-description and its group",
            path=str(path),
            line=1,
        )
    mapping: dict[str, str] = {}
    for line, cells in rows:
        if len(cells) < 2 or not cells[1]:
            raise InputError("a line with no group", path=str(path), line=line, fix=MAP_FIX)
        previous = mapping.setdefault(_key(cells[0]), cells[1])
        if previous != cells[1]:
            raise InputError(
                f"{cells[0]!r} is mapped to both {previous!r} and {cells[1]!r}",
                path=str(path),
                line=line,
            )
    return mapping


def candidate_groups(
    candidates: Path, attribute: str, group_map: dict[str, str] | None
) -> dict[str, str]:
    """name → group for every row of the candidates file (all unmapped descriptions at once)."""
    header, rows = _rows(candidates, "candidates file")
    col = header_key(attribute)
    for needed in ("name", col):
        if needed not in header:
            raise InputError(
                f"the candidates file has no '{needed}' column",
                path=str(candidates),
                line=1,
                fix=f"add a '{attribute}' column naming each candidate's group",
            )
    at_name, at_group = header.index("name"), header.index(col)
    groups: dict[str, str] = {}
    unknown: list[str] = []
    for line, cells in rows:
        name = " ".join(cells[at_name].split()) if at_name < len(cells) else ""
        said = cells[at_group] if at_group < len(cells) else ""
        if group_map is None:
            groups[name] = said
        elif _key(said) in group_map:
            groups[name] = group_map[_key(said)]
        else:
            unknown.append(f"line {line}: {name or '(no name)'}: {said!r}")
    if unknown:
        raise InputError(
            f"{len(unknown)} {attribute} description(s) the group map does not list:\n  "
            + "\n  ".join(unknown),
            path=str(candidates),
            fix=MAP_FIX,
        )
    return groups
