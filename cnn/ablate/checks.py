"""The plugin's option checks: a bad value is pytest's one-line usage error (exit 4), never a
traceback from inside a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnn.errors import CnnError


def profile(name: str):
    from cnn.ablate.profiles import PROFILES

    try:
        return PROFILES.get(name)
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-profile: {error}") from None


def seeds(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--ablation-seeds {text!r} is not a positive whole number of seeds; try 3")
    return int(text)


def dataset_spec(spec: str) -> str:
    """Checked without loading (that waits for a collected ablation test, see `ready`): a known
    name, or an npz: path that exists. The message is the library's own."""
    from cnn.data import DATASETS, load_dataset

    path = spec[len("npz:"):] if spec.startswith("npz:") else None
    try:
        if (path is None and spec not in DATASETS) or (path is not None and not Path(path).is_file()):
            load_dataset(spec)  # raises the CnnError that names the problem and the fix
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-dataset: {error}") from None
    return spec


def ready(session) -> None:
    """Before the first ablation test: the dataset loads (the folders were checked at configure)."""
    from cnn.runtime import quiet_native_stderr as _quiet_native_stderr

    with _quiet_native_stderr():  # TensorFlow's native start-up log ignores TF_CPP_MIN_LOG_LEVEL
        import tensorflow  # noqa: F401
    try:
        session.dataset  # noqa: B018  (loads it once, for every test)
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-dataset: {error}") from None
    session.check_versions()


def writable(folder: Path, option: str) -> Path:
    """`folder` can be created and written to. Checked by doing it, then undone: a project that
    collects no ablation test is left without a results folder."""
    made = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise pytest.UsageError(
            f"{option} {folder} cannot be created or written to ({error.strerror}); pass a folder you can write to"
        ) from None
    finally:
        for parent in made:  # deepest first
            try:
                parent.rmdir()
            except OSError:
                break
    return folder


def engine(name: str, xdist_processes) -> str:
    """`--ablation-engine`: ray needs Ray installed, and runs the grid on the cluster, not under -n."""
    if name != "ray":
        return name
    try:
        import ray  # noqa: F401
    except ImportError:
        raise pytest.UsageError("--ablation-engine ray: Ray is not installed here; install it with "
                                "pip install -e '.[ray]' (on every node of the cluster too)") from None
    if xdist_processes:
        raise pytest.UsageError("--ablation-engine ray spreads the runs over the cluster itself; drop pytest-xdist's -n")
    return name


def ray_address(address: str | None, engine_name: str) -> str | None:
    if address is not None and engine_name != "ray":
        raise pytest.UsageError(f"--ablation-ray-address {address} is for the ray engine; add --ablation-engine ray")
    return address


def cpus_per_run(text: str | None, engine_name: str) -> int | None:
    """CPUs (and TensorFlow intra-op threads) per run: None keeps TensorFlow's default (every core)
    in the local engine; the ray engine's default is 1 (see plugin.DEFAULT_CPUS_PER_RUN)."""
    if text is None:
        from cnn.ablate.plugin import DEFAULT_CPUS_PER_RUN

        return DEFAULT_CPUS_PER_RUN if engine_name == "ray" else None
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--ablation-cpus-per-run {text!r} is not a positive whole number of CPUs; try 1")
    return int(text)


def engine_started(session, items) -> None:
    """The grid planned (and with the ray engine submitted): a cluster that cannot be reached is a usage error."""
    try:
        session.plan(items)
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-engine {session.options.engine}: {error}") from None
