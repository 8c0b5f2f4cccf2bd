"""The result cache: a rerun with nothing changed trains nothing.

A run is found again by a key over everything that decides its numbers: the config (seed
included), the dataset's fingerprint, the device, the library versions and the source of the
`cnn` modules that train and measure. Each entry is one JSON file, written atomically.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from cnn.config import Config
from cnn.files import read_json, write_json

# The modules whose code decides a run's numbers; editing a report or the CLI retrains nothing.
TRAINING_MODULES = ("activations", "config", "data", "evaluate", "models", "optimizers", "train")


@lru_cache(maxsize=1)
def source_hash() -> str:
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for name in TRAINING_MODULES:
        digest.update((package / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def run_key(config: Config, dataset_fingerprint: str, device: str, versions: dict[str, str], threads: int = 0,
            accuracy_checks: int = 0) -> str:
    """`threads`: TensorFlow's intra-op thread count (0 = its default, all cores). It changes the
    order of floating-point sums, so a run on 1 thread (a pytest-xdist worker) differs slightly.
    `accuracy_checks`: test-accuracy checks per epoch (train's argument), which a cached run must have."""
    parts = {
        "config": config.to_dict(),
        "dataset": dataset_fingerprint,
        "device": device,
        "versions": versions,
        "source": source_hash(),
        "threads": threads,
        "accuracy_checks": accuracy_checks,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


class RunCache:
    """One JSON file per run under `folder`."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict | None:
        return read_json(self.path(key))

    def put(self, key: str, record: dict) -> None:
        write_json(self.path(key), record)
