"""``omov vote intake``: check returned ballots against the vote register and write the
anonymised ballot file the count takes.

Thin edge over ``vote.intake``: it reads the channel files, adapts issue/'s ``Register`` to the
core's ``TokenRegister``, and writes ballots.blt, rejected.csv and the intake report. The counter
needs only the register and ``vote.key`` (K_vote): never the issuance ledger or member files.

Crash-safe: each run has an id, journalled in ``OUT/.intake-journal.json`` before any token is
consumed and recorded by the register on every token it wins, so a run killed at any moment is
finished by running the same command again (``vote.intake_journal`` explains the protocol).

Mount it on the vote app with ``register_intake(app)``.
"""

from __future__ import annotations

import csv
import re
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import numpy.typing as npt
import typer

from issue.candidates import BallotCandidate, BallotDefinition
from issue.candidates_cli import read_ballot_definition
from omov.errors import InputError, IntegrityError, UsageError
from omov.fileio import atomic_open, sha256_file, write_json_atomic, write_text_atomic
from omov.textio import read_json, render_html, write_csv
from vote import intake as core
from vote import intake_journal as journal

REPORT_FORMAT_VERSION = "omov.intake-report/1"
REJECTED_FORMAT_VERSION = "omov.intake-rejected/1"
REJECTED_COLUMNS = ("format_version", "channel", "file", "line", "reason", "detail")
OUTPUT_NAMES = (
    "ballots.blt",
    "ballots.csv",
    "rejected.csv",
    "intake_report.json",
    "intake_report.html",
)
_CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")

CLASS_HELP: dict[str, str] = {
    core.VALID: "counted (ERS97 §6: a clear first preference)",
    core.BLANK: "blank paper: no mark at all (the member voted; not counted)",
    core.INVALID_NO_FIRST: "no first preference (ERS97 5.1.2, 6.9)",
    core.INVALID_FIRST_UNCERTAIN: "first preference void for uncertainty: '1' given to "
    "more than one candidate (ERS97 6.9)",
    core.INVALID_EXTRA_MARKS: "a mark beyond the last candidate on the ballot paper",
    core.MALFORMED_ROW: "the row cannot be read (not exactly token,preferences)",
    core.TOKEN_MALFORMED: "token has the wrong length, a foreign symbol or a wrong check symbol",
    core.TOKEN_REPEATED: "token already returned earlier in this intake run",
    core.TOKEN_UNKNOWN: "token not in the register (never issued)",
    core.TOKEN_REVOKED: "token was revoked (a replacement was issued)",
    core.TOKEN_USED: "token already used (an earlier intake run or a concurrent one)",
}


@dataclass(frozen=True)
class Channel:
    """One channel file: its name (online, postal, …) and path."""

    name: str
    path: Path


def parse_channels(files: Sequence[Path], specs: Sequence[str]) -> list[Channel]:
    """Channels from plain paths (name = file stem) and ``NAME=PATH`` specs; names unique."""
    channels = [Channel(p.stem, p) for p in files]
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise UsageError(f"--channel {spec!r}: expected NAME=PATH")
        channels.append(Channel(name.strip(), Path(path)))
    if not channels:
        raise UsageError("no returned-ballot files given", fix="pass FILES or --channel NAME=PATH")
    names = [c.name for c in channels]
    for c in channels:
        if not _CHANNEL.match(c.name):
            raise UsageError(f"channel name {c.name!r}: use letters, digits, '.', '_' or '-'")
        if names.count(c.name) > 1:
            raise UsageError(
                f"channel {c.name!r} given twice", fix="name channels with --channel NAME=PATH"
            )
        if not c.path.is_file():
            raise InputError("returned-ballot file not found", path=str(c.path))
    return channels


