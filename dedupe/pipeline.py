"""The dedupe stage end to end, as pure functions over the decoded exports.

ingest (io) → normalise (records) → candidate pairs (blocking) → comparison levels (compare)
→ weights (model) → constrained clustering (cluster) → person ids, members, review queue.
No printing and no file writing here: ``cli``/``outputs`` do that.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from dedupe.blocking import candidate_pairs
from dedupe.cluster import Clustering, constrained_clusters
from dedupe.compare import compare, record_arrays
from dedupe.decisions import Resolved, resolve
from dedupe.io import Export
from dedupe.keys import Keys
from dedupe.levels import COMPARISONS, Email, Field
from dedupe.mailbox import (
    first_name_handles,
    given_names,
    initial_spelled_out,
    mailbox_evidence,
)
from dedupe.members import Eligibility, build_members, frame_of, hex_rank
from dedupe.model import Model, fit, pair_weights, tf_adjustment
from dedupe.progress import Progress, Silent
from dedupe.reasons import BY_MODEL, BY_RULE
from dedupe.records import Prepared, combine, prepare_export
from dedupe.review import build_queue
from dedupe.rules import measure_hardness, pair_rules, sure_links
from omov.errors import IntegrityError

#: Match weight (bits, without the prior) at or above which a link is accepted.
DEFAULT_THRESHOLD = 20.0
#: Links below this weight that alone hold a person together are queued ("weak link").
DEFAULT_STRONG = 26.0


@dataclass(frozen=True)
class Options:
    """Everything that changes the result; echoed in summary.json."""

    threshold: float = DEFAULT_THRESHOLD
    strong: float = DEFAULT_STRONG
    max_block: int = 60
    term_frequency: bool = True
    eligibility: Eligibility = field(default_factory=Eligibility)
    today: date = field(default_factory=date.today)


@dataclass
class Result:
    """What a run produced (tables) and what it measured (for summary and report)."""

    prep: Prepared
    clusters: pd.DataFrame
    members: pd.DataFrame
    queue: pd.DataFrame
    decisions: Resolved
    model: Model | None
    blocking: dict[str, dict[str, int]]
    stats: dict[str, object]
    timings: dict[str, float]
    pairs: dict[str, np.ndarray] = field(default_factory=dict)


def person_ids(fingerprints: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """P + 16 hex of SHA-256 over a cluster's sorted record fingerprints: order-free.

    Records are grouped and sorted in numpy (fingerprints as integers when they are the usual
    16 hex digits); only the hashing is a Python loop, once per cluster.
    """
    rank = hex_rank(fingerprints)
    order = np.lexsort((fingerprints.astype(str) if rank is None else rank, labels))
    lab = labels[order]
    fps = fingerprints[order].tolist()
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]]).tolist()
    bounds = [*starts, len(lab)]
    sha = hashlib.sha256
    pids = [
        "P" + sha((fps[a] if b - a == 1 else "\n".join(fps[a:b])).encode()).hexdigest()[:16]
        for a, b in itertools.pairwise(bounds)
    ]
    if len(set(pids)) != len(pids):
        raise IntegrityError(
            "two different persons got the same person_id (hash collision)",
            fix="report this: it should happen once in 10^19 runs",
        )
    ids = np.empty(len(labels), dtype=object)
    ids[order] = np.repeat(np.array(pids, dtype=object), np.diff(bounds))
    return ids


def run(
    exports: list[Export],
    opts: Options,
    decisions: tuple[pd.DataFrame, list[int], str] | None = None,
    progress: Progress | None = None,
    release_raw: bool = False,
) -> Result:
    """Dedupe the exports; decisions (table, lines, path) are the auditor's, if any.

    ``release_raw`` drops each export's raw cells once normalised (saves memory at 1M rows;
    the exports cannot be run again afterwards).
    """
    bar = progress or Silent()
    t0 = time.perf_counter()
    bar.phase("normalising", total=len(exports))
    parts = []
    for exp in exports:
        parts.append(prepare_export(exp, opts.today))
        if release_raw:
            exp.data = exp.data.iloc[0:0].copy()  # a view would keep every cell alive
        bar.advance()
    prep = combine(parts)
    return run_prepared(
        prep, exports, opts, decisions, bar, {"ingest_and_cleaning": time.perf_counter() - t0}
    )


def run_prepared(
    prep: Prepared,
    exports: list[Export],
    opts: Options,
    decisions: tuple[pd.DataFrame, list[int], str] | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> Result:
    """Dedupe records already normalised (``dedupe.loading`` builds them in parallel)."""
    bar = progress or Silent()
    timings = dict(timings or {})
    r = prep.records
    n = len(r)
    bar.phase("blocking")
    t = time.perf_counter()
    keys = Keys(r)  # each key column factorised once, shared by blocking and comparison
    blocks = candidate_pairs(r, opts.max_block, keys)
    i, j = blocks.i, blocks.j
    timings["blocking"] = time.perf_counter() - t
    bar.phase(f"scoring {len(i):,} candidate pairs")
    t = time.perf_counter()
    arrays = record_arrays(r, keys)
    levels = compare(arrays, i, j)
    names = given_names(arrays)
    initial_named = initial_spelled_out(arrays, i, j, levels, names)
    mailbox_names_both = mailbox_evidence(arrays, i, j, levels, names)
    model = fit(arrays, levels, n) if n >= 2 else None
    weight = (
        pair_weights(model, levels) - model.prior_weight if model is not None else np.zeros(len(i))
    )
    if model is not None and opts.term_frequency:
        weight = weight + tf_adjustment(model, levels, arrays["first_c"], i, Field.FIRST_NAME)
        weight = weight + tf_adjustment(model, levels, arrays["last_c"], i, Field.LAST_NAME)
        # A popular birthday (1 January, a placeholder date) agrees by chance more often.
        weight = weight + tf_adjustment(
            model, levels, _dob_codes(arrays["dob"]), i, Field.DATE_OF_BIRTH
        )
    # Only pairs a rule may accept below the threshold need to know (rules.sure_links).
    shared_below = (levels[:, Field.EMAIL] == Email.EXACT) & (weight < opts.threshold)
    handle = first_name_handles(arrays, i, j, np.flatnonzero(shared_below))
    del arrays, keys  # per-record arrays: free them before clustering builds its own state
    hard = measure_hardness(levels)
    reasons, override = pair_rules(levels, hard, mailbox_names_both, initial_named)
    threshold, strong, attainable = effective_thresholds(model, levels, opts)
    sure = np.zeros(len(i), bool)
    below = np.flatnonzero(weight < threshold)
    sure[below] = sure_links(levels[below], reasons[below], handle[below])
    accept = (weight >= threshold) | sure
    how = np.where(sure & (override == ""), BY_RULE, override)
    timings["scoring"] = time.perf_counter() - t
    bar.phase("clustering")
    t = time.perf_counter()
    resolved = Resolved()
    if decisions is not None:
        resolved = resolve(decisions[0], decisions[1], r, decisions[2])
    must = _identical_rows(r) + resolved.must
    cl = constrained_clusters(
        n,
        i,
        j,
        weight,
        levels,
        r["number"].fillna("").tolist(),
        r["dob"].to_numpy(),
        r["suffix"].tolist(),
        threshold,
        must,
        resolved.cannot,
        hard,
        (reasons, how),
        full_first_names(r),
        accept,
    )
    person = person_ids(r["fingerprint"].to_numpy(dtype=object), cl.labels)
    _record_effects(resolved, person)
    timings["clustering"] = time.perf_counter() - t
    bar.phase("building members and the review queue")
    t = time.perf_counter()
    min_link = _min_link(cl, i, weight)
    members = build_members(r, person, min_link, opts.eligibility)
    wt = model.weights if model is not None else np.zeros((len(COMPARISONS), 6))
    queue = build_queue(
        r,
        person,
        cl,
        i,
        j,
        levels,
        weight,
        wt,
        reasons,
        threshold,
        strong,
        resolved.decided_pairs,
        accept,
    )
    clusters = _clusters_table(r, person)
    stats = _stats(r, cl, members, queue, exports, prep)
    stats["constraints"] = hard.as_dict()
    stats["thresholds"] = {
        "accept_link_bits": round(threshold, 3),
        "weak_link_below_bits": round(strong, 3),
        "attainable_bits": round(attainable, 3),
    }
    timings["members_and_queue"] = time.perf_counter() - t
    return Result(
        prep,
        clusters,
        members,
        queue,
        resolved,
        model,
        blocks.passes,
        stats,
        timings,
        {"i": i, "j": j, "levels": levels, "weight": weight, "reasons": reasons},
    )


#: A link needs at least this share of the evidence the data can offer at all.
ATTAINABLE_SHARE = 2 / 3


def effective_thresholds(
    model: Model | None, levels: np.ndarray, opts: Options
) -> tuple[float, float, float]:
    """Thresholds scaled down when the exports carry little evidence (e.g. names and DOB only).

    The attainable weight is the sum of the best level's weight over the comparisons that
    have any data. With a membership number, email, phone and address it is ~90 bits and the
    configured threshold (20) applies; with names and a date of birth only (~24 bits) a link
    needs two thirds of it (~16), otherwise no pair with a single typo could ever link.
    """
    if model is None or len(levels) == 0:
        return opts.threshold, opts.strong, 0.0
    w = model.weights
    present = np.asarray((levels > 0).any(axis=0))
    attainable = float(sum(w[k].max() for k in range(w.shape[0]) if present[k] and w[k].max() > 0))
    threshold = min(opts.threshold, ATTAINABLE_SHARE * attainable)
    strong = opts.strong - (opts.threshold - threshold)
    return threshold, strong, attainable


def _dob_codes(dob: np.ndarray) -> np.ndarray:
    """A code per distinct date of birth (-1 where missing), for its frequency."""
    codes = pd.factorize(dob)[0].astype(np.int64)
    out: np.ndarray = np.where(dob > 0, codes, -1)
    return out


def full_first_names(r: pd.DataFrame) -> list[str]:
    """Each record's first-name key when it is a name, not an initial ('' otherwise)."""
    keys = r["first_key"].to_numpy(dtype=object)
    return [k if isinstance(k, str) and len(k) > 1 else "" for k in keys.tolist()]


