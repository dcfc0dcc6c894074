"""Renderers: a :class:`CountResult` to JSON, an ERS-style CSV result sheet, text and HTML.

Pure functions from a result object to text (no I/O), so ``verify`` can re-render and compare
byte for byte. The HTML is self-contained (inline CSS and SVG, no scripts, no CDN) so it opens
offline and can be mailed to members.
"""

from __future__ import annotations

import io
import json
from importlib import resources

import jinja2

from count.chart import below_quota_notes, stage_panels
from count.result import FORMAT_VERSION, CountResult, TieRecord, fmt
from omov.textio import csv_writer


def render_json(result: CountResult) -> str:
    """``result.json``: sorted keys, two-space indent, final newline (equal data, equal bytes)."""
    return json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _status_marks(result: CountResult) -> tuple[dict[str, int], dict[str, int]]:
    """Stage number at which each candidate was elected / excluded."""
    elected: dict[str, int] = {}
    excluded: dict[str, int] = {}
    for s in result.stages:
        for n in s.elected:
            elected.setdefault(n, s.number)
        for n in s.excluded:
            excluded.setdefault(n, s.number)
    return elected, excluded


def sheet_rows(result: CountResult) -> list[list[str]]:
    """The result sheet as rows of strings: per stage a transfer and a total column."""
    d = result.dp
    _elected_at, excluded_at = _status_marks(result)
    head1 = ["", "Stage 1"]
    head2 = ["Candidates", "First preferences"]
    for s in result.stages[1:]:
        head1 += [f"Stage {s.number}", ""]
        head2 += [s.description, "total"]
    head1.append("")
    head2.append("Result")
    rows = [head1, head2]
    order = {n: i for i, n in enumerate(result.elected)}
    for i, name in enumerate(result.candidates):
        if name in result.withdrawn:
            rows.append([name] + ["withdrawn"] + [""] * (2 * (len(result.stages) - 1)) + [""])
            continue
        row = [name, fmt(result.stages[0].votes[i], d)]
        for s in result.stages[1:]:
            gone = name in excluded_at and excluded_at[name] < s.number and s.votes[i] == 0
            t = s.transfers[i]
            row.append("" if t == 0 else ("+" if t > 0 else "") + fmt(t, d))
            row.append("-" if gone else fmt(s.votes[i], d))
        row.append(f"Elected ({order[name] + 1})" if name in order else "")
        rows.append(row)
    for label, attr in (("Non-transferable", "non_transferable"), ("Rounding loss", "loss")):
        if attr == "loss" and not any(s.loss for s in result.stages):
            continue
        prev = 0
        row = [label, fmt(getattr(result.stages[0], attr), d)]
        for s in result.stages[1:]:
            v = getattr(s, attr)
            row += ["" if v == prev else ("+" if v > prev else "") + fmt(v - prev, d), fmt(v, d)]
            prev = v
        rows.append([*row, ""])
    total = ["Total", fmt(result.stages[0].total, d)]
    for s in result.stages[1:]:
        total += ["", fmt(s.total, d)]
    rows.append([*total, ""])
    quota = ["Quota", fmt(result.stages[0].quota, d)]
    for s in result.stages[1:]:
        quota += ["", fmt(s.quota, d)]
    rows.append([*quota, ""])
    return rows


def render_csv(result: CountResult) -> str:
    """``result.csv``: a few facts, then the ERS-style result sheet."""
    buf = io.StringIO()
    w = csv_writer(buf)  # cells a spreadsheet would execute are neutralised (docs/formats.md)
    w.writerow(["format_version", FORMAT_VERSION])
    w.writerow(["Election", result.title])
    w.writerow(["Rule", result.rule_title])
    w.writerow(["Number to be elected", result.seats])
    w.writerow(["Valid votes", result.valid])
    w.writerow(["Invalid votes", result.invalid_papers])
    w.writerow(["Quota", fmt(result.quota, result.dp)])
    if result.final_quota != result.quota:
        w.writerow(["Final quota", fmt(result.final_quota, result.dp)])
    if result.constraint is not None:
        w.writerow(["Constraint", _constraint_text(result)])
    w.writerow([])
    w.writerows(sheet_rows(result))
    if result.constraint_events:
        w.writerow([])
        w.writerow(["Stage", "Guard/doom", "Candidate", "Reason"])
        for e in result.constraint_events:
            w.writerow([e["stage"], e["event"], e["candidate"], e["reason"]])
    if result.ties:
        w.writerow([])
        w.writerow(["Stage", "Tie", "Among", "Chosen", "Decided by", "Clause"])
        for t in result.ties:
            chosen = ", ".join(t.chosen) or "none"
            w.writerow([t.stage, t.kind, ", ".join(t.among), chosen, t.method, t.clause])
    w.writerow([])
    w.writerow(["Elected, in order", *result.elected])
    w.writerow(["Seats left unfilled", result.unfilled_seats])
    for note in result.notes():
        w.writerow(["Note", note])
    return buf.getvalue()


