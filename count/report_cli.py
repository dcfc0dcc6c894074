"""``omov count report``: the scrutineer's report (TULRCA s.52 shape) as JSON and HTML.

Thin edge over ``count.report``: it reads the intake report(s), the count's ``result.json``, the
register's aggregates (never a per-person flag) and the audit-log head; hashes every file; writes
``scrutineer_report.json`` and ``scrutineer_report.html``; and appends ``report.written`` to the
audit log. Cross-check failures (a changed file, a count that did not use the intake's ballots)
are written into the report and then exit 4.

Mount it on the count app with ``register_report(app)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from count import report as core
from omov.errors import InputError, IntegrityError
from omov.fileio import sha256_file, write_json_atomic, write_text_atomic
from omov.textio import read_json, render_html

INTAKE_FILES = (
    "ballots.blt",
    "ballots.csv",
    "rejected.csv",
    "intake_report.json",
    "intake_report.html",
)


def _load_intakes(
    dirs: list[Path],
) -> tuple[list[dict[str, Any]], list[dict[str, str]], dict[str, str]]:
    reports, files, digests = [], [], {}
    for i, d in enumerate(dirs, start=1):
        path = d / "intake_report.json"
        if not path.is_file():
            raise InputError(
                "no intake_report.json here",
                path=str(d),
                fix="pass the --out directory of `omov vote intake`",
            )
        report = read_json(path, "intake report")
        reports.append(report)
        for inp in report.get("inputs", []):
            files.append(
                {
                    "role": f"input: returned ballots ({inp['channel']})",
                    "file": inp["file"],
                    "sha256": inp["sha256"],
                }
            )
        for name in INTAKE_FILES:
            if (d / name).is_file():
                digest = sha256_file(d / name)
                digests[f"intake{i}/{name}"] = digest
                files.append(
                    {"role": f"intake {i} output", "file": str(d / name), "sha256": digest}
                )
    return reports, files, digests


def _load_result(d: Path | None) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    if d is None:
        return None, []
    path = d / "result.json"
    if not path.is_file():
        raise InputError(
            "no result.json here", path=str(d), fix="pass the --out directory of `omov count run`"
        )
    files = [
        {"role": "count output", "file": str(p), "sha256": sha256_file(p)}
        for p in sorted(d.iterdir())
        if p.is_file() and not p.name.startswith(".")
    ]
    return read_json(path, "count result"), files


def _register_counts(db: Path | None, keys: Path | None) -> dict[str, int]:
    if db is None:
        return {}
    from issue.register import Register

    if keys is None:
        raise InputError("--register needs --keys (vote.key) to open it", path=str(db))
    with Register.open(db, keys) as reg:
        return dict(reg.counts())


def _audit_head(log: Path | None) -> dict[str, Any] | None:
    if log is None:
        return None
    from issue import audit

    head = audit.head(log)  # verifies the whole chain first: IntegrityError (exit 4) if broken
    return {
        "file": str(log),
        "head_hash": head.hash,
        "head_seq": head.seq,
        "entries": head.entries,
        "verified": True,
    }


def _load_merge(
    d: Path | None,
    intakes: list[dict[str, Any]],
    files: list[dict[str, str]],
    digests: dict[str, str],
) -> list[core.Check]:
    """A merge of the intakes (``intake-merge``): its files, and that it adds up."""
    if d is None:
        return []
    doc = read_json(d / "merge_report.json", "intake merge report")
    for name in ("ballots.blt", "ballots.csv", "merge_report.json"):
        if (d / name).is_file():
            digests[f"merged/{name}"] = sha256_file(d / name)
            files.append(
                {
                    "role": "merged intake output",
                    "file": str(d / name),
                    "sha256": digests[f"merged/{name}"],
                }
            )
    valid = sum(int(r["totals"]["valid"]) for r in intakes)
    recorded = {i["ballots_sha256"] for i in doc.get("inputs", [])}
    mine = {v for k, v in digests.items() if k.startswith("intake") and k.endswith("ballots.blt")}
    return [
        core.Check(
            "merge holds every valid intake paper",
            int(doc.get("valid", -1)) == valid,
            f"merge {doc.get('valid')}, intakes {valid}",
        ),
        core.Check(
            "merge is of exactly these intakes",
            recorded == mine,
            "the merge report's input digests are these intakes' ballots.blt",
        ),
        core.Check(
            "merged ballots.blt unchanged",
            doc.get("outputs", {}).get("ballots.blt") == digests.get("merged/ballots.blt"),
            "SHA-256 recorded by intake-merge",
        ),
    ]


def build(
    intake: list[Path],
    result: Path | None,
    register: Path | None,
    keys: Path | None,
    audit_log: Path | None,
    ballot_def: Path | None,
    extra: list[Path],
    scrutineer: str,
    merged: Path | None = None,
) -> dict[str, Any]:
    """Read everything and build the report dict (no writing)."""
    intakes, files, digests = _load_intakes(intake)
    merge_checks = _load_merge(merged, intakes, files, digests)
    res, res_files = _load_result(result)
    files += res_files
    for role, p in [("ballot definition", ballot_def), *[("other", e) for e in extra]]:
        if p is not None:
            files.append({"role": role, "file": str(p), "sha256": sha256_file(p)})
    first = intakes[0] if intakes else {}
    return core.build_report(
        election_id=str(first.get("election_id", "")),
        title=str(first.get("title", res.get("title", "") if res else "")),
        scrutineer=scrutineer,
        intakes=intakes,
        result=res,
        register=_register_counts(register, keys),
        files=files,
        audit=_audit_head(audit_log),
        checks=core.cross_checks(intakes, res, digests) + merge_checks,
    )


def write(out: Path, report: dict[str, Any]) -> dict[str, str]:
    """scrutineer_report.json and .html; returns their SHA-256s."""
    json_hash = write_json_atomic(out / "scrutineer_report.json", report)
    html = render_html(
        "count", "report_scrutineer.html.j2", r=report, format_version=core.REPORT_FORMAT_VERSION
    )
    html_hash = write_text_atomic(out / "scrutineer_report.html", html)
    return {"scrutineer_report.json": json_hash, "scrutineer_report.html": html_hash}


def register_report(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app`` (the count app)."""
    app.command("report")(report)