def _identical_rows(r: pd.DataFrame) -> list[tuple[int, int]]:
    """Rows repeated verbatim in one export are one person whatever any block size says."""
    idx = pd.Series(np.arange(len(r)), index=r.index)
    first = idx.groupby([r["source_org"], r["raw_fp"]], sort=False).transform("first")
    dup = first.to_numpy() != idx.to_numpy()
    return list(zip(first.to_numpy()[dup].tolist(), idx.to_numpy()[dup].tolist(), strict=True))


def _clusters_table(r: pd.DataFrame, person: np.ndarray) -> pd.DataFrame:
    """clusters.csv rows by (source_org, row_id): one integer lexsort, not a frame sort."""
    org_code, _ = pd.factorize(r["source_org"], sort=True)
    row_id = r["row_id"].to_numpy()
    order = np.lexsort((row_id, org_code))
    return frame_of(
        {
            "source_org": r["source_org"].to_numpy(dtype=object)[order],
            "row_id": row_id[order],
            "person_id": np.asarray(person, dtype=object)[order],
        }
    )


def _record_effects(resolved: Resolved, person: np.ndarray) -> None:
    """Say in each applied decision's log line what it did to the result."""
    for entry in resolved.log:
        found = entry.pop("_idx", [])
        if entry["status"] != "applied":
            continue
        ids = sorted({str(person[k]) for k in found})  # type: ignore[attr-defined]
        entry["person_ids"] = ";".join(ids)
        entry["detail"] = "now one person" if len(ids) == 1 else f"kept as {len(ids)} persons"