def _constraint_text(result: CountResult) -> str:
    con = result.constraint or {}
    return f"{con.get('attribute')}: {', '.join(con.get('limits', []))}"


def render_txt(result: CountResult) -> str:
    """``result.txt``: a readable summary, then one block per stage."""
    d = result.dp
    out = [
        f"omov count result (format_version {FORMAT_VERSION})",
        f"Election: {result.title}",
        f"Rule: {result.rule_title}",
        f"Seats: {result.seats}",
        f"Valid votes: {result.valid}",
        f"Invalid votes: {result.invalid_papers}",
    ]
    out += [f"  {k}: {v}" for k, v in sorted(result.invalid.items())]
    out += [f"  {k} (set aside at intake): {v}" for k, v in sorted(result.set_aside.items())]
    if result.truncated:
        out.append("Valid papers cut short or cleaned:")
        out += [f"  {k}: {v}" for k, v in sorted(result.truncated.items())]
    out.append(f"Quota: {fmt(result.quota, d)}")
    if result.final_quota != result.quota:
        out.append(f"Final quota: {fmt(result.final_quota, d)}")
    if result.tie_seed is not None:
        out.append(f"Tie seed: {result.tie_seed}")
    if result.constraint is not None:
        out.append(f"Constraint: {_constraint_text(result)} (guard/doom, Hill 1998)")
        for e in result.constraint_events:
            out.append(f"  stage {e['stage']}: {e['event']} {e['candidate']} — {e['reason']}")
    out.append("")
    width = max(len(n) for n in result.candidates) if result.candidates else 10
    for s in result.stages:
        out.append(f"Stage {s.number}: {s.description} [{s.clause}]")
        if s.transfer_values:
            out.append("  transfer value(s): " + ", ".join(fmt(v, d) for v in s.transfer_values))
        for i, n in enumerate(result.candidates):
            t = s.transfers[i]
            tt = ("+" if t > 0 else "") + fmt(t, d) if t and s.number > 1 else ""
            out.append(f"  {n:<{width}}  {tt:>16}  {fmt(s.votes[i], d):>16}")
        out.append(f"  {'Non-transferable':<{width}}  {'':>16}  {fmt(s.non_transferable, d):>16}")
        if s.loss:
            out.append(f"  {'Rounding loss':<{width}}  {'':>16}  {fmt(s.loss, d):>16}")
        if s.elected:
            out.append("  Elected: " + ", ".join(s.elected))
        if s.excluded:
            out.append("  Excluded: " + ", ".join(s.excluded))
        for tie in result.ties_at(s.number):
            out.append("  Tie: " + _tie_text(tie))
        out.append("")
    if result.ties:
        out.append("Ties:")
        for tie in result.ties:
            out.append(f"  stage {tie.stage} " + _tie_text(tie))
        out.append("")
    out.append("Elected, in order: " + ", ".join(result.elected))
    if result.unfilled_seats:
        out.append(f"Seats left unfilled: {result.unfilled_seats}")
    out += [f"Note: {n}" for n in result.notes()]
    return "\n".join(out) + "\n"


def _tie_text(tie: TieRecord) -> str:
    return (
        f"{tie.kind} among {', '.join(tie.among)} -> {', '.join(tie.chosen) or 'none'} "
        f"by {tie.method} ({tie.clause})"
    )


def render_html(result: CountResult) -> str:
    """``result.html``: summary, result sheet and chart, all inline (jinja2 auto-escapes names)."""
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    src = resources.files("count").joinpath("templates/result.html.j2").read_text("utf-8")
    rows = sheet_rows(result)
    return env.from_string(src).render(
        r=result,
        fv=FORMAT_VERSION,
        head=rows[:2],
        body=rows[2:],
        panels=stage_panels(result),
        below_quota=below_quota_notes(result),
        quota=fmt(result.quota, result.dp),
        final_quota=fmt(result.final_quota, result.dp),
        invalid_total=result.invalid_papers,
        constraint=_constraint_text(result) if result.constraint is not None else None,
    )


RENDERERS = {
    "result.json": render_json,
    "result.csv": render_csv,
    "result.txt": render_txt,
    "result.html": render_html,
}
