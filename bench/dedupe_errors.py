"""What the dedupe got wrong on a generated set, grouped by kind, with examples.

Runs ``dedupe.run`` on a bench/generate.py folder (exports/ + truth/) and prints:
- **wrong merges** (a found person holding records of 2+ true people: ballots lost), grouped
  by how the people are related in the truth (couple, parent and child, twins, birthday
  namesakes, ...) and by whether the best pair between them linked on its own or the join
  came through a third record (``bridged``);
- **splits** (a true person spread over 2+ found persons: spare ballots), grouped by why the
  best pair across the split did not link (never compared, a pair rule's refusal, weight below
  the threshold, a cluster constraint) and by which fields disagree on it.
For each example: every record's fields as read and the best cross pair's levels, weight and
refusal (``Result.pairs``: i, j, levels, weight, reasons). All data is generated: no real people.

Example:
    python bench/dedupe_errors.py bench/data/dedupe_200000_11_6_heldout2 --examples 3
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dedupe  # noqa: E402
from dedupe.levels import COMPARISONS, Field, FirstName  # noqa: E402

SHOWN = ["first_name", "middle_names", "last_name", "suffix", "dob", "number", "email", "phone"]
SHOWN += ["postcode", "address", "town"]
#: Levels that say nothing against a pair (missing, agree, or near): left out of signatures.
AGREE = {"missing", "exact", "nickname", "similar", "same_year", "one_edit", "typo", "none"}


@dataclass
class Pair:
    """The best-weighted compared pair between two groups of records (None: never compared)."""

    i: int
    j: int
    levels: np.ndarray
    weight: float
    reason: str

    def describe(self) -> str:
        lv = " ".join(
            f"{c.name}={c.level_enum(int(v)).name.lower()}"
            for c, v in zip(COMPARISONS, self.levels, strict=True)
            if v
        )
        why = f"; refused: {self.reason}" if self.reason else ""
        return f"weight {self.weight:.1f}; {lv}{why}"

    def first_name(self) -> str:
        return FirstName(int(self.levels[Field.FIRST_NAME])).name.lower()

    def disagreeing(self) -> str:
        bad = [
            f"{c.name}:{c.level_enum(int(v)).name.lower()}"
            for c, v in zip(COMPARISONS, self.levels, strict=True)
            if c.level_enum(int(v)).name.lower() not in AGREE
        ]
        return ", ".join(bad) or "nothing disagrees"


class Errors:
    """One run's records, truth and pairs, and the errors found in them."""

    def __init__(self, data: Path, workers: int) -> None:
        run = dedupe.run(sorted((data / "exports").glob("*.csv")), workers=workers)
        res = run.result
        rec = res.prep.records.reset_index(drop=True)
        truth = pd.read_csv(data / "truth" / "truth.csv", dtype={"row_id": int})
        found = res.clusters.rename(columns={"person_id": "found"})
        key = ["source_org", "row_id"]
        rec = rec.merge(truth[[*key, "person_id"]], on=key, how="left").merge(found, on=key)
        self.rec = rec
        self.threshold = float(res.stats["thresholds"]["accept_link_bits"])  # type: ignore[index]
        self.persons = pd.read_parquet(data / "truth" / "persons.parquet").set_index("person_id")
        p = res.pairs
        self.pi, self.pj = p["i"], p["j"]
        self.levels, self.weight, self.reasons = p["levels"], p["weight"], p["reasons"]
        self.true = rec["person_id"].to_numpy()
        self.found = rec["found"].to_numpy()
        self._by_record = self._index_pairs()
        self.split_orgs: Counter[str] = Counter()

    def _index_pairs(self) -> dict[int, list[int]]:
        """Pair positions by record, only for records involved in an error (memory)."""
        tf = pd.DataFrame({"t": self.true, "f": self.found})
        split = tf.groupby("t")["f"].transform("nunique").to_numpy() > 1
        merged = tf.groupby("f")["t"].transform("nunique").to_numpy() > 1
        bad = np.flatnonzero(split | merged)
        self.bad = bad
        want = np.zeros(len(self.true), bool)
        want[bad] = True
        keep = np.flatnonzero(want[self.pi] & want[self.pj])
        out: dict[int, list[int]] = defaultdict(list)
        for k in keep.tolist():
            out[int(self.pi[k])].append(k)
        return out

    def best(self, a: np.ndarray, b: np.ndarray) -> Pair | None:
        """The highest-weighted compared pair with one record in a and the other in b."""
        sa, sb = set(a.tolist()), set(b.tolist())
        top = None
        for x in sa | sb:
            for k in self._by_record.get(x, []):
                y = int(self.pj[k])
                across = (x in sa and y in sb) or (x in sb and y in sa)
                if across and (top is None or self.weight[k] > self.weight[top]):
                    top = k
        if top is None:
            return None
        return Pair(
            int(self.pi[top]),
            int(self.pj[top]),
            self.levels[top],
            float(self.weight[top]),
            str(self.reasons[top]),
        )

    def show(self, idx: np.ndarray, label: str) -> list[str]:
        """One line per record: where it came from, whose it is (truth, found) and its fields."""
        lines = []
        for k in idx:
            r = self.rec.iloc[k]
            cells = " | ".join(str(r[c]) if pd.notna(r[c]) else "" for c in SHOWN)
            lines.append(f"    [{k}] {r['source_org']}:{r['row_id']} {label}={r[label]} :: {cells}")
        return lines

    def initials_as_name(self, pair: Pair) -> bool:
        """One side's "first name" is 2-3 letters with the other's initial but is neither
        its start nor the other's initials spelled with dots ("Re" for Rhianne Ellen): most
        likely a register's "BRENNAN, RE" read as a name."""
        x, y = self.rec.iloc[pair.i], self.rec.iloc[pair.j]
        for a, b in ((x, y), (y, x)):
            short = str(a["first_name"] or "").strip().lower()
            full = str(b["first_name"] or "").strip().lower()
            if (
                2 <= len(short) <= 3
                and short.isalpha()
                and len(full) > len(short)
                and full[:1] == short[:1]
                and not full.startswith(short)
            ):
                return True
        return False

    def relation(self, a: str, b: str) -> str:
        """How two true people are related (persons.parquet)."""
        p, q = self.persons.loc[a], self.persons.loc[b]
        if p.get("related_to") == b or q.get("related_to") == a:
            kinds = {p["hard_case"], q["hard_case"]} - {""}
            if "senior" in kinds:
                return "father/son (Jr/Sr)"
            return "parent/child" if "child" in kinds else "/".join(sorted(kinds))
        if p.get("partner_id") == b:
            return "couple"
        if p.get("household_id", a) == q.get("household_id", b):
            return "household (parent/child or siblings)"
        if p["first_name"] == q["first_name"] and p["dob"] == q["dob"]:
            return "same first name and birthday (chance)"
        if p["first_name"] == q["first_name"] and p["last_name"] == q["last_name"]:
            return "same name (chance)"
        return "unrelated"

    def merges(self) -> dict[str, list[tuple[int, list[str]]]]:
        """Wrong merges by kind: (persons lost, printed example) each."""
        out: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
        bad = self.bad
        for cluster, idx in pd.Series(bad).groupby(self.found[bad]):
            rows = idx.to_numpy()
            people = pd.unique(self.true[rows])
            if len(people) < 2:
                continue
            main = pd.Series(self.true[rows]).value_counts().index[0]
            kinds = sorted({self.relation(main, o) for o in people if o != main})
            a, b = rows[self.true[rows] == main], rows[self.true[rows] != main]
            pair = self.best(a, b)
            linked = pair is not None and not pair.reason and pair.weight >= self.threshold
            how = "linked directly" if linked else "bridged through a third record"
            names = f"first names {pair.first_name()}" if pair else "never compared"
            kind = f"{' + '.join(kinds)}; {names}; {how}"
            text = [f"  cluster {cluster}: {len(people)} true people"]
            text += self.show(rows, "person_id")
            text.append(f"    best cross pair: {pair.describe() if pair else 'never compared'}")
            out[kind].append((len(people) - 1, text))
        return out

    def splits(self) -> dict[str, list[tuple[int, list[str]]]]:
        """Splits by kind: (spare persons, printed example) each."""
        out: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
        bad = self.bad
        for person, idx in pd.Series(bad).groupby(self.true[bad]):
            rows = idx.to_numpy()
            parts = pd.unique(self.found[rows])
            if len(parts) < 2:
                continue
            main = pd.Series(self.found[rows]).value_counts().index[0]
            a, b = rows[self.found[rows] == main], rows[self.found[rows] != main]
            pair = self.best(a, b)
            if pair is None:
                why = "never compared (not blocked together)"
            elif pair.reason:
                why = f"refused: {pair.reason}"
            elif pair.weight < self.threshold:
                why = "weight below the threshold"
            else:
                why = "over the threshold: refused by a cluster constraint"
            kind = f"{why} [{pair.disagreeing() if pair else '-'}]"
            if pair is not None and self.initials_as_name(pair):
                kind += (
                    " (a 2-3 letter first name with the other's initial: initials read as a name?)"
                )
            off = pd.unique(self.rec["source_org"].to_numpy()[b])
            self.split_orgs.update({str(o): 1 for o in off})
            hard = self.persons.loc[person, "hard_case"] or "-"
            text = [f"  person {person} (hard case: {hard}) in {len(parts)} found persons"]
            text += self.show(rows, "found")
            text.append(f"    best cross pair: {pair.describe() if pair else 'never compared'}")
            out[kind].append((len(parts) - 1, text))
        return out


