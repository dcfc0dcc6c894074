"""``make demo``: the whole pipeline on ``sample_data/``, step by step, as a scrutineer runs it.

dedupe (auditor decisions applied) → issue → one lost ballot re-issued → candidates validated and
pack written → simulated returns → the online ones cast through a real ``omov vote serve`` (JSON
API, on a free local port) → the ballot box sealed → intake of the postal returns and the sealed
box against the register → STV count (ERS97 unless ``--rule``) → recount check → scrutineer's
report → audit chain verified.

Each step is the real ``omov`` command, run in-process, with its exit code shown. A step that
finds problems for a person to act on (exit 3: the dedupe review queue, the invalid candidates the
sample deliberately holds) is expected here and shown as such; any other failure stops the demo.
A stage whose command does not exist yet is reported as "not built yet", never faked.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from omov.cli import build_app, run
from omov.csvsafe import restore
from omov.fileio import make_private_dirs, private_umask, write_text_atomic

ELECTION = "demo-2026"
DEMO_MARKER = ".omov-demo"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Step:
    """One pipeline step: the omov arguments, the exit codes that count as success here."""

    name: str
    argv: list[str]
    accept: tuple[int, ...] = (0,)
    reports: list[Path] = field(default_factory=list)
    note: str = ""  #: shown when the step succeeds
    needs: str = ""  #: shown when it exits 3: what the person must act on


@dataclass
class Outcome:
    """What a step did, for the summary table."""

    step: Step
    code: int | None  # None = not built yet

    @property
    def ok(self) -> bool:
        return self.code is not None and self.code in self.step.accept


def available_commands() -> set[str]:
    """'stage command' pairs the installed omov offers (e.g. 'vote intake')."""
    found: set[str] = set()
    app = build_app()
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        for cmd in sub.registered_commands:
            name = cmd.name or (cmd.callback.__name__.replace("_", "-") if cmd.callback else "")
            found.add(f"{group.name} {name}")
        for nested in sub.registered_groups:
            if nested.typer_instance is None:
                continue
            for cmd in nested.typer_instance.registered_commands:
                name = cmd.name or (cmd.callback.__name__ if cmd.callback else "")
                found.add(f"{group.name} {nested.name} {name}")
    return found


def prepare_out(out: Path) -> None:
    """Start from an empty demo folder; refuse to delete a folder the demo did not make."""
    if out.exists():
        if any(out.iterdir()) and not (out / DEMO_MARKER).exists():
            raise SystemExit(f"demo: {out} exists and was not made by the demo; choose --out")
        shutil.rmtree(out)
    make_private_dirs(out)  # 0700: it will hold tokens, keys and personal data
    write_text_atomic(out / DEMO_MARKER, "made by `make demo`; safe to delete\n")


def run_step(step: Step, commands: set[str], console: Console) -> Outcome:
    """Run one omov step in-process unless its command is not built yet."""
    key = " ".join(a for a in step.argv[:3] if not a.startswith("-"))
    if not any(key.startswith(c) or c.startswith(key) for c in commands):
        console.print(f"[yellow]{step.name}: not built yet — skipped[/]")
        return Outcome(step, None)
    console.print(f"[bold]$ omov {' '.join(step.argv)}[/]")
    code = run(step.argv)
    return Outcome(step, code)


def first_dispatch_row(issue_dir: Path) -> dict[str, str]:
    """The first person in the live email dispatch file (the demo's 'lost ballot')."""
    for name in ("dispatch_email.csv", "dispatch_post.csv"):
        path = issue_dir / name
        if path.exists():
            with path.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    return {restore(k): restore(v) for k, v in row.items()}
    raise SystemExit("demo: the issue step wrote no dispatch rows")


def simulate_returns(issue_dir: Path, n_candidates: int, revoked: Path, out: Path) -> int:
    """The project's seeded simulator of returned ballots (valid, re-used, revoked, spoilt...)."""
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "simulate_returns.py"),
        "--dispatch",
        str(issue_dir / "dispatch_email.csv"),
        str(issue_dir / "dispatch_post.csv"),
        "--candidates",
        str(n_candidates),
        "--seed",
        "2026",
        "--revoked",
        str(revoked),
        "--out",
        str(out),
    ]
    return subprocess.run(cmd, check=False).returncode  # noqa: S603 (our own script, our args)


def ballot_candidate_count(ballot_def: Path) -> int:
    """How many candidates the ballot paper lists (the simulator marks that many boxes)."""
    import json

    data = json.loads(ballot_def.read_text(encoding="utf-8"))
    return len(data["candidates"])


