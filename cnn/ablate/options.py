"""The suite's `--ablation-*` options: registered in one group, and read into one frozen
SuiteOptions at configure time, where a bad value is pytest's one-line usage error (exit 4),
never a traceback from inside a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fsspec.core import split_protocol, url_to_fs
from fsspec.implementations.local import LocalFileSystem

from cnn.ablate.engines import ENGINES, EngineSettings
from cnn.ablate.profiles import PROFILES, Profile
from cnn.errors import CnnError


@dataclass(frozen=True)
class SuiteOptions:
    profile: Profile
    dataset: str
    seeds: int
    devices: tuple[str, ...]
    results_dir: Path
    baseline_path: Path
    retrain: bool = False
    update_baseline: bool = False
    worker: str = ""  # the pytest-xdist worker id; runs timed in parallel are marked with it
    benchmark_save: str = ""  # --benchmark-save's name, recorded beside each run's training time
    tensorboard_dir: Path | None = None  # --ablation-tensorboard: every run in TensorBoard's HParams view
    engine: str = "local"  # --ablation-engine: a name in cnn.ablate.engines.ENGINES
    engine_settings: EngineSettings = EngineSettings()
    effect_seeds: int = 0  # seeds for the variants an effect compares, where more than `seeds` (Profile.effect_seeds)
    seeds_given: bool = False  # --ablation-seeds was given: it wins over an axis' regime too
    cache: Path | str | None = None  # --ablation-cache: a folder or an fsspec URL (None: results_dir / "cache")

    @property
    def cache_location(self) -> Path | str:
        """Where the run records are (cnn.ablate.cache.RunCache's location)."""
        return self.cache if self.cache is not None else self.results_dir / "cache"

    @property
    def output_dir(self) -> Path:
        suffix = "" if self.dataset == self.profile.dataset else f"-{self.dataset.replace(':', '_').replace('/', '_')}"
        return self.results_dir / f"{self.profile.name}{suffix}"


def add_options(parser) -> None:
    group = parser.getgroup("ablation", "CNN ablation suite (cnn.ablate)")
    group.addoption("--ablation-profile", default="smoke", metavar="NAME",
                    help="grid size: smoke (CI, minutes), standard (3 seeds), full (full-size data) (default: smoke)")
    group.addoption("--ablation-dataset", default=None, metavar="SPEC",
                    help="dataset spec, see 'cnn datasets' (default: the profile's)")
    group.addoption("--ablation-seeds", default=None, metavar="N",
                    help="seeds per variant (default: the profile's)")
    group.addoption("--ablation-device", choices=("cpu", "gpu", "all"), default="cpu",
                    help="where to train; gpu variants skip when TensorFlow sees no GPU (default: cpu)")
    group.addoption("--ablation-retrain", action="store_true", help="train every variant even when cached")
    group.addoption("--ablation-results", default="results", metavar="DIR",
                    help="results folder: CSVs per profile, the run cache unless --ablation-cache (default: results)")
    group.addoption("--ablation-cache", default=None, metavar="URL_OR_DIR",
                    help="where the run records are kept, so a study resumes elsewhere: a folder or an fsspec URL; "
                         "s3://bucket/prefix and gs://bucket/prefix need their backend (pip install s3fs, gcsfs) "
                         "(default: cache in --ablation-results' folder, results/cache)")
    group.addoption("--ablation-baseline", default=None, metavar="PATH",
                    help="the project's expected accuracies, read wherever the results go "
                         "(default: results/baseline.json under pytest's rootdir)")
    group.addoption("--ablation-update-baseline", action="store_true",
                    help="set the entries of the variants this run has in the baseline file (--ablation-baseline)")
    group.addoption("--ablation-tensorboard", default=None, metavar="DIR",
                    help="also write every run (variant, seed) to TensorBoard's HParams view in DIR (default: off)")
    group.addoption("--ablation-engine", default="local", metavar="NAME",
                    help="where runs train: local (this process; -n splits it over cores), ray (a Ray cluster, "
                         "every uncached run submitted at once; pip install -e '.[ray]'), or an engine a conftest "
                         "registers (cnn.ablate.register_engine) (default: local)")
    group.addoption("--ablation-engine-address", "--ablation-ray-address", dest="ablation_engine_address",
                    default=None, metavar="ADDR",
                    help="the engine's cluster, for ray: auto, HOST:PORT or ray://HOST:10001 "
                         "(default: start a local instance)")
    group.addoption("--ablation-cpus-per-run", default=None, metavar="N",
                    help="CPUs per run and TensorFlow threads inside it (default: 1 on ray, every core on local)")


def read_options(config) -> SuiteOptions:
    """SuiteOptions from pytest's config. Raises pytest.UsageError (one line) for a bad value."""
    profile = _profile(config.getoption("--ablation-profile"))
    results = writable(_path(config, config.getoption("--ablation-results")), "--ablation-results")
    tensorboard = config.getoption("--ablation-tensorboard")
    device = config.getoption("--ablation-device")
    dataset = _dataset_spec(config.getoption("--ablation-dataset") or profile.dataset)
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    settings = EngineSettings(config.getoption("ablation_engine_address"),
                              _count(config, "--ablation-cpus-per-run", "CPUs", 1), dataset, worker)
    return SuiteOptions(
        profile=profile,
        dataset=dataset,
        seeds=_count(config, "--ablation-seeds", "seeds", 3) or profile.seeds,
        # --ablation-seeds sets every variant's count; the profile's extra seeds for effects go with it
        effect_seeds=0 if config.getoption("--ablation-seeds") else profile.effect_seeds,
        seeds_given=config.getoption("--ablation-seeds") is not None,
        devices=("cpu", "gpu") if device == "all" else (device,),
        results_dir=results,
        baseline_path=_baseline_path(config),
        retrain=config.getoption("--ablation-retrain"),
        update_baseline=config.getoption("--ablation-update-baseline"),
        worker=worker,
        benchmark_save=config.getoption("benchmark_save", None) or "",
        tensorboard_dir=writable(_path(config, tensorboard), "--ablation-tensorboard") if tensorboard else None,
        engine=config.getoption("--ablation-engine"),
        engine_settings=settings,
        cache=_cache(config),
    )


def make_engine(options: SuiteOptions, xdist_processes: int | None = None):
    """The engine the options name, built (not started). Raises pytest.UsageError (one line) where
    it cannot be, or where an option does not fit it."""
    settings = options.engine_settings
    try:
        engine = ENGINES.get(options.engine)(settings)
    except CnnError as error:
        prefix = f"--ablation-engine {options.engine}" if options.engine in ENGINES else "--ablation-engine"
        raise pytest.UsageError(f"{prefix}: {error}") from None
    if settings.address is not None and not engine.takes_address:
        raise pytest.UsageError(f"--ablation-engine-address {settings.address} is for an engine with a cluster "
                                f"(ray), not {options.engine}; add --ablation-engine ray")
    if xdist_processes and not engine.allows_xdist:
        raise pytest.UsageError(f"--ablation-engine {options.engine} spreads the runs over the cluster itself; "
                                "drop pytest-xdist's -n")
    return engine


def _baseline_path(config) -> Path:
    """The project's baseline, not the output folder's: `--ablation-results /tmp/r` is still guarded
    by the committed results/baseline.json (rootdir's), or by the file --ablation-baseline names."""
    given = config.getoption("--ablation-baseline")
    if given is None:
        return config.rootpath / "results" / "baseline.json"
    path = _path(config, given)
    if path.is_dir():
        raise pytest.UsageError(
            f"--ablation-baseline {given} is a folder; give the baseline file, e.g. {path / 'baseline.json'}")
    writable(path.parent, "--ablation-baseline")
    return path


def _profile(name: str) -> Profile:
    try:
        return PROFILES.get(name)
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-profile: {error}") from None


def _count(config, option: str, unit: str, example: int) -> int | None:
    """The positive whole number given to `option` (None when not given: the default applies)."""
    text = config.getoption(option)
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"{option} {text!r} is not a positive whole number of {unit}; try {example}")
    return int(text)


