"""--group-map: candidates' self-descriptions stay as written; the constraint sees their groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from count.groups import candidate_groups, read_group_map
from omov import cli
from omov.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
MAP = (
    "description,group\nWoman,woman\nfemale (she/her),woman\nCis woman,woman\nMan,man\n,unstated\n"
)


def test_descriptions_map_to_groups_case_and_spacing_aside(tmp_path: Path) -> None:
    (tmp_path / "map.csv").write_text(MAP)
    (tmp_path / "c.csv").write_text(
        "Name;Gender\nAnn Able;FEMALE  (she/her)\nBob Baker;man\nCat Cole;\nDee Dale;Cis woman\n"
    )
    groups = candidate_groups(tmp_path / "c.csv", "gender", read_group_map(tmp_path / "map.csv"))
    assert groups == {
        "Ann Able": "woman",
        "Bob Baker": "man",
        "Cat Cole": "unstated",
        "Dee Dale": "woman",
    }


def test_every_unmapped_description_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "map.csv").write_text(MAP)
    (tmp_path / "c.csv").write_text("name,gender\nA,Woman\nB,Agender\nC,Man\nD,woman (she)\n")
    with pytest.raises(InputError) as err:
        candidate_groups(tmp_path / "c.csv", "gender", read_group_map(tmp_path / "map.csv"))
    text = err.value.render()
    assert "2 gender description(s)" in text
    assert "line 3: B: 'Agender'" in text and "line 5: D: 'woman (she)'" in text


def test_a_description_mapped_two_ways_is_refused(tmp_path: Path) -> None:
    (tmp_path / "map.csv").write_text("description,group\nWoman,woman\nwoman,man\n")
    with pytest.raises(InputError, match="mapped to both"):
        read_group_map(tmp_path / "map.csv")


def test_the_readme_gender_example_works_on_the_sample_data(tmp_path: Path) -> None:
    """The README's example: sample_data's candidates as written, with its gender_groups.csv."""
    names = ["Tracy Atkinson", "Alka Bibi", "Robert Brassil", "Pauline Medici", "Ruth Smith-Walker"]
    blt = tmp_path / "b.blt"
    lines = [f"{10 - i} {i + 1} 0" for i in range(len(names))]
    blt.write_text(f"{len(names)} 2\n" + "\n".join(lines) + "\n0\n")
    with blt.open("a") as fh:
        fh.write("".join(f'"{n}"\n' for n in names) + '"t"\n')
    args = ["count", "run", str(blt), "--rule", "ers97", "--tie-seed", "s"]
    args += [
        "--constraint",
        "gender:woman>=2",
        "--candidates",
        str(ROOT / "sample_data" / "candidates.csv"),
    ]
    mapped = [*args, "--group-map", str(ROOT / "sample_data" / "gender_groups.csv")]
    assert cli.run([*mapped, "--out", str(tmp_path / "out")]) == 0
    assert cli.run([*args, "--out", str(tmp_path / "raw")]) == 2  # descriptions are not groups
