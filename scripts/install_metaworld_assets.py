"""Install Meta-World's XML models and meshes (only those: no Python code, no package metadata) into this
venv, where promp.envs.metaworld.assets finds them: ``<sys.prefix>/share/promp/metaworld-3.1.1/``.

    .venv/bin/python scripts/install_metaworld_assets.py

Why not ``pip install metaworld``: metaworld 3.1.1 pins ``mujoco==3.3.0``; with pip's resolver that
conflicts with promp's ``mujoco>=4.0``, and installed with ``--no-deps`` it makes ``pip check`` (run by
``make install``) fail. This script downloads the wheel with pip (hash-checked, no dependencies) and
extracts ``metaworld/assets/`` and metaworld's licence. ``pip install --no-deps metaworld==3.1.1`` works
too (the assets are then found in the installed package), at the price of that ``pip check`` failure.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "3.1.1"
WHEEL_SHA256 = "99e25d9baf97f2f1a19ca89c0d2ca9c6a2b396d9a9be81729de64eedc683f0d3"
PREFIX = "metaworld/assets/"


def main() -> int:
    dest = Path(sys.prefix) / "share" / "promp" / f"metaworld-{VERSION}"
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "req.txt"
        req.write_text(f"metaworld=={VERSION} --hash=sha256:{WHEEL_SHA256}\n")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--only-binary=:all:", "--require-hashes", "-r", str(req), "-d", tmp], check=True)
        wheel = next(Path(tmp).glob(f"metaworld-{VERSION}-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            members = [n for n in zf.namelist() if n.startswith(PREFIX) and not n.endswith("/")]
            licence = [n for n in zf.namelist() if n.endswith("licenses/LICENSE") or n.endswith("/LICENSE")]
            for name in members:
                target = dest / "assets" / name[len(PREFIX):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
            for name in licence[:1]:
                (dest / "LICENSE").write_bytes(zf.read(name))
    print(f"installed {len(members)} Meta-World asset files into {dest / 'assets'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