def _min_link(cl: Clustering, i: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weakest accepted link per record's person, rounded to 3 places; NaN if none.

    Zingg's Z_MINSCORE. Grouped by cluster label in numpy; Python's ``round`` (not numpy's)
    on each distinct minimum keeps the values the scrutineer's re-run would print.
    """
    labels = cl.labels
    p = np.fromiter((m[0] for m in cl.merges), np.int64, len(cl.merges))
    low = np.full(len(labels), np.inf)
    np.minimum.at(low, labels[i[p]], weight[p])
    has = np.flatnonzero(np.isfinite(low))
    per_label = np.full(len(labels), np.nan)
    per_label[has] = [round(x, 3) for x in low[has].tolist()]
    out: np.ndarray = per_label[labels]
    return out


def _stats(
    r: pd.DataFrame,
    cl: Clustering,
    members: pd.DataFrame,
    queue: pd.DataFrame,
    exports: list[Export],
    prep: Prepared,
) -> dict[str, object]:
    """Aggregate counts only (safe to share with organisations)."""
    orgs = sorted(e.org for e in exports)
    sizes = members["n_records"].value_counts().sort_index()
    overlap = {a: {b: 0 for b in orgs} for a in orgs}
    combos = members["organisations"].value_counts()
    for combo, count in combos.items():
        lst = str(combo).split(";")
        for a in lst:
            for b in lst:
                overlap[a][b] += int(count)
    per_org = {}
    for e in exports:
        per_org[e.org] = {
            "records": e.n_records,
            "rejected": int(prep.cleaning[e.org]["rejected"]),  # type: ignore[call-overload]
            "persons": overlap[e.org][e.org],
        }
    refused: dict[str, int] = {}
    for _p, why in cl.refused:
        refused[why] = refused.get(why, 0) + 1
    excluded = members.loc[~members["eligible"], "ineligible_reason"].value_counts()
    return {
        "records_in": int(sum(e.n_records for e in exports)),
        "records_clustered": len(r),
        "records_rejected": len(prep.rejected),
        "cell_warnings": len(prep.warnings),
        "persons": len(members),
        "persons_with_several_records": int((members["n_records"] > 1).sum()),
        "eligible": int(members["eligible"].sum()),
        "excluded": {str(k): int(v) for k, v in excluded.items()},
        "records_per_person": {str(k): int(v) for k, v in sizes.items()},
        "links_accepted": len(cl.merges),
        "links_merged_despite_conflict": dict(
            sorted(
                (how, sum(1 for m in cl.merges if m[3] == how))
                for how in {m[3] for m in cl.merges if m[3] not in (BY_MODEL, BY_RULE)}
            )
        ),
        "links_below_threshold_by_rule": sum(1 for m in cl.merges if m[3] == BY_RULE),
        "links_refused": dict(sorted(refused.items())),
        "queue_items": len(queue),
        "queue_by_category": {
            str(k): int(v) for k, v in queue["category"].value_counts().sort_index().items()
        },
        "organisations": per_org,
        "overlap_matrix": overlap,
    }
