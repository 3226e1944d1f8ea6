"""Copy the small, resumable part of a run directory: config.json, progress.csv, versions.json, the
latest checkpoint and the best one (checkpoints/best.json and the checkpoint it names), and a meta-test
record (meta_test.json) if the run has one.

    python scripts/snapshot_run.py runs/hc-promp-s2 docs/results/runs/hc-promp-s2
    python scripts/snapshot_run.py --tree runs/figure2-reduced/runs docs/results/figure2-reduced/runs

``--tree`` snapshots every run directory (a directory with config.json and a checkpoint) below SRC
into the same relative place below DST: a campaign's runs (``promp reproduce figure2``).

The copy is a valid run directory: ``promp train --resume`` continues it (from a copy of it, so the
committed snapshot stays as it is), ``promp eval/rollout --checkpoint best|latest`` and ``promp plot``
read it. Files are copied atomically one by one; the destination's old checkpoints are replaced.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from promp.atomic import atomic_write_bytes
from promp.rundir import RunDir


def snapshot(src: Path, dst: Path) -> list[Path]:
    """Copy config, progress and the latest + best checkpoints of ``src`` into ``dst``; returns the files written."""
    run, out = RunDir(src), RunDir(dst)
    ckpts = run.checkpoints()
    if not ckpts:
        raise SystemExit(f"{src} has no checkpoint yet")
    best = run.best_checkpoint()
    keep = sorted({ckpts[-1]} | ({best} if best is not None else set()))
    pairs = [(run.config_path, out.config_path), (run.progress_path, out.progress_path)]
    if run.versions_path.exists():
        pairs.append((run.versions_path, out.versions_path))
    if (run.path / "meta_test.json").exists():  # promp reproduce metaworld's meta-test of the latest checkpoint
        pairs.append((run.path / "meta_test.json", out.path / "meta_test.json"))
    pairs += [(run.checkpoint_path(i, ext), out.checkpoint_path(i, ext)) for i in keep for ext in (".safetensors", ".json")]
    if best is not None:
        pairs.append((run.best_path, out.best_path))
    out.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    for old in out.checkpoints():
        if old not in keep:
            for ext in (".safetensors", ".json"):
                out.checkpoint_path(old, ext).unlink(missing_ok=True)
    for source, target in pairs:
        atomic_write_bytes(target, source.read_bytes())
    return [target for _, target in pairs]


def main() -> None:
    """Command line: [--tree] SRC DST."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--tree", action="store_true", help="every run directory below SRC")
    args = parser.parse_args()
    if not args.tree:
        for path in snapshot(args.src, args.dst):
            print(path)
        return
    runs = sorted(c.parent for c in args.src.rglob("config.json") if RunDir(c.parent).checkpoints())
    for src in runs:
        snapshot(src, args.dst / src.relative_to(args.src))
    print(f"snapshotted {len(runs)} runs from {args.src} into {args.dst}")


if __name__ == "__main__":
    main()
