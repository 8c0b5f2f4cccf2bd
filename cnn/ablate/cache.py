"""The result cache: a rerun with nothing changed trains nothing.

A run is found again by a key over everything that decides its numbers: the config (seed
included), the dataset's fingerprint, the device, the library versions and the code of the `cnn`
modules that train and measure, hashed by meaning (cnn.source: the syntax tree without
docstrings), so that a comment, a docstring or a reformatting retrains nothing. Each entry is one
JSON file, written atomically.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from cnn.config import Config
from cnn.files import read_json, write_json
from cnn.source import module_hash

# The modules whose code decides a run's numbers; editing a report or the CLI retrains nothing.
# A user's own model builder is hashed apart (cnn.models.builder_source_hash).
TRAINING_MODULES = ("cnn.activations", "cnn.augment", "cnn.config", "cnn.data", "cnn.evaluate", "cnn.models",
                    "cnn.models.sequential", "cnn.optimizers", "cnn.parts", "cnn.train")


@lru_cache(maxsize=1)
def source_hash() -> str:
    """One hash over the meaning of every training module (cnn.source.module_hash)."""
    digest = hashlib.sha256()
    for name in TRAINING_MODULES:
        digest.update(f"{name}:{module_hash(name)}".encode())
    return digest.hexdigest()[:16]


def run_key(config: Config, dataset_fingerprint: str, device: str, versions: dict[str, str], threads: int = 0,
            accuracy_checks: int = 0, evaluations: tuple[str, ...] = ()) -> str:
    """`threads`: TensorFlow's intra-op thread count (0 = its default, all cores). It changes the
    order of floating-point sums, so a run on 1 thread (a pytest-xdist worker) differs slightly.
    `accuracy_checks`: test-accuracy checks per epoch (train's argument), which a cached run must have.
    `evaluations`: the names run on the trained model (cnn.ablate.evaluations), whose metrics a cached
    run must have, keyed with their code's hash. Raises CnnError for an unknown evaluation."""
    from cnn.models import builder_source_hash

    parts = {
        "config": config.to_dict(),
        "config_class": f"{type(config).__module__}.{type(config).__qualname__}",  # your own subclass is another run
        "model_source": builder_source_hash(config.model),
        "dataset": dataset_fingerprint,
        "device": device,
        "versions": versions,
        "source": source_hash(),
        "threads": threads,
        "accuracy_checks": accuracy_checks,
    }
    if evaluations:  # only where there are some: every other run keeps the key it was cached under
        from cnn.ablate.evaluations import source_hash as evaluation_hash

        parts["evaluations"] = evaluation_hash(tuple(evaluations))
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
