"""Writing a count's output files, reading tie decisions, and ``verify`` (recount and compare).

The thin I/O edge of the count: the core (rules) returns a result; this module writes the rendered
files atomically and, for ``verify``, recounts the ballots named in ``result.json`` and compares
every output byte for byte with a fresh rendering.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from count.ballot_files import load_ballots
from count.constraints import Constraint, Limit, check_feasible, parse_limits
from count.render import RENDERERS
from count.result import CountResult
from count.rules import run_rule
from count.rules.base import CountOptions
from count.ties import TieDecision
from omov.errors import InputError, IntegrityError, UsageError
from omov.fileio import make_private_dirs, sha256_file, write_text_atomic
from vote.intake import PAPER_REJECTS


def count_file(
    path: str | Path,
    rule: str,
    *,
    seats: int | None = None,
    tie_seed: str | None = None,
    tie_decisions: list[TieDecision] | None = None,
    extra: dict[str, str] | None = None,
    constraint: tuple[str, list[Limit], dict[str, str]] | None = None,
    progress: Callable[[str], None] | None = None,
    set_aside: dict[str, int] | None = None,
) -> CountResult:
    """Load a ballot file and count it; the result names the file and its SHA-256.

    ``set_aside``: the papers set aside at intake, as recorded (a recount passes result.json's);
    by default read from the intake report beside the file (``set_aside_at_intake``).

    ``constraint`` = (attribute, limits, group of each candidate by name) for a guard/doom count.
    """
    ballots = load_ballots(path, seats=seats)
    con = None
    if constraint is not None:
        attribute, limits, groups = constraint
        missing = [n for n in ballots.candidates if n not in groups]
        if missing:
            raise InputError(
                f"no '{attribute}' for candidate(s): {', '.join(missing)}",
                fix="every candidate on the ballot needs a row in the candidates file",
            )
        con = Constraint.build(attribute, [groups[n] for n in ballots.candidates], limits)
        eligible = [c for c in range(ballots.n_candidates) if c not in ballots.withdrawn]
        check_feasible(con, eligible, seats or ballots.seats)
    result = run_rule(
        rule,
        ballots,
        CountOptions(
            seats=seats,
            tie_seed=tie_seed,
            tie_decisions=tie_decisions,
            extra=dict(extra or {}),
            constraint=con,
            progress=progress,
        ),
    )
    digest = sha256_file(path)
    return dataclasses.replace(
        result,
        source=str(Path(path).resolve()),
        ballots_sha256=digest,
        set_aside=set_aside_at_intake(Path(path), digest) if set_aside is None else set_aside,
    )


def set_aside_at_intake(path: Path, digest: str) -> dict[str, int]:
    """The papers the intake (or the merge of intakes) that wrote ``path`` set aside, by class,
    read from the ``intake_report.json`` (or ``merge_report.json``) beside it — only if that
    report recorded exactly this file (its SHA-256); otherwise nothing (a file from elsewhere
    carries its own invalid ballots). A report that names this file but whose figures are not
    whole, non-negative numbers was altered: exit 4, never a silent 0."""
    for name in ("intake_report.json", "merge_report.json"):
        report_path = path.parent / name
        if not report_path.is_file() or report_path.stat().st_size > 16 << 20:
            continue
        try:
            report = json.loads(report_path.read_text("utf-8"))
        except (OSError, ValueError):
            continue  # not a report of ours
        if not isinstance(report, dict) or report.get("outputs", {}).get(path.name) != digest:
            continue
        try:
            merged = name == "merge_report.json"
            by_class = report["set_aside"] if merged else report["totals"]["by_class"]
            # a member's blank or invalid paper (ERS97 §6); token rejections are not papers
            found = {k: v for k, v in sorted(by_class.items()) if k in PAPER_REJECTS and v}
        except (KeyError, TypeError, AttributeError):
            found = {"": -1}
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in found.values()
        ):
            raise IntegrityError(
                f"{report_path} names this ballot file but its papers set aside are not whole "
                "non-negative numbers",
                fix="the intake report was altered: take the ballots in again",
            )
        return found
    return {}


def write_result(result: CountResult, out_dir: str | Path) -> dict[str, str]:
    """Write result.json/.csv/.txt/.html atomically; returns each file's SHA-256."""
    out = Path(out_dir)
    make_private_dirs(out)
    return {
        name: write_text_atomic(out / name, render(result)) for name, render in RENDERERS.items()
    }


def read_constraint(
    specs: list[str], candidates_csv: str | Path, group_map: str | Path | None = None
) -> tuple[str, list[Limit], dict[str, str]]:
    """``--constraint`` terms plus each candidate's group: the candidates file's column for the
    attribute, through ``--group-map`` when given (``count.groups``)."""
    from count.groups import candidate_groups, read_group_map

    attribute, limits = parse_limits(specs)
    mapping = read_group_map(Path(group_map)) if group_map is not None else None
    return attribute, limits, candidate_groups(Path(candidates_csv), attribute, mapping)


def read_tie_decisions(path: str | Path) -> list[TieDecision]:
    """A decisions file: JSON ``{"format_version": 1, "decisions": [{"among": [...],
    "chosen": [...]}, ...]}`` (or just the list), in the order the count meets the ties."""
    p = Path(path)
    try:
        doc: Any = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read tie decisions: {exc}",
            path=str(p),
            fix="see docs/formats-count.md (tie decisions file)",
        ) from None
    items = doc.get("decisions") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputError("expected a list of decisions", path=str(p))
    out = []
    for i, d in enumerate(items):
        if not (
            isinstance(d, dict)
            and isinstance(d.get("among"), list)
            and isinstance(d.get("chosen"), list)
            and d["chosen"]
        ):
            raise InputError(f"decision {i + 1} needs 'among' and 'chosen' lists", path=str(p))
        out.append(TieDecision(tuple(map(str, d["among"])), tuple(map(str, d["chosen"]))))
    return out


