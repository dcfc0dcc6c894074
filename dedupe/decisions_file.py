"""The auditor's decisions file: read it (every problem at once), and add new answers to it.

Why a file of its own: the auditor's work must outlive every run. omov never writes a file it
was given; new answers (a filled copy of ``review_queue.csv``, or the CSV the duplicate report
downloads) are *added* to the decisions file by ``omov dedupe decisions add``, which keeps every
earlier line byte for byte and appends only what is new.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from dedupe.csvfile import decode_bytes, parse_records
from dedupe.schema import DECISION_COLUMNS, header_key
from omov.csvsafe import restore
from omov.errors import InputError
from omov.fileio import atomic_open, write_text_atomic
from omov.textio import csv_text


class Decision(StrEnum):
    """What the auditor said about the records a line names."""

    SAME = "same"
    DIFFERENT = "different"


#: Spellings read as each decision (after lower-casing and dropping spaces and punctuation).
_SPELLINGS = {
    Decision.SAME: ("same", "sameperson", "s", "merge", "match"),
    Decision.DIFFERENT: (
        "different",
        "diff",
        "differentpeople",
        "differentperson",
        "differentpersons",
        "notsame",
        "d",
        "distinct",
        "separate",
    ),
}
_BY_SPELLING = {s: d for d, spellings in _SPELLINGS.items() for s in spellings}


def read_decision(text: str) -> Decision | None:
    """``Same``, ``same ``, ``DIFFERENT``, ``Different.`` ... -> the decision; '' -> None.

    Raises ValueError for anything else (the caller lists it with its line).
    """
    key = re.sub(r"[\W_]+", "", text.lower())
    if not key:
        return None
    if key in _BY_SPELLING:
        return _BY_SPELLING[key]
    raise ValueError(text)


@dataclass
class DecisionsFile:
    """A decisions file read and checked: its rows (DECISION_COLUMNS, decision canonical)."""

    path: Path
    table: pd.DataFrame
    lines: list[int]
    problems: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  #: as written in the file
    encoding: str = "utf-8"  #: new lines are appended in the file's own encoding


def _problems_error(problems: list[str]) -> InputError:
    head = f"{len(problems)} problem(s) in the decisions file(s); nothing was run:"
    return InputError(
        "\n    ".join([head, *problems]),
        fix="correct every line listed (decision: same or different; blank to skip a line), "
        "then run again",
    )


def read_decisions(path: Path) -> DecisionsFile:
    """Read and check a decisions file; every problem is listed in one error (exit 2)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the decisions file ({exc.strerror})",
            path=str(path),
            fix="check the path given to --decisions",
        ) from exc
    text, encoding = decode_bytes(raw, path)
    header, records, lines, _ = parse_records(text, path)
    # Cells omov neutralised in review_queue.csv (a leading "'") read back raw: omov.csvsafe.
    cols = [header_key(restore(h)).replace(" ", "_") for h in header]
    if "decision" not in cols:
        raise InputError(
            "the decisions file needs a 'decision' column",
            path=str(path),
            line=1,
            fix="start from review_queue.csv (copied out of --out) or the report's 'Download "
            "decisions' file: fill in 'decision' (same/different) and 'note'",
        )
    problems: list[str] = []
    rows = []
    for rec, line in zip(records, lines, strict=True):
        d = dict(zip(cols, [restore(v).strip() for v in rec], strict=False))
        row = {c: d.get(c, "") for c in DECISION_COLUMNS}
        try:
            dec = read_decision(row["decision"])
        except ValueError:
            problems.append(
                f"{path}:{line}: decision {row['decision']!r} is neither 'same' nor 'different'"
            )
            dec = None
        row["decision"] = dec.value if dec else ""
        if dec and not _names_records(row):
            problems.append(
                f"{path}:{line}: the decision names no records (keep the columns source_org_a, "
                "row_id_a, fingerprint_a, source_org_b, … or 'records' from review_queue.csv)"
            )
        rows.append(row)
    problems += [f"{path}:{p}" for p in _contradictions(rows, lines)]
    table = pd.DataFrame(rows, columns=list(DECISION_COLUMNS), dtype=object)
    enc = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le" if raw[:2] == b"\xff\xfe" else "utf-16-be"}
    return DecisionsFile(path, table, lines, problems, header, enc.get(encoding, encoding))


