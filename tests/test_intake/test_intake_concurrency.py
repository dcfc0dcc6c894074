"""Two intake processes on one register at once: every token is counted exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from intake_helpers import make_ballot_def, make_register, write_returns

from issue.register import Register
from issue.tokens import new_tokens

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from count.intake_cli import run
    f, db, key, bdef, out = map(Path, sys.argv[1:6])
    run([f], [], db, key, bdef, out, None, batch_size=int(sys.argv[6]))
""")


def test_two_processes_never_count_a_token_twice(tmp_path: Path) -> None:
    n = 6000
    toks = new_tokens(n)
    db, key = make_register(tmp_path / "issue", unused=toks)
    bdef = make_ballot_def(tmp_path / "ballot.json", ["A", "B", "C"])
    # Both channels hold every token, in opposite orders, so the two runs collide all the time.
    a = write_returns(tmp_path / "a" / "online.csv", [(t, "1;2;3") for t in toks])
    b = write_returns(tmp_path / "b" / "postal.csv", [(t, "3;2;1") for t in reversed(toks)])
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(f), str(db), str(key),
                               str(bdef), str(tmp_path / f"out{i}"), "200"],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for i, f in enumerate((a, b))]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    reports = [json.loads((tmp_path / f"out{i}" / "intake_report.json").read_text())
               for i in range(2)]
    valid = [r["totals"]["valid"] for r in reports]
    used = [r["totals"]["by_class"]["token_used"] for r in reports]
    assert sum(valid) == n
    print("valid per process", valid)
    assert valid[0] + used[0] == n and valid[1] + used[1] == n
    assert used[0] == valid[1]  # what one counted, the other saw as used
    with Register.open(db, key) as reg:
        assert reg.counts() == {"unused": 0, "used": n, "revoked": 0}
    blt_weights = 0
    for i in range(2):
        lines = (tmp_path / f"out{i}" / "ballots.blt").read_text().splitlines()
        blt_weights += sum(int(line.split()[0]) for line in lines[1:] if line != "0"
                           and not line.startswith('"'))
    assert blt_weights == n
