"""Two intake processes on one register at once: every token is counted exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from intake_helpers import invoke, make_ballot_def, make_register, write_returns

from count.outputs import count_file, write_result
from issue.register import Register
from issue.tokens import new_tokens

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import vote.intake_service as ic
    from vote.intake_service import IntakeRequest, take_in
    f, db, key, bdef, out = map(Path, sys.argv[1:6])
    barrier = [Path(p) for p in sys.argv[7:9]]
    consume = ic.RegisterAdapter.consume_many
    def gated(self, tokens):  # both processes reach the register at the same moment
        barrier[int(sys.argv[9])].touch()
        deadline = time.monotonic() + 60
        while not all(p.exists() for p in barrier) and time.monotonic() < deadline:
            time.sleep(0.005)
        return consume(self, tokens)
    ic.RegisterAdapter.consume_many = gated
    from issue.register import Register
    chunk = Register.consume_many_hashes
    def polite(self, hashes, **kw):  # let the other process take the write lock between chunks
        try:
            return chunk(self, hashes, **kw)
        finally:
            time.sleep(0.12)
    Register.consume_many_hashes = polite
    take_in(IntakeRequest([f], [], db, key, bdef, out, None, batch_size=int(sys.argv[6]),
            consume_chunk=int(sys.argv[6])))
""")


def test_two_processes_never_count_a_token_twice(tmp_path: Path) -> None:
    n = 6000
    toks = new_tokens(n)
    db, key = make_register(tmp_path / "issue", unused=toks)
    bdef = make_ballot_def(tmp_path / "ballot.json", ["A", "B", "C"])
    # The channels overlap on the middle third (a voter who voted online and by post): those
    # tokens are contested by the two runs at the same moment.
    a = write_returns(tmp_path / "a" / "online.csv", [(t, "1;2;3") for t in toks[:4000]])
    b = write_returns(tmp_path / "b" / "postal.csv", [(t, "3;2;1") for t in reversed(toks[2000:])])
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCRIPT,
                str(f),
                str(db),
                str(key),
                str(bdef),
                str(tmp_path / f"out{i}"),
                "750",
                str(tmp_path / "ready0"),
                str(tmp_path / "ready1"),
                str(i),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, f in enumerate((a, b))
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    reports = [
        json.loads((tmp_path / f"out{i}" / "intake_report.json").read_text()) for i in range(2)
    ]
    valid = [r["totals"]["valid"] for r in reports]
    used = [r["totals"]["by_class"]["token_used"] for r in reports]
    print("valid per process", valid, "used per process", used)
    assert sum(valid) == n  # every token counted once
    assert sum(used) == 2000  # every contested token refused exactly once
    assert valid[0] + used[0] == 4000 and valid[1] + used[1] == 4000
    with Register.open(db, key) as reg:
        assert reg.counts() == {"unused": 0, "used": n, "revoked": 0}
    blt_weights = 0
    for i in range(2):
        lines = (tmp_path / f"out{i}" / "ballots.blt").read_text().splitlines()
        blt_weights += sum(
            int(line.split()[0]) for line in lines[1:] if line != "0" and not line.startswith('"')
        )
    assert blt_weights == n
    # The two intakes merge into one ballot file that the count and the report accept.
    merged = tmp_path / "merged"
    code, _, err = invoke(
        ["intake-merge", str(tmp_path / "out0"), str(tmp_path / "out1"), "--out", str(merged)]
    )
    assert code == 0, err
    write_result(count_file(merged / "ballots.blt", "ers97"), tmp_path / "count")
    code, _, err = invoke(
        [
            "report",
            "--intake",
            str(tmp_path / "out0"),
            "--intake",
            str(tmp_path / "out1"),
            "--merged",
            str(merged),
            "--result",
            str(tmp_path / "count"),
            "--register",
            str(db),
            "--keys",
            str(key),
            "--out",
            str(tmp_path / "report"),
        ]
    )
    assert code == 0, err
    report = json.loads((tmp_path / "report" / "scrutineer_report.json").read_text())
    assert report["all_checks_pass"] and report["papers"]["valid"] == n
    assert report["count"]["valid_votes"] == n


def test_merge_refuses_a_changed_intake(tmp_path: Path) -> None:
    toks = new_tokens(4)
    db, key = make_register(tmp_path / "issue", unused=toks)
    bdef = make_ballot_def(tmp_path / "ballot.json", ["A", "B", "C"])
    for i in range(2):
        f = write_returns(tmp_path / f"c{i}.csv", [(toks[2 * i], "1;2"), (toks[2 * i + 1], "2;1")])
        code, _, err = invoke(
            [
                "intake",
                str(f),
                "--register",
                str(db),
                "--keys",
                str(key),
                "--ballot-def",
                str(bdef),
                "--out",
                str(tmp_path / f"i{i}"),
            ]
        )
        assert code == 0, err
    with (tmp_path / "i1" / "ballots.blt").open("r+") as fh:
        text = fh.read()
        fh.seek(0)
        fh.write(text.replace("\n1 ", "\n9 ", 1))
    code, _, err = invoke(
        ["intake-merge", str(tmp_path / "i0"), str(tmp_path / "i1"), "--out", str(tmp_path / "m")]
    )
    assert code == 4 and "changed since intake" in err