def read_rows(channel: Channel) -> Iterator[core.ReturnedRow]:
    """Rows of one channel file, one per physical line, with its exact line number.

    A bad header, or bytes that are not UTF-8, stop the run (exit 2) before any token is used.
    Why not ``csv.reader``: a token and a mark string never hold a comma, quote or newline, so a
    line *is* a row; splitting lines is faster at 1M rows and keeps line numbers exact. A line
    with a double quote is parsed as CSV on its own (a quoted field may not span lines).
    """
    path = str(channel.path)
    try:
        fh = open(channel.path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (generator)
    except OSError as exc:
        raise InputError(f"cannot open ({exc})", path=path) from exc
    with fh:
        try:
            _check_header(fh.readline(), path)
            for lineno, raw in enumerate(fh, start=2):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue  # an empty line is not a returned paper
                fields = next(csv.reader([line])) if '"' in line else line.split(",")
                if len(fields) != 2:
                    yield core.ReturnedRow(
                        channel.name, lineno, "", "", f"{len(fields)} fields, expected 2"
                    )
                else:
                    yield core.ReturnedRow(channel.name, lineno, fields[0], fields[1])
        except UnicodeDecodeError as exc:
            raise InputError(
                "not UTF-8 text",
                path=path,
                line=_first_bad_line(channel.path),
                fix="save the file as UTF-8",
            ) from exc


def _first_bad_line(path: Path) -> int | None:
    """The line holding the first bytes that are not UTF-8 (decoding is done in blocks)."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return None


def _check_header(raw: str, path: str) -> None:
    text = raw.strip()
    if [h.strip().strip('"').lower() for h in text.split(",")] != ["token", "preferences"]:
        raise InputError("expected the header 'token,preferences'", path=path, line=1)


def check_headers(channels: Sequence[Channel]) -> None:
    """Fail on a bad header in any file before a single token is consumed."""
    for channel in channels:
        next(iter(read_rows(channel)), None)


def normalise_one(text: str) -> tuple[str | None, str]:
    """issue/'s lenient token reading; the error's reason (never the token) when malformed."""
    from issue.tokens import TokenFormatError, normalise_token

    try:
        return normalise_token(text), ""
    except TokenFormatError as exc:
        return None, exc.reason


def _gf32_times_two() -> npt.NDArray[np.uint8]:
    """x·s in GF(32) mod x^5 + x^2 + 1: the Damm step issue.tokens documents."""
    return np.array(
        [((s << 1) & 0x1F) ^ (0b00101 if s & 0x10 else 0) for s in range(32)], dtype=np.uint8
    )


def _symbol_values() -> npt.NDArray[np.uint8]:
    from issue.tokens import ALPHABET

    table = np.full(256, 255, dtype=np.uint8)
    for value, ch in enumerate(ALPHABET):
        table[ord(ch)] = value
    return table


_TIMES_TWO = _gf32_times_two()
_VALUES = _symbol_values()
_LENIENT = str.maketrans(
    {"O": "0", "I": "1", "L": "1", "-": None, " ": None, "\t": None, "\r": None, "\n": None}
)


def normalise(texts: Sequence[str]) -> list[tuple[str | None, str]]:
    """``normalise_one`` over a batch, vectorised for the common case (a well-typed token).

    The fast path only ever *accepts* a token whose check symbol it has verified with numpy;
    anything it does not accept goes through issue.tokens.normalise_token for the exact reason,
    so the two can never disagree on a rejection (a test compares them).
    """
    from issue.tokens import TOKEN_SYMBOLS

    cleaned = [t.upper().replace("-", "") for t in texts]
    cleaned = [
        c.translate(_LENIENT) if ("O" in c or "I" in c or "L" in c or " " in c) else c
        for c in cleaned
    ]
    idx = [i for i, c in enumerate(cleaned) if len(c) == TOKEN_SYMBOLS and c.isascii()]
    out: list[tuple[str | None, str] | None] = [None] * len(texts)
    if idx:
        raw = "".join(cleaned[i] for i in idx).encode("ascii")
        vals = _VALUES[np.frombuffer(raw, dtype=np.uint8).reshape(len(idx), TOKEN_SYMBOLS)]
        ok = (vals != 255).all(axis=1)
        running: npt.NDArray[np.uint8] = np.zeros(len(idx), dtype=np.uint8)
        for col in range(TOKEN_SYMBOLS):
            running = (_TIMES_TWO[running] ^ (vals[:, col] & 0x1F)).astype(np.uint8)
        ok &= running == 0
        for j in np.flatnonzero(ok).tolist():
            out[idx[j]] = (cleaned[idx[j]], "")
    return [o if o is not None else normalise_one(texts[i]) for i, o in enumerate(out)]


class RegisterAdapter:
    """issue.register.Register seen as the core's ``TokenRegister`` (canonical tokens in).

    With ``run_id`` every token won is marked used by this intake run, and a token an earlier,
    interrupted attempt of the same run had won ("reclaimed") counts as consumed now; how many
    were is kept in ``reclaimed`` for the report and the audit log.
    """

    _STATES: ClassVar[dict[str, str]] = {
        "won": core.STATE_CONSUMED,
        "reclaimed": core.STATE_CONSUMED,
        "used": core.STATE_USED,
        "revoked": core.STATE_REVOKED,
        "unknown": core.STATE_UNKNOWN,
    }

    def __init__(self, register: Any, chunk: int = 50_000, run_id: bytes | None = None) -> None:
        self._register = register
        self.CHUNK = chunk
        self.run_id = run_id
        self.reclaimed = 0
        self.transactions = 0

    def consume_many(self, tokens: Sequence[str]) -> list[str]:
        """Hash, then consume in hash order, CHUNK tokens per register transaction.

        Hash order walks the register's B-tree once from end to end (about 3x faster than
        arrival order on a 1M register). The sort is stable, so of two equal tokens the first
        still wins. Each chunk is one IMMEDIATE transaction: another intake process can
        interleave between chunks, never inside one.
        """
        from issue.crashpoints import kill_point

        hashes = self._register.key.token_hashes(list(tokens))
        keys = np.frombuffer(b"".join(hashes), dtype="S32") if hashes else np.array([], "S32")
        order: list[int] = np.argsort(keys, kind="stable").tolist()
        out = [""] * len(hashes)
        for start in range(0, len(order), self.CHUNK):
            part = order[start : start + self.CHUNK]
            states = self._register.consume_many_hashes(
                [hashes[i] for i in part], chunk=self.CHUNK, run_id=self.run_id
            )
            self.transactions += 1
            kill_point(f"intake_after_consume_{self.transactions}")
            for i, state in zip(part, states, strict=True):
                if state == "reclaimed":
                    self.reclaimed += 1
                out[i] = self._STATES[state]
        return out


def open_register(db: Path, keys: Path, ballot: BallotDefinition) -> Any:
    """The vote register with K_vote; refuses a register or key of another election."""
    from issue.register import Register

    if not db.is_file():
        raise InputError(
            "vote register not found",
            path=str(db),
            fix="pass the register.sqlite written by `omov issue run`",
        )
    register = Register.open(db, keys)
    if ballot.election_id and register.key.election != ballot.election_id:
        register.close()
        raise IntegrityError(
            f"the register is for election {register.key.election!r} but the "
            f"ballot definition is for {ballot.election_id!r}"
        )
    return register


def _refuse_existing(out: Path) -> None:
    """Never overwrite an earlier intake: its tokens are used, so its ballots exist only there.

    Outputs without a journal are a finished intake (or one from before journals existed).
    """
    existing = [n for n in OUTPUT_NAMES if (out / n).exists()]
    if existing:
        raise UsageError(
            f"{out} already holds an intake ({', '.join(existing)}); refusing to "
            "overwrite it (those ballots' tokens are used and could not be re-read)",
            fix="give a new --out directory for this intake",
        )


def write_outputs(
    out: Path, result: core.IntakeResult, ballot: BallotDefinition, channels: Sequence[Channel]
) -> dict[str, str]:
    """ballots.blt and ballots.csv (one shuffled order, from ``secrets``) and rejected.csv.

    Returns name → SHA-256. The CSV is count/'s own ballot grid (``count.ballot_files``).
    """
    from count.ballot_files import CSV_FORMAT_VERSION
    from issue.crashpoints import kill_point

    groups = core.shuffled_groups(result.rankings, secrets.token_bytes)
    with atomic_open(out / "ballots.blt", "w") as fh:
        fh.writelines(core.blt_lines(groups, ballot.names(), ballot.seats, ballot.title))
    kill_point("intake_blt_written")
    with atomic_open(out / "ballots.csv", "w") as fh:
        fh.writelines(
            core.csv_grid_lines(
                groups, ballot.names(), ballot.seats, ballot.title, CSV_FORMAT_VERSION
            )
        )
    csv_hash = sha256_file(out / "ballots.csv")
    files = {c.name: str(c.path) for c in channels}
    rank = {c.name: i for i, c in enumerate(channels)}
    result.rejections.sort(key=lambda r: (rank.get(r.channel, 0), r.line))
    rows = (
        {
            "format_version": REJECTED_FORMAT_VERSION,
            "channel": r.channel,
            "file": files.get(r.channel, ""),
            "line": r.line,
            "reason": r.reason,
            "detail": r.detail,
        }
        for r in result.rejections
    )
    return {
        "ballots.blt": sha256_file(out / "ballots.blt"),
        "ballots.csv": csv_hash,
        "rejected.csv": write_csv(out / "rejected.csv", REJECTED_COLUMNS, rows),
    }


def _tally_dict(t: core.IntakeResult | core.ChannelTally) -> dict[str, Any]:
    tally = t.totals() if isinstance(t, core.IntakeResult) else t
    return {
        "received": tally.received,
        "valid": tally.valid,
        "rejected": sum(tally.rejected.values()),
        "by_class": {
            c: (tally.valid if c == core.VALID else tally.rejected.get(c, 0))
            for c in core.ALL_CLASSES
        },
        "valid_notes": {n: tally.notes.get(n, 0) for n in core.NOTES},
    }


def build_report(
    result: core.IntakeResult,
    ballot: BallotDefinition,
    ballot_def: Path,
    inputs: list[dict[str, Any]],
    outputs: dict[str, str],
    register_counts: dict[str, int],
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The intake report (JSON): per channel and class, valid + rejected = received.

    ``run``: the intake run's id, attempt number and tokens reclaimed from earlier attempts.
    """
    return {
        **({"run": run} if run is not None else {}),
        "format_version": REPORT_FORMAT_VERSION,
        "election_id": ballot.election_id,
        "title": ballot.title,
        "seats": ballot.seats,
        "candidates": ballot.names(),
        "ballot_definition": {"file": str(ballot_def), "sha256": sha256_file(ballot_def)},
        "inputs": inputs,
        "channels": {name: _tally_dict(t) for name, t in sorted(result.channels.items())},
        "totals": _tally_dict(result),
        "balanced": result.balanced(),
        "distinct_rankings": len(result.rankings),
        "classes": CLASS_HELP,
        "register_after": register_counts,
        "outputs": outputs,
    }