def _contradictions(rows: list[dict[str, str]], lines: list[int]) -> list[str]:
    """Lines that decide the same records both ways (found before any export is read)."""
    first: dict[tuple[str, ...], tuple[str, int]] = {}
    out = []
    for row, line in zip(rows, lines, strict=True):
        if not row["decision"] or not _names_records(row):
            continue
        key = _key(row)
        if key in first and first[key][0] != row["decision"]:
            out.append(
                f"{line}: says {row['decision']!r} but line {first[key][1]} says "
                f"{first[key][0]!r} about the same records"
            )
        first.setdefault(key, (row["decision"], line))
    return out


def _names_records(row: dict[str, str]) -> bool:
    return bool(
        row["fingerprint_a"]
        or row["row_id_a"]
        or row["fingerprint_b"]
        or row["row_id_b"]
        or row["records"]
    )


def load_decisions(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """The decisions table and each row's line; every problem in the file at once (exit 2)."""
    got = read_decisions(path)
    if got.problems:
        raise _problems_error(got.problems)
    return got.table, got.lines


def _key(row: Mapping[Any, object]) -> tuple[str, ...]:
    """The records a line is about, order-free (a pair may be written either way round)."""
    a = (str(row["source_org_a"]), str(row["fingerprint_a"] or row["row_id_a"]))
    b = (str(row["source_org_b"]), str(row["fingerprint_b"] or row["row_id_b"]))
    group = tuple(sorted(t.strip() for t in str(row["records"]).split(";") if t.strip()))
    return tuple(sorted([":".join(a), ":".join(b)])) + group


@dataclass(frozen=True)
class Added:
    """What ``add_decisions`` did: lines appended, lines already there."""

    added: int
    already: int
    path: Path


def add_decisions(answers: list[Path], ledger: Path) -> Added:
    """Append the decided lines of ``answers`` that ``ledger`` does not hold yet.

    Every problem in every file is listed at once (exit 2, nothing written); an answer that
    contradicts a line already in the ledger is such a problem (edit the ledger line to change
    a decision). The ledger's existing bytes are kept as they are; it is created if missing.
    """
    if any(a.resolve() == ledger.resolve() for a in answers):
        raise InputError(
            "the answers file is the decisions file itself",
            path=str(ledger),
            fix="give the new answers (a filled review_queue.csv copy or the report's "
            "download) first and the decisions file after --to",
        )
    fresh = not ledger.exists() or ledger.stat().st_size == 0  # `touch decisions.csv` is new
    old = None if fresh else read_decisions(ledger)
    known: dict[tuple[str, ...], tuple[str, int]] = {}
    problems: list[str] = list(old.problems if old else [])
    if old is not None:
        for row, line in zip(old.table.to_dict("records"), old.lines, strict=True):
            if row["decision"]:
                known[_key(row)] = (str(row["decision"]), line)
    new_rows: list[dict[Any, object]] = []
    already = 0
    for path in answers:
        got = read_decisions(path)
        problems += got.problems
        for row, line in zip(got.table.to_dict("records"), got.lines, strict=True):
            if not row["decision"]:
                continue
            key = _key(row)
            if key in known and known[key][0] != row["decision"]:
                problems.append(
                    f"{path}:{line}: says {row['decision']!r} but {ledger} line "
                    f"{known[key][1]} says {known[key][0]!r} about the same records (to change "
                    "your decision, edit that line of the decisions file)"
                )
            elif key in known:
                already += 1
            else:
                known[key] = (str(row["decision"]), line)
                new_rows.append(row)
    if problems:
        raise _problems_error(problems)
    _append(ledger, new_rows, old)
    return Added(len(new_rows), already, ledger)


def _append(ledger: Path, rows: list[dict[Any, object]], old: DecisionsFile | None) -> None:
    """Old bytes + new lines (in the ledger's own column order), written atomically."""
    if old is None:
        write_text_atomic(ledger, csv_text(DECISION_COLUMNS, rows))
        return
    if not rows:
        return
    keys = [header_key(h).replace(" ", "_") for h in old.header]
    out = [{h: row.get(k, "") for h, k in zip(old.header, keys, strict=True)} for row in rows]
    body = csv_text(old.header, out).split("\n", 1)[1]
    raw = ledger.read_bytes()
    sep = b"" if raw.endswith((b"\n", b"\r")) else b"\r\n" if b"\r\n" in raw else b"\n"
    with atomic_open(ledger, "wb") as fh:
        fh.write(raw + sep + body.encode(old.encoding))
