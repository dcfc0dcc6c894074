"""Write every output of a dedupe run atomically, deterministically, with digests.

Why deterministic bytes: a scrutineer re-running omov on the same exports must be able to
compare outputs with ``sha256sum``; nothing here writes a timestamp or depends on row order.
"""

from __future__ import annotations

import io
import json
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
    EXCLUDED_COLUMNS,
    FORMAT_VERSION,
    MEMBERS_SCHEMA,
    REJECTED_COLUMNS,
    WARNINGS_COLUMNS,
)
from omov import __version__
from omov.fileio import atomic_open, sha256_file

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
    text = _plain_csv(df)
    if text is None:
        buf = io.StringIO()
        df.to_csv(buf, index=False, lineterminator="\n")
        text = buf.getvalue()
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


#: Characters that make the csv module quote a field.
_SPECIAL = (",", '"', "\r", "\n")


def _plain_csv(df: pd.DataFrame) -> str | None:
    """The text ``to_csv`` would write, joined directly; None unless that is certain.

    Why: clusters.csv has a million rows and pandas' writer takes seconds. Only frames whose
    columns are int64 or str without a comma, quote or line break (no quoting, no missing
    values, no float formatting) take this path; anything else goes through pandas.
    """
    if not len(df) or len(df.columns) < 2:  # a lone empty field would be quoted
        return None
    names = [str(c) for c in df.columns]
    cells: list[list[str]] = []
    texts = [names]
    for name in df.columns:
        col = df[name]
        if col.dtype == np.int64:
            cells.append(list(map(str, col.tolist())))
            continue
        values = col.tolist()
        if col.dtype != object or set(map(type, values)) != {str}:
            return None
        cells.append(values)
        texts.append(values)
    for strings in texts:
        joined = "\x1f".join(strings)
        if any(ch in joined for ch in _SPECIAL):
            return None
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
    )


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


def write_all(
    res: Result, exports: list[Export], out: Path, opts: Options, extra_inputs: dict[str, Path]
) -> dict[str, object]:
    """Write every output into ``out``; return the summary (also written as summary.json)."""
    out.mkdir(parents=True, exist_ok=True)
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
