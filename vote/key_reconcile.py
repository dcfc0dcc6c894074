"""``omov vote key-reconcile FIRST.csv SECOND.csv``: double-keyed postal returns.

Two operators key the same returned papers independently (as ERS does); only papers on which both
readings agree go to the intake, and every disagreement is listed with both readings for a third
look. Nothing disagreed reaches the intake.

Input (each operator's file, UTF-8 CSV): ``paper,token,preferences`` — ``paper`` is the number
stamped on the returned paper (any text, e.g. ``B03-0042``) and pairs the two readings — or
``token,preferences`` alone, paired by row order (then one skipped row puts every later paper in
disagreement: safe, but use ``paper`` numbers). ``token`` and ``preferences`` are as the intake
reads them (docs/formats-intake.md §3).

What counts as agreeing: the tokens are equal after issue/'s lenient reading (case, hyphens and
spaces ignored, O→0, I/L→1; a token that cannot be read is compared as typed, upper-cased, without
spaces or hyphens: if both operators typed the same unreadable token the paper goes on and the
intake rejects it, accounted), and the marks are equal position by position after trimming spaces
and trailing empty positions. A paper number missing from one file, or given twice in one file,
is a disagreement.

Outputs in ``--out DIR``: ``<channel>.csv`` (``token,preferences``: the intake channel file; the
token in its grouped form when readable), ``disagreements.csv`` and ``reconcile_report.json``
(counts and the SHA-256 of every file). Both CSVs hold tokens: they are the scrutineer's working
files. Exit 3 when any paper disagrees (the agreed file is still written).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from omov.errors import InputError, ProblemsFound, UsageError
from omov.fileio import sha256_file, write_json_atomic
from omov.textio import write_csv

FORMAT_VERSION = "omov.key-reconcile/1"
DISAGREEMENT_COLUMNS = (
    "format_version",
    "paper",
    "issue",
    "first_line",
    "first_token",
    "first_preferences",
    "second_line",
    "second_token",
    "second_preferences",
)
_CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class Reading:
    """One operator's reading of one paper."""

    paper: str
    line: int
    token: str
    preferences: str


@dataclass
class Reconciled:
    agreed: list[tuple[str, str]] = field(default_factory=list)  #: (token, preferences)
    agreed_papers: list[str] = field(default_factory=list)
    disagreements: list[dict[str, str]] = field(default_factory=list)
    first_rows: int = 0
    second_rows: int = 0


def token_key(text: str) -> tuple[str, bool]:
    """(comparison key, readable): the grouped token if it reads, else the text as typed."""
    from issue.tokens import TokenFormatError, format_token, normalise_token

    try:
        return format_token(normalise_token(text)), True
    except TokenFormatError:
        return re.sub(r"[\s-]", "", text).upper(), False


def marks_key(preferences: str) -> str:
    marks = [m.strip() for m in preferences.split(";")]
    while marks and not marks[-1]:
        marks.pop()
    return ";".join(marks)


def read_readings(path: Path) -> list[Reading]:
    """One operator's file; InputError naming the line for a bad header or row."""
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InputError(f"cannot open ({exc.strerror})", path=str(path)) from None
    with fh:
        try:
            rows = list(csv.reader(fh))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"not a UTF-8 CSV file ({exc})", path=str(path)) from None
    if not rows:
        raise InputError("empty file", path=str(path), line=1)
    header = [h.strip().lower() for h in rows[0]]
    if header not in (["paper", "token", "preferences"], ["token", "preferences"]):
        raise InputError(
            "expected the header 'paper,token,preferences' or 'token,preferences'",
            path=str(path),
            line=1,
        )
    with_paper = len(header) == 3
    out: list[Reading] = []
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} fields, expected {len(header)}",
                path=str(path),
                line=i,
                fix="a comma inside a field must be quoted",
            )
        paper = row[0].strip() if with_paper else f"row {len(out) + 1}"
        if with_paper and not paper:
            raise InputError("empty paper number", path=str(path), line=i)
        out.append(Reading(paper, i, row[-2].strip(), row[-1].strip()))
    return out


def _row(paper: str, why: str, a: Reading | None, b: Reading | None) -> dict[str, str]:
    return {
        "format_version": FORMAT_VERSION,
        "paper": paper,
        "issue": why,
        "first_line": str(a.line) if a else "",
        "first_token": a.token if a else "",
        "first_preferences": a.preferences if a else "",
        "second_line": str(b.line) if b else "",
        "second_token": b.token if b else "",
        "second_preferences": b.preferences if b else "",
    }


