"""``python -m bot.docs``: rewrite the generated docs and ``.env.example``; ``--check``: exit 1 if stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.docs.pages import ROOT, MissingBlockError, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            paths = stale(args.root)
            for path in paths:
                print(f"{path}: stale; run python -m bot.docs", file=sys.stderr)
            return 1 if paths else 0
        for path in write(args.root):
            print(f"wrote {path}")
    except MissingBlockError as error:
        print(f"python -m bot.docs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