def report(title: str, groups: dict[str, list[tuple[int, list[str]]]], examples: int) -> None:
    total = sum(n for g in groups.values() for n, _ in g)
    print(f"\n## {title}: {total} in {sum(len(g) for g in groups.values())} cases\n")
    coarse: Counter[str] = Counter()
    for kind, g in groups.items():
        coarse[kind.split(" [")[0].split(";")[0]] += sum(n for n, _ in g)
    print("By cause:")
    for cause, n in coarse.most_common():
        print(f"- {n:5d}  {cause}")
    print("\nBy kind:")
    order = sorted(groups, key=lambda k: -sum(n for n, _ in groups[k]))
    for kind in order:
        g = groups[kind]
        print(f"- {sum(n for n, _ in g):5d}  {kind}  ({len(g)} cases)")
    for kind in order[: max(examples * 3, 6)]:
        print(f"\n### {kind}")
        for _, text in groups[kind][:examples]:
            print("\n".join(text))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", type=Path, help="a bench/generate.py folder (exports/, truth/)")
    ap.add_argument("--examples", type=int, default=3, help="examples printed per kind")
    ap.add_argument("--workers", type=int, default=0, help="processes reading exports")
    a = ap.parse_args(argv)
    if not (a.data / "truth" / "truth.csv").is_file():
        print(f"error: {a.data} has no truth/truth.csv (run bench/generate.py)", file=sys.stderr)
        return 2
    e = Errors(a.data, a.workers)
    print(f"# dedupe errors on {a.data} (threshold {e.threshold:.1f} bits)")
    report("Wrong merges (persons merged into another person's record)", e.merges(), a.examples)
    report("Splits (spare ballots)", e.splits(), a.examples)
    print(f"\nsplits by export of the split-off records: {dict(e.split_orgs.most_common())}")
    c = Counter(e.persons.loc[pd.unique(e.true), "hard_case"].replace("", "-"))
    print(f"\nhard cases in the set: {dict(c)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
