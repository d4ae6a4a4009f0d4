"""Make a zip bomb shaped like a real feed, and a registry naming it, to measure `oura feeds ingest` on it.

    .venv/bin/python bench/zip_bomb.py OUT_DIR [--bytes 1073741824]
    OURA_DATA_DIR=OUT_DIR/data OURA_REGISTRY=OUT_DIR/registry.toml \\
        /usr/bin/time -v .venv/bin/python -m oura feeds ingest

The Bull Runner feed (../shared/data/bullrunner-usf) with its stop_times.txt replaced by one
repeated row up to ``--bytes`` (default 1 GiB: about 2.6 MB zipped, ratio 412:1), written as a
stream so making it takes little memory. Figures in docs/benchmarks.md, "Hostile feeds".
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry_toml import TestNetwork, write_registry  # noqa: E402  (the repository is on sys.path)

SHARED_DATA = ROOT.parent / "shared" / "data"
HEADER = b"trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
ROW = b"1,07:00:00,07:00:00,222,1\n"


def write_bomb(source: Path, target: Path, size_bytes: int) -> int:
    """Copy ``source`` into ``target`` with a stop_times.txt of ``size_bytes``; return its exact size."""
    block = ROW * ((4 << 20) // len(ROW))
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED,
                                                              compresslevel=9) as archive:
        for info in original.infolist():
            if info.filename != "stop_times.txt":
                archive.writestr(info.filename, original.read(info))
        with archive.open("stop_times.txt", "w", force_zip64=True) as member:
            member.write(HEADER)
            written = len(HEADER)
            while written + len(block) <= size_bytes:
                member.write(block)
                written += len(block)
            tail = ROW * ((size_bytes - written) // len(ROW))
            member.write(tail)
            return written + len(tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--bytes", type=int, default=1 << 30, help="uncompressed stop_times.txt size")
    args = parser.parse_args(argv)
    source = SHARED_DATA / "bullrunner-usf" / "bullrunner-gtfs.zip"
    if not source.is_file():
        print(f"{source} is absent", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    bomb = args.out_dir / "bomb.zip"
    inflated = write_bomb(source, bomb, args.bytes)
    write_registry(args.out_dir / "registry.toml",
                   TestNetwork("usf", "bullrunner", bomb.resolve(), network_name="Bull Runner (zip bomb)"),
                   region="Zip bomb")
    print(f"{bomb}: {bomb.stat().st_size:,} bytes zipped, stop_times.txt {inflated:,} bytes "
          f"({inflated / bomb.stat().st_size:,.0f}:1 over the whole zip)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