def _by_paper(readings: Sequence[Reading]) -> tuple[dict[str, Reading], dict[str, list[Reading]]]:
    one: dict[str, Reading] = {}
    many: dict[str, list[Reading]] = {}
    for r in readings:
        if r.paper in many:
            many[r.paper].append(r)
        elif r.paper in one:
            many[r.paper] = [one.pop(r.paper), r]
        else:
            one[r.paper] = r
    return one, many


def reconcile(first: Sequence[Reading], second: Sequence[Reading]) -> Reconciled:
    """Pair the readings by paper number; agreed papers in the first file's order."""
    result = Reconciled(first_rows=len(first), second_rows=len(second))
    a_one, a_many = _by_paper(first)
    b_one, b_many = _by_paper(second)
    for paper in sorted(set(a_many) | set(b_many)):  # every reading of such a paper is listed
        why = "paper_twice_in_first" if paper in a_many else "paper_twice_in_second"
        for r in a_many.get(paper, [a_one[paper]] if paper in a_one else []):
            result.disagreements.append(_row(paper, why, r, None))
        for r in b_many.get(paper, [b_one[paper]] if paper in b_one else []):
            result.disagreements.append(_row(paper, why, None, r))
    for a in first:
        if a.paper in a_many or a.paper in b_many:
            continue
        b = b_one.get(a.paper)
        if b is None:
            result.disagreements.append(_row(a.paper, "missing_in_second", a, None))
            continue
        (ta, readable), (tb, _) = token_key(a.token), token_key(b.token)
        same_token, same_marks = ta == tb, marks_key(a.preferences) == marks_key(b.preferences)
        if same_token and same_marks:
            result.agreed.append((ta if readable else a.token, marks_key(a.preferences)))
            result.agreed_papers.append(a.paper)
        else:
            why = (
                "token" if same_marks else "preferences" if same_token else "token_and_preferences"
            )
            result.disagreements.append(_row(a.paper, why, a, b))
    for b in second:
        if b.paper not in a_one and b.paper not in a_many and b.paper not in b_many:
            result.disagreements.append(_row(b.paper, "missing_in_first", None, b))
    return result


def key_reconcile_cmd(
    first: Annotated[Path, typer.Argument(help="The first operator's keyed file.")],
    second: Annotated[Path, typer.Argument(help="The second operator's keyed file.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the outputs.")],
    channel: Annotated[
        str, typer.Option("--channel", help="Intake channel name (the agreed file's stem).")
    ] = "postal",
) -> None:
    """Compare two operators' keying of the same papers; agreed papers become an intake file.

    Every disagreement is listed with both readings in OUT/disagreements.csv; nothing disagreed
    reaches OUT/<channel>.csv. Exit 3 if any paper disagrees.

    Example: omov vote key-reconcile keyed_alice.csv keyed_bob.csv --out out/postal_batch_03
    """
    if not _CHANNEL.match(channel) or channel == "disagreements":
        raise UsageError(f"--channel {channel!r}: use letters, digits, '.', '_' or '-'")
    a, b = read_readings(first), read_readings(second)
    r = reconcile(a, b)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    digests = {
        f"{channel}.csv": write_csv(
            out / f"{channel}.csv",
            ("token", "preferences"),
            ({"token": t, "preferences": p} for t, p in r.agreed),
        ),
        "disagreements.csv": write_csv(
            out / "disagreements.csv", DISAGREEMENT_COLUMNS, r.disagreements
        ),
    }
    papers_disagreed = len({d["paper"] for d in r.disagreements})
    write_json_atomic(
        out / "reconcile_report.json",
        {
            "format_version": FORMAT_VERSION,
            "inputs": [
                {"file": str(p), "sha256": sha256_file(p), "rows": n}
                for p, n in ((first, r.first_rows), (second, r.second_rows))
            ],
            "agreed": len(r.agreed),
            "papers_disagreed": papers_disagreed,
            "disagreement_rows": len(r.disagreements),
            "outputs": digests,
        },
    )
    typer.echo(
        f"first {r.first_rows} rows, second {r.second_rows} rows: agreed {len(r.agreed)}, "
        f"disagreed {papers_disagreed} paper(s)"
    )
    typer.echo(f"intake file: {out / f'{channel}.csv'}")
    if r.disagreements:
        raise ProblemsFound(
            f"{papers_disagreed} paper(s) disagree; none of them is in {channel}.csv",
            fix=f"have a third person look at the papers in {out / 'disagreements.csv'}, key "
            "the settled readings into a new file, and take it in as its own channel",
        )


def register_key_reconcile(app: typer.Typer) -> None:
    app.command("key-reconcile")(key_reconcile_cmd)