def _inputs(
    channels: Sequence[Channel], result: core.IntakeResult, digests: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        {
            "channel": c.name,
            "file": str(c.path),
            "sha256": digests[c.name],
            "rows": result.channels.get(c.name, core.ChannelTally()).received,
        }
        for c in channels
    ]


def _audit(log: Path | None, event: str, **fields: Any) -> str | None:
    if log is None:
        return None
    from issue import audit

    return audit.append(log, event, **fields)


def _progress_rows(channels: Sequence[Channel]) -> Iterator[core.ReturnedRow]:
    for channel in channels:
        yield from read_rows(channel)


def run(
    files: Sequence[Path],
    specs: Sequence[str],
    db: Path,
    keys: Path,
    ballot_def: Path,
    out: Path,
    audit_log: Path | None,
    batch_size: int = 50_000,
    consume_chunk: int = 50_000,
    web: Path | None = None,
) -> dict[str, Any]:
    """The whole intake, or the rest of one that was killed; returns the report (also in OUT).

    Order (each step durable before the next, ``vote.intake_journal``): journal with the run
    id → consume (tokens marked used by the run) → outputs → report → ``intake.finished`` →
    journal finished.
    """
    from issue.crashpoints import kill_point
    from vote import web_channel

    channels = parse_channels(files, specs) if files or specs or web is None else []
    ballot = read_ballot_definition(ballot_def)
    check_headers(channels)
    box = web_channel.open_sealed(web, ballot, ballot_def) if web is not None else None
    if box is not None and any(c.name == web_channel.CHANNEL for c in channels):
        raise UsageError("a channel file is named 'web'; --web takes that name: rename it")
    out.mkdir(parents=True, exist_ok=True)
    with journal.locked(out):
        digests = {c.name: sha256_file(c.path) for c in channels}
        if box is not None:
            digests[web_channel.CHANNEL] = box.sha256
        inputs = journal.RunInputs(
            ballot.election_id,
            sha256_file(ballot_def),
            journal.channel_digests(list(digests), digests),
        )
        doc = journal.read(out)
        if doc is None:
            _refuse_existing(out)
        else:
            journal.check_resumable(out, doc, inputs)
        register = open_register(db, keys, ballot)
        with register:
            doc = _start_or_resume(out, doc, inputs, audit_log)
            kill_point("intake_journal_written")
            adapter = RegisterAdapter(register, consume_chunk, bytes.fromhex(doc["run_id"]))
            if box is not None:
                web_channel.claim(box, doc["run_id"])
            result = _run_with_progress(channels, len(ballot.candidates), adapter, batch_size)
            web_rows = web_channel.take_in(result, box) if box is not None else 0
            outputs = write_outputs(out, result, ballot, channels)
            run_info = {
                "id": doc["run_id"],
                "attempt": doc["attempt"],
                "tokens_reclaimed": adapter.reclaimed,
            }
            report = build_report(
                result,
                ballot,
                ballot_def,
                _inputs(channels, result, digests)
                + ([web_channel.input_entry(box, web_rows)] if box is not None else []),
                outputs,
                register.counts(),
                run_info,
            )
        write_report(out, report)
        kill_point("intake_report_written")
        _audit(
            audit_log,
            "intake.finished",
            election=ballot.election_id,
            inputs=digests,
            run_id=doc["run_id"],
            attempt=doc["attempt"],
            tokens_reclaimed=adapter.reclaimed,
            totals=report["totals"],
            outputs=report["outputs"],
        )
        kill_point("intake_finished_logged")
        journal.write(out, {**doc, "state": journal.FINISHED, "outputs": report["outputs"]})
    return report