def _dataset_spec(spec: str) -> str:
    """Checked without loading (that waits for a collected ablation test): a known name, or an
    npz: path that exists. The message is the library's own."""
    from cnn.data import DATASETS, load_dataset

    path = spec[len("npz:"):] if spec.startswith("npz:") else None
    try:
        if (path is None and spec not in DATASETS) or (path is not None and not Path(path).is_file()):
            load_dataset(spec)  # raises the CnnError that names the problem and the fix
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-dataset: {error}") from None
    return spec


def _cache(config) -> Path | str | None:
    """--ablation-cache's location: a folder is created and written to as the results' is (a
    relative one under pytest's rootdir); a URL's protocol must be one fsspec knows, with its backend
    installed. A remote store is not written to here (that waits for the first run to finish)."""
    given = config.getoption("--ablation-cache")
    if given is None:
        return None
    if split_protocol(given)[0] is None:
        return writable(_path(config, given), "--ablation-cache")
    try:
        fs, root = url_to_fs(given)
    except ValueError as error:  # "Protocol not known: x"
        raise pytest.UsageError(f"--ablation-cache {given}: {error}; give a folder or a URL such as "
                                "file:///path, s3://bucket/prefix (pip install s3fs) or gs://bucket/prefix "
                                "(pip install gcsfs)") from None
    except ImportError as error:  # fsspec's own fix, e.g. "Install s3fs to access S3"
        raise pytest.UsageError(f"--ablation-cache {given}: {' '.join(str(error).split())} "
                                f"(the fsspec backend for {split_protocol(given)[0]}://)") from None
    if isinstance(fs, LocalFileSystem):
        writable(Path(root), "--ablation-cache")
    return given


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


def _path(config, text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else config.rootpath / path
