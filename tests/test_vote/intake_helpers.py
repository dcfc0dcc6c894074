"""Builders shared by the intake tests: a tiny merged roll, candidates files, typer runners."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from omov.appfactory import new_app
from omov.errors import OmovError


def write_members(
    path: Path, rows: list[tuple[str | None, bool, str]], names: list[str] | None = None
) -> Path:
    """members.parquet with the dedupe stage's columns; rows: (number, eligible, why); names
    default to 'Person i'."""
    n = len(rows)
    table = pa.table(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "full_name": names or [f"Person {i}" for i in range(n)],
            "first_name": ["P"] * n,
            "last_name": [str(i) for i in range(n)],
            "email": pa.array([f"p{i}@example.org" for i in range(n)], pa.string()),
            "phone": pa.array([None] * n, pa.string()),
            "address": pa.array([f"{i} High Street" for i in range(n)], pa.string()),
            "town": pa.array(["Leeds"] * n, pa.string()),
            "postcode": pa.array(["LS1 1AA"] * n, pa.string()),
            "organisations": ["Org"] * n,
            "membership_number": pa.array([r[0] for r in rows], pa.string()),
            "eligible": [r[1] for r in rows],
            "ineligible_reason": [r[2] or None for r in rows],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def count_app() -> typer.Typer:
    """A local stand-in for count.cli.app with our commands mounted as the lead will mount them."""
    from count.report_cli import register_report
    from issue.candidates_cli import candidates_app
    from vote.intake_cli import register_intake

    app = new_app("count", "test count app")
    app.add_typer(candidates_app, name="candidates")
    register_intake(app)
    register_report(app)
    return app


def invoke(args: list[str]) -> tuple[int, str, str]:
    """Run the local app in-process; OmovError becomes its exit code as omov.cli does."""
    runner = CliRunner()
    result = runner.invoke(count_app(), args, catch_exceptions=True)
    exc = result.exception
    if isinstance(exc, OmovError):
        return int(exc.exit_code), result.stdout, result.stderr + exc.render()
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return result.exit_code, result.stdout, result.stderr


def make_ballot_def(path: Path, names: list[str], election: str = "e1", seats: int = 2) -> Path:
    """A ballot definition as `issue candidates pack` writes it."""
    from issue import candidates as cands
    from omov.fileio import write_json_atomic

    ballot = cands.BallotDefinition(
        election_id=election,
        seats=seats,
        title="Test election",
        order="alphabetical",
        candidates=tuple(cands.BallotCandidate(i, n, "Org") for i, n in enumerate(names, 1)),
    )
    write_json_atomic(path, cands.ballot_definition_to_dict(ballot))
    return path


def make_register(
    tmp: Path,
    unused: list[str],
    revoked: list[str] = (),  # type: ignore[assignment]
    used: list[str] = (),
    election: str = "e1",
) -> tuple[Path, Path]:  # type: ignore[assignment]
    """register.sqlite + vote.key with the given canonical tokens in each state."""
    import secrets

    from issue.keys import VoteKey, write_vote_key
    from issue.register import Register

    key = VoteKey(election, secrets.token_bytes(32))
    keyfile = tmp / "vote.key"
    write_vote_key(keyfile, key)
    db = tmp / "register.sqlite"
    with Register.open(db, key, create=True) as reg:
        reg.add_unused(key.token_hashes([*unused, *revoked, *used]))
        if revoked:
            reg.add_unused([], revoke=key.token_hashes(list(revoked)))
        if used:
            reg.consume_many_hashes(key.token_hashes(list(used)))
    return db, keyfile


def write_returns(path: Path, rows: list[tuple[str, str]]) -> Path:
    """A channel file: header token,preferences then the rows."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["token", "preferences"])
        w.writerows(rows)
    return path


ELECTION_NAMES = ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale"]


def build_election(tmp_path: Path) -> dict[str, Path]:
    """A small election end to end: register, two channels, intake, ERS97 count, audit log."""
    from count.outputs import count_file, write_result
    from issue import audit
    from issue.tokens import new_tokens

    toks = new_tokens(30)
    db, key = make_register(tmp_path / "issue", unused=toks[:26], revoked=toks[26:28])
    bdef = make_ballot_def(tmp_path / "pack" / "ballot_definition.json", ELECTION_NAMES, seats=2)
    log = tmp_path / "issue" / "audit.log"
    audit.append(log, "roll.loaded", rows=26)
    marks = ["1;2;3;4", "2;1;;", "1;;2;", ";1;;2", "1;;;", ";;1;2", "3;;1;2", "1;2;;3"]
    online = write_returns(
        tmp_path / "online.csv",
        [(t, marks[i % 8]) for i, t in enumerate(toks[:14])] + [(toks[26], "1;;;"), ("BAD", "1")],
    )
    postal = write_returns(
        tmp_path / "postal.csv",
        [(t, marks[(i + 3) % 8]) for i, t in enumerate(toks[14:22])]
        + [(toks[22], ""), (toks[23], "2;2;;"), (toks[0], "1;;;")],
    )
    intake = tmp_path / "intake"
    code, _, err = invoke(
        [
            "intake",
            str(online),
            str(postal),
            "--register",
            str(db),
            "--keys",
            str(key),
            "--ballot-def",
            str(bdef),
            "--out",
            str(intake),
            "--audit-log",
            str(log),
            "--accept-invalid",
        ]
    )
    assert code == 3, err  # rows were rejected (revoked, malformed, repeated, spoilt)
    write_result(count_file(intake / "ballots.blt", "ers97"), tmp_path / "count")  # count/ own
    return {
        "db": db,
        "key": key,
        "bdef": bdef,
        "log": log,
        "intake": intake,
        "count": tmp_path / "count",
        "out": tmp_path / "report",
    }
