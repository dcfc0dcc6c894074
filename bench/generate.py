"""Seeded synthetic member exports for omov, with the hidden truth kept apart.

Writes ``OUT/exports/<org>.csv`` (what the pipeline reads), ``OUT/truth/`` (``truth.csv``,
``truth.parquet``, ``persons.parquet``, ``candidates_key.csv``, ``manifest.json`` — never read by
the pipeline) and ``OUT/candidates.csv``. Same ``--seed`` and arguments → the same bytes.

Example:
    python bench/generate.py --rows 3000 --seed 2026 --out sample_data
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # bench/ is a folder of scripts, not a package
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from gen_candidates import gender_groups, make_candidates  # noqa: E402
from gen_memberships import (  # noqa: E402
    MEMBERSHIP_COUNTS,
    assign_memberships,
    membership_count_probs,
)
from gen_mistakes import FLAGS, LP_TYPO_KINDS, ROW_RATES  # noqa: E402
from gen_orgs import DATE_FORMATS, org_styles  # noqa: E402
from gen_people import make_persons  # noqa: E402
from gen_profile import Profile, load_profile  # noqa: E402
from gen_rows import build_org  # noqa: E402
from gen_settings import PERSON_RATES, PeopleSettings  # noqa: E402

FORMAT_VERSION = "1"


def _log(msg: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def persons_needed(rows: int, k: int, dup_rate: float) -> int:
    """How many true people give about ``rows`` rows on ``k`` rolls (a few over; rows are cut)."""
    mean = float((np.arange(1, k + 1) * membership_count_probs(k)).sum()) * (1 + dup_rate)
    return int(rows / mean * 1.03) + 20


def _persons_table(p: pd.DataFrame, used: np.ndarray) -> pa.Table:
    """The true person table as written to persons.parquet (only people with at least one row)."""
    q = p.iloc[used]
    pid = p["person_id"].to_numpy()
    partner = q["partner"].to_numpy()
    out = pd.DataFrame(
        {
            "person_id": q["person_id"],
            "gender": q["gender"],
            "first_name": q["first_name"],
            "middle_name": q["middle_name"],
            "last_name": q["last_name"],
            "maiden_name": q["maiden_name"],
            "suffix": q["suffix"],
            "dob": q["dob"].to_numpy().astype("datetime64[D]"),
            "lp_number": np.where(q["lp"] >= 0, [f"{v:07d}" for v in q["lp"].clip(lower=0)], ""),
            "email": q["email"],
            "mobile": q["mobile"],
            "landline": q["landline"],
            "addr1": q["addr1"],
            "town": q["town"],
            "postcode": q["postcode"],
            "region": q["region"],
            "old_addr1": q["old_addr1"],
            "old_town": q["old_town"],
            "old_postcode": q["old_postcode"],
            "old_email": q["old_email"],
            "old_mobile": q["old_mobile"],
            "culture": q["culture"],
            "household_id": ["H" + pid[h][1:] for h in q["household"]],
            "partner_id": np.where(partner >= 0, pid[np.maximum(partner, 0)], ""),
            "hard_case": q["hard_case"],
            "related_to": q["related_to"],
        }
    )
    return pa.Table.from_pandas(out, preserve_index=False)


def _write_persons(p: pd.DataFrame, used: np.ndarray, path: Path, chunk: int = 100_000) -> None:
    """persons.parquet in chunks (one row group each), so 1M-row sets stay within modest memory."""
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, len(used), chunk):
            table = _persons_table(p, used[start : start + chunk])
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()


def generate(
    rows: int,
    seed: int,
    out: Path,
    orgs: int = 5,
    rates: dict[str, float] | None = None,
    quiet: bool = False,
    fold_dob: bool = True,
    profile: Profile | None = None,
) -> dict[str, Any]:
    """Write exports, truth and candidates for ``rows`` rows; return the manifest.

    ``fold_dob`` reflects out-of-range ages instead of clipping them (see gen_settings.fold);
    ``False`` gives the old clipped draws, which pile thousands of birthdays on one date.
    ``profile``: the distributions to draw from (gen_profile.py; None = the default)."""
    prof = profile or Profile()
    people = PeopleSettings.of(prof.person_rates, prof, fold_dob)
    return _generate(rows, seed, out, orgs, {**prof.row_rates, **(rates or {})}, quiet, people)


def _generate(
    rows: int,
    seed: int,
    out: Path,
    orgs: int,
    rates: dict[str, float] | None,
    quiet: bool,
    people: PeopleSettings,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    log = (lambda m: None) if quiet else (lambda m: _log(m, t0))
    if rows < 200:
        raise ValueError("--rows must be at least 200 (people need room to overlap)")
    prof = people.profile
    styles = org_styles(orgs, prof.styles)
    r = dict(ROW_RATES, **(rates or {}))
    rng = np.random.default_rng(seed)
    persons = make_persons(persons_needed(rows, orgs, r["within_org_dup"]), rng, people)
    log(f"{len(persons):,} people drawn")
    rows_df = assign_memberships(persons, styles, rng, rows, r["within_org_dup"])
    true_numbers = np.sort(persons["lp"].to_numpy()[persons["lp"].to_numpy() >= 0])
    exports, truth_dir = out / "exports", out / "truth"
    exports.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth_parts, flag_parts, detail = [], [], {}
    for j, style in enumerate(styles):
        sub = rows_df[rows_df["org"].to_numpy() == j]
        df, flags = build_org(
            style,
            sub["person"].to_numpy(),
            sub["within_org_dup"].to_numpy(),
            persons,
            rng,
            r,
            true_numbers,
        )
        path = exports / f"{style.key}.csv"
        df.to_csv(
            path,
            index=False,
            encoding=style.encoding,
            lineterminator=style.lineterminator,
            quoting=csv.QUOTE_ALL if style.quote_all else csv.QUOTE_MINIMAL,
        )
        t = pd.DataFrame(
            {
                "source_org": style.key,
                "row_id": sub["row_id"].to_numpy(),
                "person_id": persons["person_id"].to_numpy()[sub["person"].to_numpy()],
                "hard_case": persons["hard_case"].to_numpy()[sub["person"].to_numpy()],
                "org_ref": df.iloc[:, 0].to_numpy(),
            }
        )
        truth_parts.append(t)
        flag_parts.append(flags)
        detail[style.key] = {
            "display_name": style.display,
            "file": f"exports/{style.key}.csv",
            "rows": len(df),
            "encoding": style.encoding,
            "line_ending": "CRLF" if style.lineterminator == "\r\n" else "LF",
            "quoting": "all" if style.quote_all else "minimal",
            "headers": style.headers,
            "dob_format": DATE_FORMATS[style.dob_format] if style.dob_format else None,
            "lp_style": style.lp_style,
            "lp_missing_rate": style.lp_missing,
            "lp_missing_tokens": sorted(set(style.lp_missing_token)),
            "name_style": style.name_style,
            "address_style": style.address_style,
            "phone_style": style.phone_style,
        }
        log(f"{style.key}: {len(df):,} rows ({style.encoding})")
    truth = pd.concat(truth_parts, ignore_index=True)
    flags = pd.concat(flag_parts, ignore_index=True)
    truth[["source_org", "row_id", "person_id", "hard_case"]].to_csv(
        truth_dir / "truth.csv", index=False, lineterminator="\n"
    )
    pq.write_table(
        pa.Table.from_pandas(pd.concat([truth, flags], axis=1), preserve_index=False),
        truth_dir / "truth.parquet",
    )
    log("truth written")
    used = np.unique(rows_df["person"].to_numpy())
    _write_persons(persons, used, truth_dir / "persons.parquet")
    log("persons written")
    cands, key = make_candidates(
        persons, rows_df, _flags_in_row_order(rows_df, flags, styles), styles, rng
    )
    cands.to_csv(out / "candidates.csv", index=False, lineterminator="\n")
    gender_groups().to_csv(out / "gender_groups.csv", index=False, lineterminator="\n")
    key.to_csv(truth_dir / "candidates_key.csv", index=False, lineterminator="\n")
    log("truth and candidates written")
    manifest = _manifest(seed, rows, orgs, persons, used, truth, flags, r, detail, key)
    manifest["fold_dob"] = people.fold_dob
    if not prof.is_default:  # the default's manifest stays byte-identical
        manifest["profile"] = prof.changes()
    (truth_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    log("done")
    return manifest


def _flags_in_row_order(
    rows_df: pd.DataFrame, flags: pd.DataFrame, styles: list[Any]
) -> pd.DataFrame:
    """Flags are built org by org, in the same order as ``rows_df`` (sorted by org)."""
    assert (np.diff(rows_df["org"].to_numpy()) >= 0).all()
    return flags.set_index(rows_df.index)


def _manifest(
    seed: int,
    rows: int,
    orgs: int,
    persons: pd.DataFrame,
    used: np.ndarray,
    truth: pd.DataFrame,
    flags: pd.DataFrame,
    r: dict[str, float],
    detail: dict[str, Any],
    key: pd.DataFrame,
) -> dict[str, Any]:
    per_person = truth.groupby("person_id").size()
    hard = persons["hard_case"].to_numpy()[used]
    return {
        "format_version": FORMAT_VERSION,
        "generator": "bench/generate.py",
        "seed": seed,
        "rows": rows,
        "orgs": orgs,
        "people": len(used),
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "persons_with_2plus_rows": int((per_person >= 2).sum()),
        "true_pairs": int((per_person * (per_person - 1) // 2).sum()),
        "hard_cases": {k: int((hard == k).sum()) for k in ("twin", "senior", "junior", "namesake")},
        "couples": int((persons["partner"].to_numpy()[used] >= 0).sum() // 2),
        "record_flags": {f: int(flags[f].sum()) for f in FLAGS},
        "person_rates": PERSON_RATES,
        "row_rates": r,
        "lp_typo_kinds": LP_TYPO_KINDS,
        "membership_counts": MEMBERSHIP_COUNTS,
        "orgs_detail": detail,
        "candidates": {
            "file": "candidates.csv",
            "rows": len(key),
            "bad_rows": {
                int(row): reason
                for row, reason in zip(key["row"], key["reason"], strict=True)
                if reason
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, required=True, help="total data rows across all exports")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument(
        "--out", type=Path, required=True, help="output folder (exports/, truth/, candidates.csv)"
    )
    ap.add_argument("--orgs", type=int, default=5, help="number of organisations, 4-6 (default 5)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument(
        "--no-fold-dob",
        dest="fold_dob",
        action="store_false",
        help="clip out-of-range ages as before (piles them on one birthday) instead of reflecting",
    )
    ap.add_argument(
        "--profile",
        default="default",
        help="distributions to draw from: default, heldout, heldout2 or a JSON file "
        "(bench/gen_profile.py)",
    )
    a = ap.parse_args(argv)
    try:
        prof = load_profile(a.profile)
        m = generate(
            a.rows, a.seed, a.out, a.orgs, quiet=a.quiet, fold_dob=a.fold_dob, profile=prof
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not a.quiet:
        print(
            f"{m['rows']:,} rows, {m['people']:,} people, {m['orgs']} organisations -> {a.out}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
