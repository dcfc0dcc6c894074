"""axe-core for the accessibility scans: fetched from the npm registry at test time, pinned.

Why fetched and not vendored: axe-core is ~550 KB of minified JavaScript that would sit in the
repository unreviewed; ``npm pack`` fetches the exact version below into a cache outside the
tree (``$OMOV_TEST_CACHE`` or ``~/.cache/omov-tests``), npm checks the registry's integrity,
and we check the tarball's SHA-512 against the pin again, so a changed package fails the test.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4"
    "r76ASyFNNtuFooJpZe37OgudVGtQ=="
)


def cache_dir() -> Path:
    base = os.environ.get("OMOV_TEST_CACHE") or str(Path.home() / ".cache" / "omov-tests")
    return Path(base) / f"axe-core-{AXE_VERSION}"


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def axe_source() -> str:
    """The text of axe.min.js; raises RuntimeError (with why) if it cannot be had."""
    target = cache_dir()
    script = target / "axe.min.js"
    tarball = target / f"axe-core-{AXE_VERSION}.tgz"
    if not (script.exists() and tarball.exists() and _integrity(tarball) == AXE_INTEGRITY):
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed (Debian: apt-get install -y npm)")
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(target)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0 or not tarball.exists():
            raise RuntimeError(f"npm pack axe-core failed: {done.stderr.strip()[-300:]}")
        if _integrity(tarball) != AXE_INTEGRITY:
            tarball.unlink()
            raise RuntimeError("axe-core tarball does not match the pinned SHA-512")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/axe.min.js")
            if member is None:
                raise RuntimeError("axe-core tarball has no package/axe.min.js")
            script.write_bytes(member.read())
    return script.read_text(encoding="utf-8")
