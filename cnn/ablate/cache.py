"""The result cache: a rerun with nothing changed trains nothing.

A run is found again by a key over everything that decides its numbers: the config (seed
included), the dataset's fingerprint, the device, the library versions and the code of the `cnn`
modules that train and measure, hashed by meaning (cnn.source: the syntax tree without
docstrings), so that a comment, a docstring or a reformatting retrains nothing. Each entry is one
JSON file, written atomically, in a folder or anywhere fsspec reaches (s3://, gs://, memory://), so
that a study resumes on another machine.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fsspec.core import split_protocol, url_to_fs
from fsspec.implementations.local import LocalFileSystem

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
            accuracy_checks: int = 0, evaluations: tuple[str, ...] = (), snapshots: tuple[int, ...] = ()) -> str:
    """`threads`: TensorFlow's intra-op thread count (0 = its default, all cores). It changes the
    order of floating-point sums, so a run on 1 thread (a pytest-xdist worker) differs slightly.
    `accuracy_checks`: test-accuracy checks per epoch (train's argument), which a cached run must have.
    `evaluations`: the names run on the trained model (cnn.ablate.evaluations), whose metrics a cached
    run must have, keyed with their code's hash. `snapshots`: the epochs after which the run records
    the scores a shorter run ends with (cnn.ablate.prefix). Raises CnnError for an unknown evaluation."""
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
    if snapshots:  # likewise
        parts["snapshots"] = sorted(snapshots)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


class RunCache:
    """One JSON file per run, `<key>.json`, under `location`: a folder, or an fsspec URL (file://,
    memory://, s3://bucket/prefix, gs://bucket/prefix; a remote one needs its backend, e.g. s3fs).
    Raises ValueError for a protocol fsspec does not know, ImportError for a backend not installed."""

    def __init__(self, location: str | Path):
        self.fs, root = url_to_fs(str(location))
        self.local = isinstance(self.fs, LocalFileSystem)
        if not self.local:
            self.root: Path | str = root.rstrip("/")
        else:  # a plain path is kept as given (a relative one follows the working folder, as before)
            self.root = Path(location) if split_protocol(str(location))[0] is None else Path(root)

    def path(self, key: str) -> Path | str:
        """Where `key`'s record is: a Path on this machine, else the path on the cache's filesystem."""
        return self.root / f"{key}.json" if self.local else f"{self.root}/{key}.json"

    def get(self, key: str) -> dict | None:
        """The record, or None when it is missing or unreadable (a half or damaged file is not there)."""
        if self.local:
            return read_json(self.path(key))
        try:
            return json.loads(self.fs.cat_file(self.path(key)).decode())
        except (OSError, ValueError):  # a missing object is FileNotFoundError; bad UTF-8 or JSON, ValueError
            return None

    def put(self, key: str, record: dict) -> None:
        if self.local:  # a temp file renamed: a run killed half-way never leaves half a record
            write_json(self.path(key), record)
            return
        # An object store writes an object whole or not at all, so one open-write-close is atomic there.
        # The text is write_json's, byte for byte, so a cache copied between the two reads the same.
        self.fs.makedirs(self.root, exist_ok=True)  # as fsspec's auto_mkdir: a no-op where there are no folders
        with self.fs.open(self.path(key), "wb") as stream:  # bytes: no platform's newline or locale encoding
            stream.write((json.dumps(record, indent=2, sort_keys=True) + "\n").encode())

    def keys(self) -> list[str]:
        """The run keys with a record here, sorted (none before the first is written)."""
        try:
            names = self.fs.ls(str(self.root), detail=False)
        except FileNotFoundError:
            return []
        # write_atomic's temp files end in .tmp and start with a dot: never a key
        names = (name.rstrip("/").rsplit("/", 1)[-1] for name in names)
        return sorted(name[:-len(".json")] for name in names if name.endswith(".json") and not name.startswith("."))
