"""Start-up: building the CLI (what `omov --help` does) imports no heavy library (issue 17).

Timing belongs in bench/, so this checks what is imported, which is what makes start-up slow:
pandas, pyarrow, jinja2 and rapidfuzz are imported only by the commands that use them.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "jinja2", "rapidfuzz")


def test_building_the_cli_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from omov import cli\n"
        "cli.check_package_identity()\n"
        "cli.build_app()\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_a_stage_command_imports_only_its_stage() -> None:
    """`omov count run --help` mounts only the count's CLI: not even numpy is imported."""
    code = (
        "import sys\n"
        "from omov import cli\n"
        "assert cli.run(['count', 'run', '--help']) == 0\n"
        "print('loaded:', *(m for m in ('numpy', 'dedupe.cli', 'issue.cli', 'vote.cli', *"
        f"{HEAVY!r}) if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: omov count run" in proc.stdout
    assert proc.stderr.strip() == "loaded:"


def test_help_time_constants_equal_the_cores() -> None:
    """The CLIs keep a few constants for --help instead of importing their (heavy) cores."""
    from count import cli as count_cli
    from count.rules import RULES
    from dedupe import cli as dedupe_cli
    from dedupe import pipeline
    from issue import cli as issue_cli
    from issue import dispatch

    assert tuple(RULES) == count_cli.RULE_NAMES
    assert (dedupe_cli.DEFAULT_THRESHOLD, dedupe_cli.DEFAULT_STRONG) == (
        pipeline.DEFAULT_THRESHOLD,
        pipeline.DEFAULT_STRONG,
    )
    assert issue_cli.DEFAULT_VOTE_URL == dispatch.DEFAULT_VOTE_URL
