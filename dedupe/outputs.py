"""Write every output of a dedupe run atomically, deterministically, with digests.

Why deterministic bytes: a scrutineer re-running omov on the same exports must be able to
compare outputs with ``sha256sum``; nothing here writes a timestamp or depends on row order.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dedupe.compare import COMPARISONS
from dedupe.io import Export
from dedupe.pipeline import Options, Result
from dedupe.schema import (
    DECISION_COLUMNS,
    EXCLUDED_COLUMNS,
    FORMAT_VERSION,
    MEMBERS_SCHEMA,
    REJECTED_COLUMNS,
    WARNINGS_COLUMNS,
)
from dedupe.sheets import split_sheet
from omov import __version__, csvsafe
from omov.errors import InputError
from omov.fileio import atomic_open, make_private_dirs, sha256_file

DECISION_LOG_COLUMNS = (
    "line",
    "item_id",
    "decision",
    "status",
    "records",
    "person_ids",
    "detail",
    "note",
)


def _csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as CSV (0600, atomic), formula-like cells neutralised (``omov.csvsafe``)."""
    text = _plain_csv(df)
    if text is None:
        buf = io.StringIO()
        safe = _neutralised(df)
        # csv (3.11) leaves a lone "\r" unquoted with "\n" line ends: quote text cells then.
        quote_text = any(
            safe[c].astype(str).str.contains("\r", regex=False).any()
            for c in safe.columns
            if safe[c].dtype == object
        ) or any("\r" in str(c) for c in safe.columns)
        if quote_text:
            safe.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        else:
            safe.to_csv(buf, index=False, lineterminator="\n")
        text = buf.getvalue()
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


#: Characters that make the csv module quote a field.
_SPECIAL = (",", '"', "\r", "\n")
#: A cell (in "\x1f"-joined text) whose first character could start a formula: a cheap scan
#: that leaves the per-cell check (``csvsafe.neutralise``) to the rare columns that have one.
#: (A literal first character keeps ``re`` on its fast search: ~25 ms per 1M cells.)
_MAYBE_FORMULA = re.compile(f"\x1f[{re.escape(''.join(sorted(csvsafe.FIRST_CHARS)))}]")


def _safe_strings(values: list[str]) -> list[str] | None:
    """``values`` neutralised, or None if one holds a character the csv module would quote."""
    joined = "\x1f".join(values)
    if any(ch in joined for ch in _SPECIAL):
        return None
    first = values[0][:1] if values else ""
    if first not in csvsafe.FIRST_CHARS and _MAYBE_FORMULA.search(joined) is None:
        return values
    return [csvsafe.neutralise(v) for v in values]


def _neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell neutralised (numbers, missing values and dates as they are)."""
    out = df.copy(deep=False)
    out.columns = [csvsafe.neutralise(str(c)) for c in df.columns]
    for i, name in enumerate(df.columns):
        col = df[name]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype | pd.CategoricalDtype):
            # isetitem puts a new column in place; ``iloc[:, i] =`` would write into the
            # array this shallow copy shares with ``df`` (the caller's frame, later rendered).
            values = [v if _missing(v) else csvsafe.neutralise_value(v) for v in col.tolist()]
            out.isetitem(i, np.array(values, dtype=object))
    return out


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _plain_csv(df: pd.DataFrame) -> str | None:
    """The text ``to_csv`` would write (cells neutralised), joined directly; None unless certain.

    Why: clusters.csv has a million rows and pandas' writer takes seconds. Only frames whose
    columns are int64 or str without a comma, quote or line break (no quoting, no missing
    values, no float formatting) take this path; anything else goes through pandas.
    """
    if not len(df) or len(df.columns) < 2:  # a lone empty field would be quoted
        return None
    names = _safe_strings([str(c) for c in df.columns])
    if names is None:
        return None
    cells: list[list[str]] = []
    for name in df.columns:
        col = df[name]
        if col.dtype == np.int64:
            cells.append(list(map(str, col.tolist())))
            continue
        values = col.tolist()
        if col.dtype != object or set(map(type, values)) != {str}:
            return None
        safe = _safe_strings(values)
        if safe is None:
            return None
        cells.append(safe)
    lines = [",".join(names), *map(",".join, zip(*cells, strict=True)), ""]
    return "\n".join(lines)


def write_members(members: pd.DataFrame, path: Path) -> None:
    """members.parquet with the contract schema and format_version in the key-value metadata."""
    table = pa.Table.from_pandas(
        members[list(MEMBERS_SCHEMA.names)],
        schema=MEMBERS_SCHEMA,
        preserve_index=False,
        nthreads=1,  # converting str objects holds the GIL: more threads only wait for it
    )
    table = table.replace_schema_metadata(
        {"format_version": FORMAT_VERSION, "producer": f"omov {__version__} dedupe"}
    )
    with atomic_open(path, "wb", encoding=None) as fh:
        pq.write_table(table, fh, compression="zstd")


def _waterfall(res: Result, queue: pd.DataFrame) -> list[dict[str, object]]:
    """Queue rows with per-field (level, weight) lists for the HTML waterfall."""
    items: list[dict[str, object]] = []
    wt = res.model.weights if res.model is not None else None
    for record in queue.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        wf = []
        for part in str(row["evidence"]).split("; "):
            if not part:
                continue
            fld, rest = part.split(": ", 1)
            level, w = rest.rsplit(" (", 1)
            wf.append({"field": fld, "level": level, "weight": float(w.rstrip(")"))})
        row["waterfall"] = wf
        row["search"] = " ".join(str(row[k]) for k in row if k.endswith(("_a", "_b")))
        items.append(row)
    del wt
    return items


def render_report(res: Result, exports: list[Export]) -> str:
    """duplicate_report.html: self-contained (inline CSS/JS, no network), auto-escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dedupe", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
    )
    tpl = env.get_template("report.html.j2")
    log = res.decisions.log
    return tpl.render(
        format_version=FORMAT_VERSION,
        s=res.stats,
        orgs=sorted(e.org for e in exports),
        cleaning=res.prep.cleaning,
        items=_waterfall(res, res.queue),
        categories=sorted(set(res.queue["category"])) if len(res.queue) else [],
        decisions_applied=sum(1 for x in log if x["status"] == "applied"),
        decisions_stale=sum(1 for x in log if x["status"] == "stale"),
        decision_columns=list(DECISION_COLUMNS),
        earlier=_earlier(res),
    )


