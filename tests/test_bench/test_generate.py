"""The seeded member-export generator: deterministic, readable, truth complete, rates as set."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from bench_helpers import ROOT, bench_module

generate = bench_module("generate")
gen_mistakes = bench_module("gen_mistakes")

ROWS, SEED = 2500, 11


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate.generate(ROWS, SEED, out, quiet=True)
    return out


@pytest.fixture(scope="module")
def manifest(data: Path) -> dict[str, Any]:
    return json.loads((data / "truth" / "manifest.json").read_text(encoding="utf-8"))


def _exports(data: Path, manifest: dict[str, Any]) -> dict[str, pd.DataFrame]:
    return {
        org: pd.read_csv(data / d["file"], encoding=d["encoding"], dtype=str, keep_default_na=False)
        for org, d in manifest["orgs_detail"].items()
    }


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate.generate(800, 5, tmp_path / "a", quiet=True)
    generate.generate(800, 5, tmp_path / "b", quiet=True)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] for k in a), [k for k in a if a[k] != b[k]]
    generate.generate(800, 6, tmp_path / "c", quiet=True)
    c = _files(tmp_path / "c")
    assert c["exports/northern_socialists.csv"] != a["exports/northern_socialists.csv"]


def test_a_runs_settings_reach_the_draw_and_end_with_it(tmp_path: Path) -> None:
    """Profile and DOB folding travel with one run (gen_settings.PeopleSettings): they change
    what is drawn, and a default run after them gives the default bytes again."""
    generate.generate(800, 5, tmp_path / "a", quiet=True)
    held = bench_module("gen_profile").load_profile("heldout2")
    generate.generate(800, 5, tmp_path / "held", quiet=True, fold_dob=False, profile=held)
    generate.generate(800, 5, tmp_path / "clipped", quiet=True, fold_dob=False)
    generate.generate(800, 5, tmp_path / "b", quiet=True)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert [k for k in a if a[k] != b.get(k)] == []
    held_people = _files(tmp_path / "held")["truth/persons.parquet"]
    assert held_people != a["truth/persons.parquet"]
    clipped = _files(tmp_path / "clipped")
    assert clipped["truth/persons.parquet"] != a["truth/persons.parquet"]
    assert json.loads(clipped["truth/manifest.json"])["fold_dob"] is False


def test_layout_keeps_truth_apart(data: Path, manifest: dict[str, Any]) -> None:
    exported = sorted(p.name for p in (data / "exports").iterdir())
    assert exported == sorted(f"{org}.csv" for org in manifest["orgs_detail"])
    assert len(exported) >= 4
    for name in (
        "truth.csv",
        "truth.parquet",
        "persons.parquet",
        "manifest.json",
        "candidates_key.csv",
    ):
        assert (data / "truth" / name).is_file()
    assert (data / "candidates.csv").is_file()


def test_each_file_reads_in_its_declared_encoding(data: Path, manifest: dict[str, Any]) -> None:
    encodings = set()
    non_ascii = 0
    for d in manifest["orgs_detail"].values():
        raw = (data / d["file"]).read_bytes()
        encodings.add(d["encoding"])
        assert raw.startswith(b"\xef\xbb\xbf") == (d["encoding"] == "utf-8-sig")
        text = raw.decode(d["encoding"])  # strict: raises on a wrong byte
        header = text.splitlines()[0].replace('"', "")
        assert header.split(",") == list(d["headers"].values())
        assert ("\r\n" in text) == (d["line_ending"] == "CRLF")
        non_ascii += sum(not ch.isascii() for ch in text)
        if d["encoding"] == "cp1252":  # accents that cp1252 holds survive (Zoë, Siân, Ó Briain)
            assert re.search("[éáíóúëâôûñ]", text, re.IGNORECASE), d["file"]
    assert encodings == {"utf-8", "utf-8-sig", "cp1252"}
    assert non_ascii > 0


def test_truth_covers_every_row_exactly_once(data: Path, manifest: dict[str, Any]) -> None:
    truth = pd.read_csv(data / "truth" / "truth.csv", dtype=str, keep_default_na=False)
    assert list(truth.columns) == ["source_org", "row_id", "person_id", "hard_case"]
    assert len(truth) == ROWS == manifest["rows"]
    flags = pd.read_parquet(data / "truth" / "truth.parquet")
    for org, df in _exports(data, manifest).items():
        t = truth[truth["source_org"] == org]
        assert sorted(t["row_id"].astype(int)) == list(range(1, len(df) + 1))
        f = flags[flags["source_org"] == org].sort_values("row_id")
        assert (f["org_ref"].to_numpy() == df.iloc[:, 0].to_numpy()).all()
    persons = pd.read_parquet(data / "truth" / "persons.parquet")
    assert set(truth["person_id"]) == set(persons["person_id"])


def test_overlap_and_rates_roughly_as_configured(data: Path, manifest: dict[str, Any]) -> None:
    flags = pd.read_parquet(data / "truth" / "truth.parquet")
    per_person = flags.groupby("person_id").size()
    assert (per_person >= 2).mean() > 0.35  # heavy overlap: many people on several rolls
    assert (per_person >= 3).sum() > 50
    for org, d in manifest["orgs_detail"].items():
        f = flags[flags["source_org"] == org]
        # the org's blank rate plus the people nobody has a number for
        assert d["lp_missing_rate"] - 0.05 < f["lp_missing"].mean() < d["lp_missing_rate"] + 0.08, (
            org
        )
    n = len(flags)
    rates = gen_mistakes.ROW_RATES
    assert abs(flags["lp_mistyped"].mean() - rates["lp_mistype"] * 0.82) < 0.012
    assert 0.004 < flags["within_org_dup"].mean() < 0.03
    assert abs(flags["email_missing"].mean() - rates["email_missing"]) < 0.02
    for f in (
        "nickname",
        "initial",
        "typo",
        "maiden",
        "stale_address",
        "stale_email",
        "postcode_missing",
        "postcode_typo",
        "dob_missing",
        "dob_error",
        "accent_lost",
    ):
        assert flags[f].sum() > 0, f
    assert n == ROWS


def test_hard_cases_are_what_they_claim(data: Path) -> None:
    persons = pd.read_parquet(data / "truth" / "persons.parquet").set_index("person_id")
    truth = pd.read_csv(data / "truth" / "truth.csv", dtype=str, keep_default_na=False)
    assert {"twin", "junior", "senior", "namesake"} <= set(truth["hard_case"])
    for kind in ("twin", "junior", "namesake"):
        pairs = persons[(persons["hard_case"] == kind) & persons["related_to"].isin(persons.index)]
        assert len(pairs)
        for _pid, p in pairs.iterrows():
            q = persons.loc[p["related_to"]]
            if kind == "twin":
                assert p["dob"] == q["dob"] and p["postcode"] == q["postcode"]
                assert p["first_name"] != q["first_name"]
            elif kind == "junior":
                assert (p["first_name"], p["last_name"], p["addr1"]) == (
                    q["first_name"],
                    q["last_name"],
                    q["addr1"],
                )
                assert p["suffix"] == "Jr" and q["suffix"] == "Sr" and p["dob"] > q["dob"]
            else:
                assert (p["first_name"], p["last_name"], p["postcode"]) == (
                    q["first_name"],
                    q["last_name"],
                    q["postcode"],
                )
                assert p["addr1"] != q["addr1"]
    couples = persons[persons["partner_id"].isin(persons.index)]
    assert len(couples) > 100
    shared = couples.apply(lambda p: persons.loc[p["partner_id"], "addr1"] == p["addr1"], axis=1)
    assert shared.all()
    assert (persons["maiden_name"] != "").sum() > 10


def test_number_styles(data: Path, manifest: dict[str, Any]) -> None:
    ex = _exports(data, manifest)
    patterns = {
        "northern_socialists": r"L\d{6,8}",
        "health_socialists": r"\d{1,8}",
        "young_left": r"\d{8}",
        "coop_forum": r"LP-?\d{6,8}|none",
        "union_link": r"\s?[Ll](P-)?\s?\d{3}\s?\d{3,5}\s?|LP-\d{6,8}|\d{6,8}|N/A|unknown|TBC|-",
    }
    for org, pat in patterns.items():
        col = ex[org][manifest["orgs_detail"][org]["headers"]["lp"]]
        filled = col[col != ""]
        assert (
            0.05 < (col == "").mean() + (~filled.str.fullmatch(r".*\d.*")).sum() / len(col) < 0.35
        )
        bad = filled[~filled.str.fullmatch(pat)]
        assert bad.empty, (org, bad.head().tolist())
    assert (ex["health_socialists"]["LP number"].str.len() < 7).any()  # Excel ate the zeros


def test_candidates_file_has_the_bad_rows(data: Path) -> None:
    cands = pd.read_csv(data / "candidates.csv", dtype=str, keep_default_na=False)
    key = pd.read_csv(data / "truth" / "candidates_key.csv", dtype=str, keep_default_na=False)
    assert list(cands.columns) == [
        "name",
        "membership_number",
        "organisation",
        "bio",
        "nominations",
        "gender",
    ]
    assert (key["valid"] == "True").sum() >= 14
    bad = dict(zip(key["reason"], key["row"].astype(int), strict=True))
    assert set(bad) - {""} == {
        "no_nomination",
        "bio_over_150_words",
        "duplicate_candidate",
        "not_a_member",
    }
    row = lambda reason: cands.iloc[bad[reason] - 1]  # noqa: E731
    assert row("no_nomination")["nominations"] == ""
    assert len(row("bio_over_150_words")["bio"].split()) > 150
    dup = row("duplicate_candidate")["membership_number"]
    first = cands.index[cands["membership_number"] == dup]
    assert len(first) == 2 and first[1] == bad["duplicate_candidate"] - 1
    persons = pd.read_parquet(data / "truth" / "persons.parquet")
    numbers = set("L" + persons["lp_number"])
    assert row("not_a_member")["membership_number"] not in numbers
    valid = cands[(key["valid"] == "True").to_numpy()]
    assert valid["membership_number"].isin(numbers).all()
    assert (valid["nominations"] != "").all()
    assert valid["bio"].str.split().str.len().max() <= 150


def test_sample_data_is_what_the_make_target_writes(tmp_path: Path) -> None:
    committed = ROOT / "sample_data"
    m = json.loads((committed / "truth" / "manifest.json").read_text(encoding="utf-8"))
    if m["numpy_version"] != np.__version__ or m["pandas_version"] != pd.__version__:
        pytest.skip("sample_data was generated with other numpy/pandas versions")
    generate.generate(3000, 2026, tmp_path, quiet=True)
    fresh = {k: v for k, v in _files(tmp_path).items() if not k.endswith(".parquet")}
    old = _files(committed)  # also holds hand-made files (the auditor's decisions): not compared
    for k, v in fresh.items():
        assert old.get(k) == v, f"sample_data/{k} is stale: run `make sample-data`"


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert (
        generate.main(
            ["--rows", "500", "--seed", "1", "--out", str(tmp_path), "--orgs", "9", "--quiet"]
        )
        == 2
    )
    assert generate.main(["--rows", "10", "--seed", "1", "--out", str(tmp_path), "--quiet"]) == 2
    assert (
        generate.main(
            ["--rows", "500", "--seed", "1", "--out", str(tmp_path), "--orgs", "6", "--quiet"]
        )
        == 0
    )
    assert len(list((tmp_path / "exports").glob("*.csv"))) == 6


def test_docs_list_the_sample_bad_candidate_rows() -> None:
    doc = (ROOT / "docs" / "formats-sample.md").read_text(encoding="utf-8")
    section = doc.split("**Rows that must fail validation**", 1)[1].split("\n\n", 2)[1]
    listed = {
        int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| ([^|]+?) \|", section, re.M)
    }
    key = pd.read_csv(
        ROOT / "sample_data" / "truth" / "candidates_key.csv", dtype=str, keep_default_na=False
    )
    bad = key[key["valid"] == "False"]
    assert listed == dict(zip(bad["row"].astype(int), bad["name"], strict=True))
