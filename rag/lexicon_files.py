"""Reading the language data files (corpus/language/*.toml): one loader, clear errors, cached."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any


class LexiconError(ValueError):
    """A language data file that is missing or malformed; the message names the file."""


@cache
def load_table(directory: Path, name: str) -> dict[str, Any]:
    """`<directory>/<name>.toml` as a dict (read once per process; the files are reviewed data)."""
    path = Path(directory) / f"{name}.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise LexiconError(f"{path}: language data file missing (POLICYQA_LEXICON_DIR={directory})") from exc
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read language data: {exc}") from exc
