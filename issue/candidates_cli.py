"""``omov issue candidates …``: validate nominations and write the candidates' pack.

Thin edge over ``issue.candidates``: read files, call the core, write reports, map problems to
exit codes (3 when a person must fix candidates.csv).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from issue import candidates as core
from omov.appfactory import new_app
from omov.errors import InputError, ProblemsFound, UsageError
from omov.fileio import sha256_file, write_json_atomic, write_text_atomic
from omov.textio import read_text, render_html, write_csv

VALIDATION_FORMAT_VERSION = "omov.candidates-validation/1"
PACK_FORMAT_VERSION = "omov.candidates-pack/1"
PACK_COLUMNS = (
    "format_version",
    "ballot_number",
    "name",
    "organisation",
    "gender",
    "nominations",
    "bio",
)

candidates_app = new_app(
    "candidates",
    "Validate candidates' nominations and write the candidates' pack and ballot definition.",
)


def load_roll(members: Path) -> dict[str, core.RollEntry]:
    """membership number → eligibility, from the dedupe stage's members.parquet.

    Reads 4 columns only; the names of members with no membership number are kept (as keys
    ``name:<name key>``) only to explain a candidate missing by number.
    """
    import pyarrow.parquet as pq

    if not members.is_file():
        raise InputError(
            "merged roll not found",
            path=str(members),
            fix="run `omov dedupe run …` first and pass DIR/members.parquet",
        )
    try:
        table = pq.read_table(
            members, columns=["membership_number", "eligible", "ineligible_reason", "full_name"]
        )
    except Exception as exc:  # pyarrow raises several types for a bad or foreign file
        raise InputError(f"cannot read the merged roll ({exc})", path=str(members)) from exc
    roll: dict[str, core.RollEntry] = {}
    cols = table.to_pydict()
    for number, eligible, reason, name in zip(
        cols["membership_number"],
        cols["eligible"],
        cols["ineligible_reason"],
        cols["full_name"],
        strict=True,
    ):
        key = core.normalise_membership_number(str(number)) if number is not None else None
        if key is None:
            roll[core.UNNUMBERED_PREFIX + core.name_key(str(name or ""))] = core.RollEntry(False)
            continue
        entry = core.RollEntry(bool(eligible), str(reason or ""), str(name or ""))
        if key not in roll or entry.eligible:
            roll[key] = entry
    return roll


def _check(
    candidates_path: Path, members: Path, bio_words: int
) -> tuple[list[core.Candidate], list[core.Problem]]:
    text = read_text(candidates_path, "candidates file")
    cands, problems = core.read_candidates(text, str(candidates_path))
    roll = load_roll(members)
    problems += core.validate_candidates(cands, roll, str(candidates_path), bio_words)
    problems.sort(key=lambda p: p.line)
    return cands, problems


def _write_validation(
    out: Path,
    path: Path,
    cands: Sequence[core.Candidate],
    problems: Sequence[core.Problem],
    bio_words: int,
) -> Path:
    report = out / "candidates_validation.json"
    write_json_atomic(
        report,
        {
            "format_version": VALIDATION_FORMAT_VERSION,
            "candidates_file": str(path),
            "candidates_sha256": sha256_file(path),
            "bio_word_limit": bio_words,
            "candidates": len(cands),
            "problem_count": len(problems),
            "problems": [
                {
                    "file": p.path,
                    "line": p.line,
                    "code": p.code,
                    "candidate": p.candidate,
                    "message": p.message,
                }
                for p in problems
            ],
        },
    )
    return report


def _echo_problems(problems: Sequence[core.Problem]) -> None:
    for p in problems:
        typer.echo(p.render(), err=True)


@candidates_app.command("validate")
def validate(
    candidates: Annotated[
        Path,
        typer.Argument(
            help="candidates.csv (name,membership_number,organisation,bio,nominations,gender)."
        ),
    ],
    members: Annotated[
        Path, typer.Option("--members", help="The merged roll: DIR/members.parquet.")
    ],
    bio_words: Annotated[int, typer.Option("--bio-words", min=1, help="Bio word limit.")] = 150,
    out: Annotated[Path, typer.Option("--out", help="Where the report goes.")] = Path(
        "out/candidates"
    ),
) -> None:
    """Report every problem with the candidates at once (file and line), exit 3 if any.

    Example: omov issue candidates validate candidates.csv --members out/dedupe/members.parquet
    """
    cands, problems = _check(candidates, members, bio_words)
    report = _write_validation(out, candidates, cands, problems, bio_words)
    if problems:
        _echo_problems(problems)
        raise ProblemsFound(
            f"{len(problems)} problem(s) with {candidates}; report: {report}",
            fix="correct candidates.csv (or the roll) and validate again",
        )
    typer.echo(f"{len(cands)} candidates, no problems; report: {report}")


@candidates_app.command("pack")
def pack(
    candidates: Annotated[Path, typer.Argument(help="candidates.csv.")],
    members: Annotated[
        Path, typer.Option("--members", help="The merged roll: DIR/members.parquet.")
    ],
    election: Annotated[str, typer.Option("--election", help="Election id (as given to issue).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    seats: Annotated[int, typer.Option("--seats", min=1, help="Places to fill.")] = 9,
    title: Annotated[str, typer.Option("--title", help="Title of the pack.")] = "NEC election",
    order: Annotated[str, typer.Option("--order", help="alphabetical | random.")] = "alphabetical",
    seed: Annotated[
        str | None, typer.Option("--seed", help="Published seed for --order random.")
    ] = None,
    bio_words: Annotated[int, typer.Option("--bio-words", min=1, help="Bio word limit.")] = 150,
    drop_invalid: Annotated[
        bool, typer.Option("--drop-invalid", help="Leave candidates with problems off the ballot.")
    ] = False,
    audit_log: Annotated[
        Path | None,
        typer.Option("--audit-log", help="Append 'candidates.packed' (digests) to this audit log."),
    ] = None,
) -> None:
    """Write the candidates' pack (HTML + CSV) and the ballot definition the count uses.

    Example: omov issue candidates pack candidates.csv --members m.parquet --election nec-2026
      --order random --seed "drawn 1 May" --out out/pack
    """
    if order not in core.ORDER_CHOICES:
        raise UsageError(f"--order {order!r}: choose one of {', '.join(core.ORDER_CHOICES)}")
    if order == "random" and not seed:
        raise UsageError(
            "--order random needs --seed S (publish the seed so anyone can re-derive the order)"
        )
    cands, problems = _check(candidates, members, bio_words)
    _write_validation(out, candidates, cands, problems, bio_words)
    kept, dropped = _apply_drop(cands, problems, drop_invalid)
    if len(kept) <= seats:
        raise ProblemsFound(
            f"{len(kept)} valid candidate(s) for {seats} seat(s): the election is "
            "uncontested or short of candidates; no ballot written"
        )
    ballot = core.build_ballot_definition(
        kept,
        election_id=election,
        seats=seats,
        title=title,
        order=order,
        seed=seed,
        candidates_sha256=sha256_file(candidates),
        dropped=[c.name for c in dropped],
    )
    digests = _write_pack(out, kept, ballot)
    if audit_log is not None:
        from issue import audit

        head = audit.append(
            audit_log,
            "candidates.packed",
            election=election,
            candidates_sha256=ballot.candidates_sha256,
            seats=seats,
            on_ballot=len(kept),
            dropped=len(dropped),
            order=order,
            seed_sha256=ballot.seed_sha256,
            outputs=digests,
        )
        typer.echo(f"audit log head at the close of nominations (publish it): {head}")
    if dropped:
        _echo_problems(problems)
        typer.echo(
            f"left off the ballot (--drop-invalid): {', '.join(c.name for c in dropped)}", err=True
        )
    typer.echo(
        f"ballot definition: {out / 'ballot_definition.json'}\n"
        f"candidates' pack: {out / 'candidates_pack.html'}"
    )


def _apply_drop(
    cands: list[core.Candidate], problems: list[core.Problem], drop: bool
) -> tuple[list[core.Candidate], list[core.Candidate]]:
    bad_lines = {p.line for p in problems}
    if bad_lines and not drop:
        _echo_problems(problems)
        raise ProblemsFound(
            f"{len(problems)} problem(s) with the candidates: no pack written",
            fix="fix candidates.csv, or pass --drop-invalid to leave those "
            "candidates off the ballot",
        )
    if any(p.code in ("missing_columns", "malformed_row") for p in problems):
        _echo_problems(problems)
        raise ProblemsFound("candidates.csv cannot be read reliably: no pack written")
    kept = [c for c in cands if c.line not in bad_lines]
    return kept, [c for c in cands if c.line in bad_lines]


def _write_pack(
    out: Path, kept: list[core.Candidate], ballot: core.BallotDefinition
) -> dict[str, str]:
    """Pack CSV + HTML and the ballot definition; returns name → SHA-256."""
    rows = core.pack_rows(kept, ballot)
    csv_hash = write_csv(
        out / "candidates_pack.csv",
        PACK_COLUMNS,
        ({"format_version": PACK_FORMAT_VERSION, **r} for r in rows),
    )
    html = render_html(
        "issue",
        "candidates_pack.html.j2",
        title=ballot.title,
        election=ballot.election_id,
        seats=ballot.seats,
        order=ballot.order,
        rows=rows,
        format_version=PACK_FORMAT_VERSION,
    )
    return {
        "candidates_pack.csv": csv_hash,
        "candidates_pack.html": write_text_atomic(out / "candidates_pack.html", html),
        "ballot_definition.json": write_json_atomic(
            out / "ballot_definition.json", core.ballot_definition_to_dict(ballot)
        ),
    }


def read_ballot_definition(path: Path) -> core.BallotDefinition:
    """The ballot definition pack wrote, or InputError (exit 2)."""
    from omov.textio import read_json

    data = read_json(path, "ballot definition")
    try:
        return core.ballot_definition_from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"not an omov ballot definition: {exc}",
            path=str(path),
            fix="write it with `omov issue candidates pack`",
        ) from exc


__all__ = ["candidates_app", "load_roll", "read_ballot_definition"]
