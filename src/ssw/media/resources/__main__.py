"""`python -m ssw.media.resources --data-dir DIR [--language ru] [--force]`: build the prompts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ssw.media.resources.prompts import PromptError, ensure_prompts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssw.media.resources",
                                     description="Generate the system prompts with espeak-ng.")
    parser.add_argument("--data-dir", type=Path, default=Path("./data"))
    parser.add_argument("--language", default="en", help="en or ru")
    parser.add_argument("--force", action="store_true", help="regenerate existing prompts")
    args = parser.parse_args(argv)
    try:
        made = ensure_prompts(args.data_dir, language=args.language, force=args.force)
    except PromptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in made:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