def summary_table(outcomes: Sequence[Outcome]) -> Table:
    """One row per step: its exit code and what that means here."""
    table = Table(title="omov demo: the whole pipeline on sample_data/")
    for col in ("step", "exit", "meaning"):
        table.add_column(col)
    for o in outcomes:
        if o.code is None:
            meaning, code = "not built yet", "-"
        else:
            code = str(o.code)
            meaning = {0: "ok", 3: "finished; needs a person (expected here)"}.get(o.code, "")
            if not o.ok:
                meaning = "FAILED"
        detail = o.step.needs if o.code == 3 else o.step.note
        if detail and o.ok:
            meaning = f"{meaning}: {detail}"
        table.add_row(o.step.name, code, meaning)
    return table


def report_paths(outcomes: Sequence[Outcome]) -> list[str]:
    """Every report the steps wrote, in pipeline order."""
    return [f"  {o.step.name}: {p}" for o in outcomes for p in o.step.reports if p.exists()]


def headline_figures(out: Path) -> list[str]:
    """The figures a reader looks for first, read back from the reports the steps wrote."""
    import json

    lines: list[str] = []
    summary = out / "dedupe" / "summary.json"
    if summary.exists():
        counts = json.loads(summary.read_text(encoding="utf-8"))["counts"]
        lines.append(
            f"Roll: {counts['records_in']} records -> {counts['persons']} persons, "
            f"{counts['eligible']} eligible"
        )
    result = out / "count" / "result.json"
    if result.exists():
        res = json.loads(result.read_text(encoding="utf-8"))
        lines.append(f"Elected ({res['rule']}, {res['seats']} seats): " + ", ".join(res["elected"]))
    return lines


def pipeline(sample: Path, out: Path, rule: str) -> list[Step]:
    """The steps before the returns come back (dedupe, issue, candidates)."""
    exports = sorted(str(p) for p in (sample / "exports").glob("*.csv"))
    dd, iss, cand = out / "dedupe", out / "issue", out / "candidates"
    dedupe_argv = ["dedupe", "run", *exports, "--out", str(dd), "--quiet"]
    for opt, name in (("--decisions", "decisions.csv"), ("--mapping", "mapping.csv")):
        if (sample / name).exists():
            dedupe_argv += [opt, str(sample / name)]
    members = str(dd / "members.parquet")
    return [
        Step(
            "dedupe (auditor decisions applied)",
            dedupe_argv,
            (0, 3),
            [dd / "duplicate_report.html", dd / "review_queue.csv", dd / "summary.json"],
            needs="review queue left for the auditor",
        ),
        Step(
            "issue tokens",
            ["issue", "run", "--members", members, "--election", ELECTION, "--out", str(iss)],
            (0,),
            [iss / "dispatch_email.csv", iss / "dispatch_post.csv", iss / "letter_preview.html"],
        ),
        Step(
            "candidates validate",
            [
                "issue",
                "candidates",
                "validate",
                str(sample / "candidates.csv"),
                "--members",
                members,
                "--out",
                str(cand),
            ],
            (0, 3),
            [cand / "candidates_validation.json"],
            needs="the sample holds invalid nominations on purpose",
        ),
        Step(
            "candidates pack",
            [
                "issue",
                "candidates",
                "pack",
                str(sample / "candidates.csv"),
                "--members",
                members,
                "--election",
                ELECTION,
                "--out",
                str(cand),
                "--drop-invalid",
            ],
            (0, 3),
            [cand / "candidates_pack.html", cand / "ballot_definition.json"],
            "invalid nominations left off the ballot",
        ),
    ]