def _recount(src: Path, doc: dict[str, Any]) -> CountResult:
    """Count ``src`` again with what result.json recorded (seed, lots, options, constraint)."""
    decisions = [
        TieDecision(tuple(t["among"]), tuple(t["chosen"]))
        for t in doc.get("ties", [])
        if t.get("method") == "lot (decisions file)"
    ]
    con = doc.get("constraint")
    constraint = None
    if con:
        constraint = (
            con["attribute"],
            parse_limits([f"{con['attribute']}:{x}" for x in con["limits"]])[1],
            con["groups"],
        )
    return count_file(
        src,
        doc["rule"],
        seats=int(doc["seats"]),
        tie_seed=doc.get("tie_seed"),
        tie_decisions=decisions or None,
        extra=doc.get("options") or {},
        constraint=constraint,
        # not in the ballot file: the recount carries what the count recorded (the scrutineer's
        # report checks it against the intake), so a copy of the file alone recounts the same
        set_aside={k: int(v) for k, v in (doc.get("set_aside_at_intake") or {}).items()},
    )


def verify_dir(out_dir: str | Path, ballots: str | Path | None = None) -> list[str]:
    """Recount from the ballots and re-render; raise IntegrityError listing every difference."""
    out = Path(out_dir)
    try:
        doc = json.loads((out / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read result.json: {exc}",
            path=str(out / "result.json"),
            fix="give the --out directory of an `omov count run`",
        ) from None
    src = Path(ballots) if ballots else Path(doc.get("ballots_file") or "")
    if not src.is_file():
        raise InputError(
            "the ballot file named in result.json is not there",
            path=str(src),
            fix="pass --ballots PATH",
        )
    problems: list[str] = []
    digest = sha256_file(src)
    if doc.get("ballots_sha256") and digest != doc["ballots_sha256"]:
        problems.append(
            f"ballot file SHA-256 {digest} differs from result.json's {doc['ballots_sha256']}"
        )
    try:
        result = _recount(src, doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(
            f"result.json is not a complete omov count result ({exc!r})",
            fix="recount with `omov count run`",
        ) from None
    except UsageError as exc:  # e.g. the recount meets a tie the recorded lots do not decide
        raise IntegrityError(
            "verify failed:\n  " + "\n  ".join([*problems, f"the recount failed: {exc.message}"])
        ) from None
    if ballots:
        result = dataclasses.replace(result, source=doc.get("ballots_file"))
    for name, render in RENDERERS.items():
        path = out / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.read_text(encoding="utf-8") != render(result):
            problems.append(f"{name} differs from a recount of the ballots")
    if problems:
        raise IntegrityError(
            "verify failed:\n  " + "\n  ".join(problems),
            fix="the outputs do not match the ballots: recount with "
            "`omov count run` and investigate the change",
        )
    return []