def _earlier(res: Result) -> list[dict[str, object]]:
    """The decisions the run was given, each with the names of the records it is about."""
    r = res.prep.records
    names: dict[tuple[str, str], str] = {}
    if len(r) and res.decisions.log:
        full = (r["first_name"].fillna("") + " " + r["last_name"].fillna("")).str.strip()
        for org, row, name in zip(r["source_org"], r["row_id"], full, strict=True):
            names[(str(org), str(row))] = f"{name} ({org} row {row})"
    out = []
    for entry in res.decisions.log:
        refs = [t.rpartition(":") for t in str(entry.get("records") or "").split(";") if t]
        out.append(
            {
                **entry,
                "row": entry.get("row") or {c: "" for c in DECISION_COLUMNS},
                "names": [names[(o, k)] for o, _, k in refs if (o, k) in names],
            }
        )
    return out


#: The files ``write_all`` writes before summary.json, which records their SHA-256 (in this order).
DIGESTED_OUTPUTS = (
    "clusters.csv",
    "members.parquet",
    "rejected.csv",
    "warnings.csv",
    "review_queue.csv",
    "excluded.csv",
    "decisions_applied.csv",
    "duplicate_report.html",
)


def refuse_overwriting_inputs(out: Path, inputs: list[Path]) -> None:
    """Stop (exit 2, nothing written) when a file given as input is one this run would write.

    Why: following the old advice (fill review_queue.csv, pass it back with --decisions)
    rewrote the very file holding the auditor's work, and the decisions were gone.
    """
    written = {(out / name).resolve(): name for name in (*DIGESTED_OUTPUTS, "summary.json")}
    for given in inputs:
        file, _ = split_sheet(given)
        name = written.get(file.resolve())
        if name is not None:
            raise InputError(
                f"this input is {name} in --out {out}, which this run rewrites: it would be lost",
                path=str(given),
                fix=f"copy it out of {out} first (e.g. to decisions.csv beside your exports) "
                "and pass the copy; for decisions, 'omov dedupe decisions add' keeps them in a "
                "file of their own",
            )


def write_all(
    res: Result, exports: list[Export], out: Path, opts: Options, extra_inputs: dict[str, Path]
) -> dict[str, object]:
    """Write every output into ``out``; return the summary (also written as summary.json)."""
    make_private_dirs(out)
    _csv(res.clusters, out / "clusters.csv")
    write_members(res.members, out / "members.parquet")
    _csv(pd.DataFrame(res.prep.rejected, columns=list(REJECTED_COLUMNS)), out / "rejected.csv")
    _csv(pd.DataFrame(res.prep.warnings, columns=list(WARNINGS_COLUMNS)), out / "warnings.csv")
    _csv(res.queue, out / "review_queue.csv")
    excl = res.members.loc[
        ~res.members["eligible"], ["person_id", "full_name", "organisations", "ineligible_reason"]
    ]
    excl = excl.rename(columns={"ineligible_reason": "reason"})[list(EXCLUDED_COLUMNS)]
    _csv(excl.sort_values("person_id"), out / "excluded.csv")
    _csv(
        pd.DataFrame(res.decisions.log, columns=list(DECISION_LOG_COLUMNS)),
        out / "decisions_applied.csv",
    )
    with atomic_open(out / "duplicate_report.html", "w", encoding="utf-8", newline="") as fh:
        fh.write(render_report(res, exports))
    log = res.decisions.log
    summary: dict[str, object] = {
        "format_version": FORMAT_VERSION,
        "omov_version": __version__,
        "stage": "dedupe",
        "inputs": {e.org: {k: v for k, v in res.prep.cleaning[e.org].items()} for e in exports}
        | {name: {"file": str(p), "sha256": sha256_file(p)} for name, p in extra_inputs.items()},
        "options": {
            "today": opts.today.isoformat(),
            "threshold_bits": opts.threshold,
            "weak_link_below_bits": opts.strong,
            "max_block": opts.max_block,
            "eligibility": opts.eligibility.describe(),
        },
        "counts": res.stats,
        "decisions": {
            "applied": sum(1 for x in log if x["status"] == "applied"),
            "stale": sum(1 for x in log if x["status"] == "stale"),
        },
        "blocking": res.blocking,
        "candidate_pairs": len(res.pairs.get("i", [])),
        "model": res.model.as_dict() if res.model is not None else None,
        "comparisons": {c.name: list(c.levels) for c in COMPARISONS},
        "outputs": {name: sha256_file(out / name) for name in DIGESTED_OUTPUTS},
    }
    with atomic_open(out / "summary.json", "w", encoding="utf-8", newline="") as fh:
        fh.write(json.dumps(summary, indent=2, sort_keys=False, default=str) + "\n")
    return summary
