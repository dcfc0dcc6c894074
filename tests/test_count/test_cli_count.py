"""``omov count run`` / ``verify`` end to end, in process: files written, exit codes kept."""

from __future__ import annotations

import json
import re
import tokenize
from pathlib import Path

import pytest

from omov import cli
from omov.errors import ExitCode

GOLDEN = Path(__file__).parent / "golden"


def test_run_writes_all_four_files_and_verify_passes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = cli.run(
        [
            "count",
            "run",
            str(GOLDEN / "ers97_small" / "ballots.blt"),
            "--rule",
            "ers97",
            "--out",
            str(out),
            "--tie-seed",
            "s1",
        ]
    )
    assert code == 0
    doc = json.loads((out / "result.json").read_text("utf-8"))
    for key in (
        "format_version",
        "rule",
        "seats",
        "candidates",
        "valid_votes",
        "invalid_votes",
        "quota",
        "final_quota",
        "elected",
        "stages",
        "ties",
        "tie_seed",
    ):
        assert key in doc
    assert doc["tie_seed"] == "s1"
    assert doc["stages"][1]["votes"]["Ben"] == "8.50"
    html = (out / "result.html").read_text("utf-8")
    assert 'id="chart"' in html and 'name="omov-format-version"' in html
    assert html.count('<details class="stage"') == len(doc["stages"])
    assert not re.search(r"<(script|link)\b|src=\"http", html)  # self-contained, offline
    assert (out / "result.csv").read_text("utf-8").startswith("format_version,1\n")
    assert cli.run(["count", "verify", str(out)]) == 0


def test_verify_exits_4_on_any_difference(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = tmp_path / "b.csv"
    src.write_text((GOLDEN / "scottish_csv" / "ballots.csv").read_text("utf-8"), "utf-8")
    assert cli.run(["count", "run", str(src), "--rule", "scottish", "--out", str(out)]) == 0
    sheet = out / "result.csv"
    sheet.write_text(sheet.read_text("utf-8").replace("7.76921", "7.76922"), "utf-8")
    assert cli.run(["count", "verify", str(out)]) == ExitCode.INTEGRITY
    assert cli.run(["count", "run", str(src), "--rule", "scottish", "--out", str(out)]) == 0
    src.write_text(src.read_text("utf-8").replace("9,1,2,,", "8,1,2,,"), "utf-8")  # ballots changed
    assert cli.run(["count", "verify", str(out)]) == ExitCode.INTEGRITY


@pytest.mark.parametrize(
    "args",
    [
        ["--rule", "nonsense"],
        ["--rule", "meek", "--threshold", "half"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    ballots = str(GOLDEN / "meek_small" / "ballots.blt")
    assert cli.run(["count", "run", ballots, "--out", str(tmp_path), *args]) == ExitCode.USAGE


def test_bad_ballot_file_exit_2_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.blt"
    bad.write_text('3 1\n1 1 2 0\n2 7 0\n0\n"A"\n"B"\n"C"\n"t"\n', "utf-8")
    code = cli.run(["count", "run", str(bad), "--rule", "scottish", "--out", str(tmp_path / "o")])
    assert code == ExitCode.USAGE
    assert f"{bad}:3:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_tie_decisions_file_via_cli(tmp_path: Path) -> None:
    ballots = tmp_path / "t.blt"
    ballots.write_text('3 1\n1 1 0\n1 2 0\n2 3 0\n0\n"Ann"\n"Ben"\n"Cat"\n"tie"\n', "utf-8")
    dec = tmp_path / "d.json"
    dec.write_text(
        json.dumps(
            {"format_version": 1, "decisions": [{"among": ["Ann", "Ben"], "chosen": ["Ben"]}]}
        ),
        "utf-8",
    )
    out = tmp_path / "o"
    assert (
        cli.run(
            [
                "count",
                "run",
                str(ballots),
                "--rule",
                "scottish",
                "--out",
                str(out),
                "--tie-decisions",
                str(dec),
            ]
        )
        == 0
    )
    doc = json.loads((out / "result.json").read_text("utf-8"))
    assert doc["stages"][1]["excluded"] == ["Ben"]
    assert doc["ties"][0]["method"] == "lot (decisions file)"
    assert cli.run(["count", "verify", str(out)]) == 0
    assert (
        cli.run(["count", "run", str(ballots), "--rule", "scottish", "--out", str(tmp_path / "o2")])
        == ExitCode.USAGE
    )  # a lot needs a seed


@pytest.mark.parametrize("command", ["run", "verify"])
def test_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["count", command, "--help"]) == 0
    assert "Example: omov count" in capsys.readouterr().out


def test_no_float_and_no_random_in_count_package() -> None:
    """Exact arithmetic only: in count/'s code (not its strings or comments) there is no float
    type or dtype, no float literal and no ``random`` (``/`` stays legal: it joins paths)."""
    root = Path(__file__).resolve().parents[2] / "count"
    banned_names = {"float", "float16", "float32", "float64", "random", "Random"}
    offenders = []
    for path in sorted(root.rglob("*.py")):
        with path.open("rb") as fh:
            for tok in tokenize.tokenize(fh.readline):
                bad = (tok.type == tokenize.NAME and tok.string in banned_names) or (
                    tok.type == tokenize.NUMBER
                    and re.search(r"[.eEjJ]", tok.string)
                    and not tok.string.lower().startswith("0x")
                )
                if bad:
                    offenders.append(
                        f"{path.relative_to(root.parent)}:{tok.start[0]}: {tok.line.strip()}"
                    )
    assert offenders == []


def test_verify_exits_4_when_result_json_is_incomplete(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ballots = str(GOLDEN / "meek_small" / "ballots.blt")
    assert cli.run(["count", "run", ballots, "--rule", "meek", "--out", str(out)]) == 0
    doc = json.loads((out / "result.json").read_text("utf-8"))
    del doc["rule"]
    (out / "result.json").write_text(json.dumps(doc), "utf-8")
    assert cli.run(["count", "verify", str(out)]) == ExitCode.INTEGRITY
