"""pytest options and hooks for the ablation suite. The hooks stay thin: the work is in cnn.suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn.cli import _quiet_native_stderr  # noqa: E402

with _quiet_native_stderr():  # TensorFlow's native start-up log ignores TF_CPP_MIN_LOG_LEVEL
    import tensorflow  # noqa: E402,F401


def _profile(name: str):
    from cnn.errors import CnnError
    from cnn.grid import PROFILES

    try:
        return PROFILES.get(name)
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-profile: {error}") from None


def _dataset_spec(spec: str) -> str:
    """Checked without loading (that waits for a collected ablation test): a known name, or an
    npz: path that exists. The message is the library's own."""
    from cnn.data import DATASETS, load_dataset
    from cnn.errors import CnnError

    path = spec[len("npz:"):] if spec.startswith("npz:") else None
    try:
        if (path is None and spec not in DATASETS) or (path is not None and not Path(path).is_file()):
            load_dataset(spec)  # raises the CnnError that names the problem and the fix
    except CnnError as error:
        raise pytest.UsageError(f"--ablation-dataset: {error}") from None
    return spec


def _seeds(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--ablation-seeds {text!r} is not a positive whole number of seeds; try 3")
    return int(text)


def pytest_addoption(parser):
    group = parser.getgroup("ablation", "CNN ablation suite")
    group.addoption("--ablation-profile", default="smoke", metavar="NAME",
                    help="grid size: smoke (CI, minutes), standard (3 seeds), full (full-size data) (default: smoke)")
    group.addoption("--ablation-dataset", default=None, metavar="SPEC",
                    help="dataset spec, see 'cnn datasets' (default: the profile's)")
    group.addoption("--ablation-seeds", default=None, metavar="N",
                    help="seeds per variant (default: the profile's)")
    group.addoption("--ablation-device", choices=("cpu", "gpu", "all"), default="cpu",
                    help="where to train; gpu variants skip when TensorFlow sees no GPU (default: cpu)")
    group.addoption("--ablation-results", default="results", metavar="DIR",
                    help="results folder: CSVs per profile and the run cache (default: results)")
    group.addoption("--ablation-retrain", action="store_true", help="train every variant even when cached")
    group.addoption("--ablation-update-baseline", action="store_true",
                    help="set the entries of the variants this run has in results/baseline.json")


def pytest_configure(config):
    from cnn.suite import AblationSession, SuiteOptions

    # Checked here, not by an argparse type=, so that a bad value is one line (a UsageError).
    profile = _profile(config.getoption("--ablation-profile"))
    results = Path(config.getoption("--ablation-results"))
    if not results.is_absolute():
        results = config.rootpath / results
    _check_writable(results)
    device = config.getoption("--ablation-device")
    options = SuiteOptions(
        profile=profile,
        dataset=_dataset_spec(config.getoption("--ablation-dataset") or profile.dataset),
        seeds=_seeds(config.getoption("--ablation-seeds")) or profile.seeds,
        devices=("cpu", "gpu") if device == "all" else (device,),
        results_dir=results,
        baseline_path=config.rootpath / "results" / "baseline.json",
        retrain=config.getoption("--ablation-retrain"),
        update_baseline=config.getoption("--ablation-update-baseline"),
        worker=getattr(config, "workerinput", {}).get("workerid", ""),
        benchmark_save=config.getoption("benchmark_save", None) or "",
    )
    if options.worker:  # pytest-xdist: each worker trains with its share of the cores
        from cnn.threads import cpu_share, set_threads

        set_threads(cpu_share(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
    config.ablation = AblationSession(options)
    if not options.worker:  # xdist workers are stopped by their controller
        from cnn import interrupt

        interrupt.install()
    config.pluginmanager.register(_ResultCollector(config.ablation), "ablation-collector")


class _ResultCollector:
    """Hands each finished test's rows to the session; under xdist these reports come from the workers."""

    def __init__(self, session):
        self.session = session

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.session.collect(report.user_properties)


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise pytest.UsageError(
            f"--ablation-results {folder} cannot be created or written to ({error.strerror}); "
            "pass a folder you can write to"
        ) from None


def pytest_generate_tests(metafunc):
    # One device: test ids stay `test_dropout[0.2]`; with several, the device is part of the id.
    devices = metafunc.config.ablation.options.devices
    if "device" in metafunc.fixturenames and devices != ("cpu",):
        metafunc.parametrize("device", devices)


@pytest.fixture
def device():
    return "cpu"


@pytest.fixture
def ablation(request, device):
    """The session, for one device; skips GPU variants when TensorFlow sees no GPU."""
    if device == "gpu":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            pytest.skip("no GPU visible to TensorFlow (install the 'gpu' extra on a machine with an NVIDIA GPU)")
    return request.config.ablation


def pytest_collection_finish(session):
    # The dataset loads once, before the first test, so a file that exists but cannot be read is
    # one usage error rather than a traceback in every test.
    if any("ablation" in getattr(item, "fixturenames", ()) for item in session.items):
        from cnn.errors import CnnError

        try:
            session.config.ablation.dataset
        except CnnError as error:
            raise pytest.UsageError(f"--ablation-dataset: {error}") from None


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # under xdist the controller writes, not the workers
        session.config.ablation.finish()


def pytest_terminal_summary(terminalreporter, config):
    session = config.ablation
    if session.table:
        terminalreporter.write_sep("=", f"ablation results ({session.options.profile.name}, {session.options.dataset})")
        terminalreporter.write_line(session.table)
        for path in session.written:
            terminalreporter.write_line(f"wrote {path}")