def _start_or_resume(
    out: Path, doc: dict[str, Any] | None, inputs: journal.RunInputs, audit_log: Path | None
) -> dict[str, Any]:
    """A new run (id from ``secrets``, journalled before any consume) or the next attempt of
    the open run in ``doc``; the audit log gets ``intake.started`` or ``intake.resumed``."""
    from issue.register import new_run_id

    digests = dict(inputs.channels)
    if doc is None:
        run_id = new_run_id().hex()
        # Logged before the journal: a crash between the two leaves a started run that never
        # consumed a token (the next run gets a new id); never a consume the log does not know.
        _audit(
            audit_log,
            "intake.started",
            election=inputs.election_id,
            ballot_definition_sha256=inputs.ballot_definition_sha256,
            inputs=digests,
            run_id=run_id,
        )
        doc = journal.new(run_id, inputs)
    else:
        doc = {**doc, "attempt": int(doc.get("attempt", 1)) + 1}
        _audit(
            audit_log,
            "intake.resumed",
            election=inputs.election_id,
            ballot_definition_sha256=inputs.ballot_definition_sha256,
            inputs=digests,
            run_id=doc["run_id"],
            attempt=doc["attempt"],
        )
    journal.write(out, doc)
    return doc


def _run_with_progress(
    channels: Sequence[Channel], ncand: int, register: RegisterAdapter, batch_size: int
) -> core.IntakeResult:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("intake: {task.completed:,} ballots"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("intake", total=None)
        return core.run_intake(
            _progress_rows(channels),
            ncand,
            register,
            normalise,
            batch_size=batch_size,
            progress=lambda n: bar.advance(task, n),
        )


def write_report(out: Path, report: dict[str, Any]) -> None:
    """intake_report.json then intake_report.html (the HTML shows the JSON's figures)."""
    write_json_atomic(out / "intake_report.json", report)
    html = render_html(
        "vote",
        "intake_report.html.j2",
        r=report,
        classes=core.ALL_CLASSES,
        notes=core.NOTES,
        format_version=REPORT_FORMAT_VERSION,
    )
    write_text_atomic(out / "intake_report.html", html)


def register_intake(app: typer.Typer) -> None:
    """Add the ``intake`` and ``intake-merge`` commands to ``app`` (the vote app)."""
    app.command("intake")(intake)
    app.command("intake-merge")(intake_merge)


MERGE_FORMAT_VERSION = "omov.intake-merge/1"


def _load_intake_dir(d: Path) -> tuple[dict[str, Any], Counter[core.Ranking]]:
    """An intake's report and its grouped ballots, after checking ballots.blt is unchanged."""
    report = read_json(d / "intake_report.json", "intake report")
    blt = d / "ballots.blt"
    if not blt.is_file():
        raise InputError("no ballots.blt here", path=str(d))
    if sha256_file(blt) != report.get("outputs", {}).get("ballots.blt"):
        raise IntegrityError(f"{blt} changed since intake wrote it (SHA-256 differs)")
    try:
        ncand, _, rankings = core.parse_own_blt(blt.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(str(exc), path=str(blt)) from exc
    if ncand != len(report.get("candidates", [])):
        raise IntegrityError(f"{blt} has {ncand} candidates, its report lists another number")
    return report, rankings


def merge_intakes(dirs: Sequence[Path], out: Path) -> dict[str, Any]:
    """One ballot file from several intakes of one election (e.g. two concurrent processes)."""
    if len(dirs) < 2:
        raise UsageError("give at least two intake directories to merge")
    loaded = [_load_intake_dir(d) for d in dirs]
    first = loaded[0][0]
    for (report, _), d in zip(loaded, dirs, strict=True):
        if (report["election_id"], report["ballot_definition"]["sha256"]) != (
            first["election_id"],
            first["ballot_definition"]["sha256"],
        ):
            raise IntegrityError(f"{d} is an intake of another election or ballot definition")
    runs = [str(r.get("run", {}).get("id")) for r, _ in loaded if r.get("run")]
    if len(runs) != len(set(runs)):
        raise IntegrityError(
            "two of these directories hold the same intake run (one was "
            "copied or resumed in two places): merging would count its "
            "ballots twice",
            fix="merge each intake run once",
        )
    _refuse_existing(out)
    total: Counter[core.Ranking] = Counter()
    for _, rankings in loaded:
        total.update(rankings)
    result = core.IntakeResult(len(first["candidates"]), rankings=total)
    ballot = BallotDefinition(
        first["election_id"],
        int(first["seats"]),
        str(first["title"]),
        "",
        tuple(BallotCandidate(i, n, "") for i, n in enumerate(first["candidates"], start=1)),
    )
    outputs = write_outputs(out, result, ballot, [])
    outputs.pop("rejected.csv", None)
    (out / "rejected.csv").unlink(missing_ok=True)  # rejections stay in each intake's own list
    doc = {
        "format_version": MERGE_FORMAT_VERSION,
        "election_id": first["election_id"],
        "valid": sum(total.values()),
        "inputs": [
            {
                "dir": str(d),
                "intake_report_sha256": sha256_file(d / "intake_report.json"),
                "ballots_sha256": r["outputs"]["ballots.blt"],
                "valid": r["totals"]["valid"],
            }
            for (r, _), d in zip(loaded, dirs, strict=True)
        ],
        "outputs": outputs,
    }
    write_json_atomic(out / "merge_report.json", doc)
    return doc


def intake_merge(
    dirs: Annotated[
        list[Path],
        typer.Argument(help="Two or more `omov vote intake` --out directories of one election."),
    ],
    out: Annotated[Path, typer.Option("--out", help="New output directory.")],
    audit_log: Annotated[
        Path | None, typer.Option("--audit-log", help="Append 'intake.merged' to this audit log.")
    ] = None,
) -> None:
    """Merge the ballots of several intakes (e.g. two run at once) into one ballots.blt/.csv.

    Each intake's ballots.blt must still match the SHA-256 its report recorded (else exit 4).

    Example: omov vote intake-merge out/intake-online out/intake-postal --out out/intake-all
    """
    doc = merge_intakes(dirs, out)
    _audit(
        audit_log,
        "intake.merged",
        election=doc["election_id"],
        valid=doc["valid"],
        inputs=[i["ballots_sha256"] for i in doc["inputs"]],
        outputs=doc["outputs"],
    )
    typer.echo(f"merged {len(dirs)} intakes: {doc['valid']:,} valid ballots")
    for name in ("ballots.blt", "ballots.csv", "merge_report.json"):
        typer.echo(f"  {out / name}")


def intake(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Returned-ballot CSV files (token,preferences); channel = file stem."),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel", help="NAME=PATH: a channel file with an explicit name (repeatable)."
        ),
    ] = None,
    register: Annotated[
        Path, typer.Option("--register", help="register.sqlite from issue.")
    ] = Path("out/issue/register.sqlite"),
    keys: Annotated[Path, typer.Option("--keys", help="vote.key (K_vote only) from issue.")] = Path(
        "out/issue/vote.key"
    ),
    ballot_def: Annotated[
        Path,
        typer.Option("--ballot-def", help="ballot_definition.json from `issue candidates pack`."),
    ] = Path("out/pack/ballot_definition.json"),
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="New output directory (or that of an "
            "interrupted intake of the same files, to finish it).",
        ),
    ] = Path("out/intake"),
    audit_log: Annotated[
        Path | None, typer.Option("--audit-log", help="Append intake events to this audit log.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows read and checked at a time.")
    ] = 50_000,
    web: Annotated[
        Path | None,
        typer.Option("--web", help="A sealed ballot box (`omov vote close`): the web channel."),
    ] = None,
) -> None:
    """Check returned ballots against the register (first use wins) and write ballots.blt.

    Every row is counted once: valid + rejected = received, per channel, or nothing is written.

    Interrupted (killed, power cut)? Run the same command again, same files and --out: it finishes the run and no ballot is lost.

    Example: omov vote intake online.csv --channel postal=keyed.csv --register out/issue/register.sqlite --keys out/issue/vote.key --ballot-def out/pack/ballot_definition.json --out out/intake
    """  # noqa: E501
    report = run(
        files or [], channel or [], register, keys, ballot_def, out, audit_log, batch_size, web=web
    )
    t = report["totals"]
    typer.echo(f"received {t['received']:,}: valid {t['valid']:,}, rejected {t['rejected']:,}")
    for name in OUTPUT_NAMES:
        typer.echo(f"  {out / name}")
