"""Copy the small, resumable part of a run directory: config.json, progress.csv, the latest checkpoint
and the best one (checkpoints/best.json and the checkpoint it names).

    python scripts/snapshot_run.py runs/hc-promp-s2 docs/results/runs/hc-promp-s2

The copy is a valid run directory: ``promp train --resume`` continues it (from a copy of it, so the
committed snapshot stays as it is), ``promp eval/rollout --checkpoint best|latest`` and ``promp plot``
read it. Files are copied atomically one by one; the destination's old checkpoints are replaced.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

NAME = re.compile(r"^itr_(\d+)\.json$")


def snapshot(src: Path, dst: Path) -> list[str]:
    """Copy config, progress and the latest + best checkpoints of ``src`` into ``dst``; returns the files copied."""
    ckpts = sorted(int(m.group(1)) for p in (src / "checkpoints").iterdir() if (m := NAME.match(p.name)))
    if not ckpts:
        raise SystemExit(f"{src} has no checkpoint yet")
    keep = {ckpts[-1]}
    best = src / "checkpoints" / "best.json"
    if best.exists():
        keep.add(int(json.loads(best.read_text())["checkpoint"]))
    files = ["config.json", "progress.csv"] + [f"checkpoints/itr_{i:05d}{ext}" for i in sorted(keep)
                                               for ext in (".safetensors", ".json")]
    if best.exists():
        files.append("checkpoints/best.json")
    (dst / "checkpoints").mkdir(parents=True, exist_ok=True)
    for old in (dst / "checkpoints").glob("itr_*"):
        if f"checkpoints/{old.name}" not in files:
            old.unlink()
    for name in files:
        tmp = dst / (name + ".tmp")
        shutil.copyfile(src / name, tmp)
        tmp.replace(dst / name)
    return files


def main() -> None:
    """Command line: SRC DST."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    args = parser.parse_args()
    for name in snapshot(args.src, args.dst):
        print(args.dst / name)


if __name__ == "__main__":
    main()