def report(
    intake: Annotated[
        list[Path],
        typer.Option("--intake", help="An `omov vote intake` --out directory (repeatable)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    result: Annotated[
        Path | None, typer.Option("--result", help="An `omov count run` --out directory.")
    ] = None,
    register: Annotated[
        Path | None, typer.Option("--register", help="register.sqlite (for papers distributed).")
    ] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="vote.key for the register.")] = None,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            "--audit-log", help="The election's audit log (verified; head hash reported)."
        ),
    ] = None,
    ballot_def: Annotated[
        Path | None,
        typer.Option("--ballot-def", help="ballot_definition.json (hashed into the report)."),
    ] = None,
    extra: Annotated[
        list[Path] | None,
        typer.Option("--file", help="Any other file to list with its SHA-256 (repeatable)."),
    ] = None,
    scrutineer: Annotated[
        str, typer.Option("--scrutineer", help="The scrutineer's name.")
    ] = "(to be completed by the scrutineer)",
    merged: Annotated[
        Path | None,
        typer.Option(
            "--merged", help="The `omov vote intake-merge` directory, if the intakes were merged."
        ),
    ] = None,
) -> None:
    """Write the scrutineer's report (TULRCA s.52 shape): JSON + self-contained HTML.

    Exit 4 (after writing it) if a cross-check fails, e.g. a ballot file changed since intake.

    Example: omov count report --intake out/intake --result out/count --register out/issue/register.sqlite --keys out/issue/vote.key --audit-log out/issue/audit.log --out out/report
    """  # noqa: E501
    doc = build(
        intake, result, register, keys, audit_log, ballot_def, extra or [], scrutineer, merged
    )
    digests = write(out, doc)
    if audit_log is not None:
        from issue import audit

        new_head = audit.append(
            audit_log,
            "report.written",
            election=doc["election_id"],
            outputs=digests,
            all_checks_pass=doc["all_checks_pass"],
        )
        shown = doc["audit_log"]["head_hash"]
        typer.echo(f"publish this audit-log head hash (the one in the report): {shown}")
        typer.echo(f"  (the log then recorded the report itself: head now {new_head})")
    for name in digests:
        typer.echo(f"  {out / name}")
    failed = [c for c in doc["checks"] if not c["ok"]]
    if failed:
        raise IntegrityError(
            "cross-checks failed: " + "; ".join(f"{c['name']} ({c['detail']})" for c in failed),
            fix="see the report's Checks section",
        )
