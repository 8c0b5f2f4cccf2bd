"""Atomic file writes: a temp file in the same folder, then a rename, so a reader (or a run
interrupted half-way) never sees half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write `data` to `path` all at once, or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only; results are meant to be shared
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode() if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def write_json(path: str | Path, value) -> Path:
    return write_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path):
    """The JSON at `path`, or None when it is missing or unreadable (treated as not there)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