def web_channel(
    out: Path,
    register: Path,
    vote_key: Path,
    ballot_def: Path,
    box: Path,
    outcomes: list[Outcome],
    console: Console,
) -> bool:
    """Serve the web ballot and cast the simulated online returns through its JSON API."""
    from omov.demo_web import WebPaths, run_online_channel

    paths = WebPaths(
        register, vote_key, ballot_def, ballot_def.parent / "candidates_pack.html", box
    )
    console.print("[bold]$ omov vote serve … (online returns cast through POST /api/v1/ballots)[/]")
    summary = run_online_channel(
        paths,
        out / "returns" / "online.csv",
        ballot_candidate_count(ballot_def),
        out / "web" / "server.log",
    )
    import json

    (out / "web").mkdir(parents=True, exist_ok=True)
    (out / "web" / "cast_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    statuses = summary.get("statuses", {})
    note = (
        f"{summary.get('posted', 0)} posted in {summary.get('seconds', '?')} s: "
        + ", ".join(f"{n}x HTTP {s}" for s, n in statuses.items())  # type: ignore[attr-defined]
        + f"; {summary.get('refused_by_review', 0)} spoilt papers refused by the review page"
    )
    step = Step(
        "web ballot: serve + cast online returns (JSON API)",
        [],
        (0,),
        [out / "web" / "cast_summary.json", out / "web" / "server.log"],
        note,
    )
    outcomes.append(Outcome(step, 0 if summary.get("ok") else 1))
    return bool(summary.get("ok"))


def main(argv: list[str] | None = None) -> int:
    """Run the demo under umask 077 (as the ``omov`` command runs); see ``demo``."""
    with private_umask():
        return demo(argv)


def demo(argv: list[str] | None = None) -> int:
    """The pipeline steps, their summary table, and the exit code (1 if a step failed)."""
    parser = argparse.ArgumentParser(description="Run the whole omov pipeline on sample data.")
    parser.add_argument("--sample", type=Path, default=Path("sample_data"))
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--rule", default="ers97", help="ers97 | scottish | meek | meek-prf")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    prepare_out(args.out)
    commands = available_commands()
    out, iss = args.out, args.out / "issue"
    outcomes: list[Outcome] = []

    def go(step: Step) -> bool:
        outcome = run_step(step, commands, console)
        outcomes.append(outcome)
        return outcome.ok

    def finish() -> int:
        console_out = Console(width=110)
        console_out.print(summary_table(outcomes))
        console_out.print("Reports:", *report_paths(outcomes), sep="\n", soft_wrap=True)
        for line in headline_figures(out):
            console_out.print(line, soft_wrap=True)
        failed = [o for o in outcomes if o.code is not None and not o.ok]
        return 1 if failed else 0

    for step in pipeline(args.sample, out, args.rule):
        if not go(step):
            return finish()

    lost = first_dispatch_row(iss)
    revoked = out / "returns_input" / "revoked.csv"
    revoked.parent.mkdir(parents=True, exist_ok=True)
    revoked.write_text("token\n" + lost["token"] + "\n", encoding="utf-8")
    if not go(
        Step(
            "re-issue one lost ballot",
            [
                "issue",
                "reissue",
                lost["person_id"],
                "--reason",
                "lost",
                "--members",
                str(out / "dedupe" / "members.parquet"),
                "--out",
                str(iss),
            ],
            (0,),
        )
    ):
        return finish()

    ballot_def = out / "candidates" / "ballot_definition.json"
    code = simulate_returns(iss, ballot_candidate_count(ballot_def), revoked, out / "returns")
    outcomes.append(
        Outcome(
            Step(
                "simulate returned ballots (bench/simulate_returns.py)",
                [],
                (0,),
                [out / "returns" / "online.csv", out / "returns" / "postal.csv"],
            ),
            code,
        )
    )
    if code != 0:
        return finish()

    intake, count, report = out / "intake", out / "count", out / "report"
    log, register, vote_key = iss / "audit.log", iss / "register.sqlite", iss / "vote.key"
    box = out / "box"
    if not web_channel(out, register, vote_key, ballot_def, box, outcomes, console):
        return finish()
    later = [
        Step(
            "close the ballot box (seal, audit log)",
            ["vote", "close", "--box", str(box), "--audit-log", str(log), "--force"],
            (0,),
            [box / "seal.json", box / "confirmations.csv"],
            "closed early on purpose (--force, recorded in the audit log)",
        ),
        Step(
            "intake (postal + sealed web box)",
            [
                "vote",
                "intake",
                str(out / "returns" / "postal.csv"),
                "--web",
                str(box),
                "--register",
                str(register),
                "--keys",
                str(vote_key),
                "--ballot-def",
                str(ballot_def),
                "--out",
                str(intake),
                "--audit-log",
                str(log),
            ],
            (0, 3),
            [intake / "intake_report.html", intake / "rejected.csv", intake / "ballots.blt"],
            "rejected ballots listed with reasons",
            needs="the simulated returns hold blank and spoilt papers, mistyped and unknown "
            "tokens and papers posted after an online vote, on purpose: each is in rejected.csv",
        ),
        Step(
            f"count ({args.rule})",
            [
                "count",
                "run",
                str(intake / "ballots.blt"),
                "--rule",
                args.rule,
                "--out",
                str(count),
                "--tie-seed",
                ELECTION,
            ],
            (0,),
            [count / "result.html", count / "result.csv", count / "result.json"],
        ),
        Step("recount check", ["count", "verify", str(count)], (0,)),
        Step(
            "scrutineer's report",
            [
                "count",
                "report",
                "--intake",
                str(intake),
                "--result",
                str(count),
                "--register",
                str(register),
                "--keys",
                str(vote_key),
                "--audit-log",
                str(log),
                "--ballot-def",
                str(ballot_def),
                "--out",
                str(report),
            ],
            (0,),
            [report / "scrutineer_report.html", report / "scrutineer_report.json"],
        ),
        Step("audit chain verified", ["audit", "verify", str(log)], (0,), [log]),
    ]
    for step in later:
        if not go(step):
            break
    return finish()


if __name__ == "__main__":
    sys.exit(main())
