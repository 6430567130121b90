"""Fetch a second real recording for the harness: Pose2Sim's Demo_MultiPerson (two people).

    python -m lifter_research.scripts.fetch_pose2sim_multi [--to ~/.cache/vidmimic/pose2sim_multi] [--wheel FILE]

The recording ships inside the ``pose2sim`` wheel on PyPI (BSD-3-Clause): 4 synchronised,
calibrated portrait views (1088x1920, 60 frames/s, 100 frames), the same cameras and lab as
``../shared/data/multiview/pose2sim_single``, with two people moving. The wheel is downloaded
without its dependencies (or read from ``--wheel``), and the videos, the calibration and the
licence are unpacked into ``--to`` (written whole or not at all). Score on it with
``vidmimic estimator evaluate --weights W --real --real-people DIR``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "0.10.49"
PREFIX = "Pose2Sim/Demo_MultiPerson/"
DEFAULT = Path.home() / ".cache" / "vidmimic" / "pose2sim_multi"


def download_wheel(folder: Path) -> Path:
    """The pose2sim wheel, downloaded into ``folder`` (no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", f"pose2sim=={VERSION}", "--no-deps", "--only-binary", ":all:",
                    "-q", "-d", str(folder)], check=True)
    wheels = sorted(folder.glob("pose2sim-*.whl"))
    if not wheels:
        raise SystemExit(f"error: pip left no pose2sim wheel in {folder}")
    return wheels[0]


def unpack(wheel: Path, target: Path) -> list[str]:
    """Unpack the recording and the licence from ``wheel`` into ``target``; the names written."""
    with zipfile.ZipFile(wheel) as z:
        wanted = {n: n[len(PREFIX):] for n in z.namelist()
                  if n.startswith(PREFIX) and (n.endswith(".mp4") or n.endswith("Calib.qca.txt"))}
        wanted.update({n: "LICENSE" for n in z.namelist() if n.endswith(".dist-info/licenses/LICENSE")})
        if not any(name.endswith(".mp4") for name in wanted.values()):
            raise SystemExit(f"error: {wheel} holds no {PREFIX} videos")
        for member, name in wanted.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(z.read(member))
    (target / "SOURCE.txt").write_text(f"Pose2Sim {VERSION} wheel from PyPI, {PREFIX} (BSD-3-Clause, see LICENSE)\n")
    return sorted(wanted.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--to", type=Path, default=DEFAULT, help="folder to create (calibration/, videos/)")
    parser.add_argument("--wheel", type=Path, help="a pose2sim wheel already downloaded (offline machines)")
    args = parser.parse_args()
    if (args.to / "calibration" / "Calib.qca.txt").exists():
        print(f"{args.to} is already there")
        return 0
    if args.wheel and not args.wheel.is_file():
        raise SystemExit(f"error: {args.wheel}: no such file")
    args.to.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.to.parent) as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        staging = Path(tmp) / "recording"
        names = unpack(wheel, staging)
        shutil.rmtree(args.to, ignore_errors=True)
        staging.rename(args.to)
    print(f"wrote {args.to}: " + ", ".join(names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
