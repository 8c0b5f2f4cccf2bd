"""The pytest plugin (entry point `pytest11`): options, hooks and fixtures, each a few lines that
hand over to the session (cnn.ablate.session). Installed with the package, so any project gets
`--ablation-*`, the `run_variant`/`judge_effects` fixtures, the tables, the guard and the report.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

# How a test hands its records to the session (user_properties travel from xdist workers too).
ROWS_PROPERTY = "ablation_rows"
HISTORY_PROPERTY = "ablation_history"
AXIS_PROPERTY = "ablation_axis"  # the axis' record (question, variant order, effects) for axes.json
PEAK_PROPERTY = "ablation_peak"
# CPUs per run on the ray engine. One: a run then sums in the same order on every node whatever its
# core count (TensorFlow's intra-op threads change float sums), so its numbers and cache key do not
# depend on where it ran; and a grid is many small independent runs, so a core per run keeps a
# cluster busy without leaning on how well one small-batch run scales over threads.
DEFAULT_CPUS_PER_RUN = 1


# --- options ---------------------------------------------------------------------------------


def pytest_addoption(parser):
    group = parser.getgroup("ablation", "CNN ablation suite (cnn.ablate)")
    add_grid_options(group)
    add_output_options(group)
    add_engine_options(group)


def add_grid_options(group):
    group.addoption("--ablation-profile", default="smoke", metavar="NAME",
                    help="grid size: smoke (CI, minutes), standard (3 seeds), full (full-size data) (default: smoke)")
    group.addoption("--ablation-dataset", default=None, metavar="SPEC",
                    help="dataset spec, see 'cnn datasets' (default: the profile's)")
    group.addoption("--ablation-seeds", default=None, metavar="N",
                    help="seeds per variant (default: the profile's)")
    group.addoption("--ablation-device", choices=("cpu", "gpu", "all"), default="cpu",
                    help="where to train; gpu variants skip when TensorFlow sees no GPU (default: cpu)")
    group.addoption("--ablation-retrain", action="store_true", help="train every variant even when cached")


def add_engine_options(group):
    group.addoption("--ablation-engine", choices=("local", "ray"), default="local",
                    help="where runs train: local (this process; -n splits it over cores) or ray (a Ray cluster, "
                         "every uncached run submitted at once; pip install -e '.[ray]') (default: local)")
    group.addoption("--ablation-ray-address", default=None, metavar="ADDR",
                    help="the Ray cluster: auto, HOST:PORT or ray://HOST:10001 (default: start a local Ray instance)")
    group.addoption("--ablation-cpus-per-run", default=None, metavar="N",
                    help=f"CPUs per run and TensorFlow threads inside it (default: {DEFAULT_CPUS_PER_RUN} on ray, "
                         "every core on local)")


def add_output_options(group):
    group.addoption("--ablation-results", default="results", metavar="DIR",
                    help="results folder: CSVs per profile, the run cache and baseline.json (default: results)")
    group.addoption("--ablation-update-baseline", action="store_true",
                    help="set the entries of the variants this run has in <results>/baseline.json")
    group.addoption("--ablation-tensorboard", default=None, metavar="DIR",
                    help="also write every run (variant, seed) to TensorBoard's HParams view in DIR (default: off)")


# --- configure: every option checked here, a bad one is a one-line usage error ---------------------


def pytest_configure(config):
    from cnn.ablate import checks
    from cnn.ablate.session import AblationSession, SuiteOptions

    profile = checks.profile(config.getoption("--ablation-profile"))
    results = checks.writable(_path(config, config.getoption("--ablation-results")), "--ablation-results")
    tensorboard = config.getoption("--ablation-tensorboard")
    device = config.getoption("--ablation-device")
    engine = checks.engine(config.getoption("--ablation-engine"), config.getoption("numprocesses", None))
    options = SuiteOptions(
        profile=profile,
        dataset=checks.dataset_spec(config.getoption("--ablation-dataset") or profile.dataset),
        seeds=checks.seeds(config.getoption("--ablation-seeds")) or profile.seeds,
        # --ablation-seeds sets every variant's count; the profile's extra seeds for effects go with it
        effect_seeds=0 if config.getoption("--ablation-seeds") else profile.effect_seeds,
        devices=("cpu", "gpu") if device == "all" else (device,),
        results_dir=results,
        baseline_path=results / "baseline.json",
        retrain=config.getoption("--ablation-retrain"),
        update_baseline=config.getoption("--ablation-update-baseline"),
        worker=getattr(config, "workerinput", {}).get("workerid", ""),
        benchmark_save=config.getoption("benchmark_save", None) or "",
        tensorboard_dir=checks.writable(_path(config, tensorboard), "--ablation-tensorboard") if tensorboard else None,
        engine=engine,
        ray_address=checks.ray_address(config.getoption("--ablation-ray-address"), engine),
        cpus_per_run=checks.cpus_per_run(config.getoption("--ablation-cpus-per-run"), engine),
    )
    if engine == "local" and (options.worker or options.cpus_per_run):  # each run trains on its share of the cores
        from cnn.runtime import cpu_share, set_threads

        set_threads(options.cpus_per_run or cpu_share(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
    config.ablation = AblationSession(options)
    if not options.worker:  # xdist workers are stopped by their controller
        from cnn import runtime as interrupt

        interrupt.install()
    config.pluginmanager.register(_ResultCollector(config.ablation), "ablation-collector")


def _path(config, text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else config.rootpath / path


class _ResultCollector:
    """Hands each finished test's rows to the session; under xdist these reports come from the workers."""

    def __init__(self, session):
        self.session = session

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.session.collect(report.user_properties)


def pytest_collection_finish(session):
    # Only where ablation tests were collected: the folders must be writable and the dataset must
    # load, once, so a bad file is one usage error, not a traceback in every test.
    if any("ablation" in getattr(item, "fixturenames", ()) for item in session.items):
        from cnn.ablate import checks

        checks.ready(session.config.ablation)
        # Every uncached run counted for the progress line, and with the ray engine submitted now.
        if not hasattr(session.config, "workerinput"):
            session.config.ablation.say = _terminal_writer(session.config)
            checks.engine_started(session.config.ablation, session.items)


def _terminal_writer(config):
    """A line to the terminal, also from inside a test (pytest captures its output)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return None

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):  # after -q's dots
                reporter.write("\n")
            reporter.write_line(line)

    return say


def pytest_generate_tests(metafunc):
    # One device: test ids stay `test_dropout[0.2]`; with several, the device is part of the id.
    devices = metafunc.config.ablation.options.devices
    if "device" in metafunc.fixturenames and devices != ("cpu",):
        metafunc.parametrize("device", devices)


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # under xdist the controller writes, not the workers
        session.config.ablation.finish()


def pytest_unconfigure(config):
    # After finish, also on Ctrl-C: finished runs are cached, the rest cancelled, Ray disconnected.
    if hasattr(config, "ablation"):
        config.ablation.close()


def pytest_terminal_summary(terminalreporter, config):
    session = config.ablation
    for warning in session.warnings:
        terminalreporter.write_line(f"ablation: {warning}", yellow=True)
    if session.table:
        terminalreporter.write_sep("=", f"ablation results ({session.options.profile.name}, {session.options.dataset})")
        terminalreporter.write_line(session.table)
        for path in session.written:
            terminalreporter.write_line(f"wrote {path}")
    for line in session.nodes_summary():
        terminalreporter.write_line(line)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def device():
    return "cpu"


@pytest.fixture
def ablation(request, device):
    """The session, for one device; skips GPU variants when TensorFlow sees no GPU."""
    if device == "gpu" and not request.config.ablation.has_gpu():
        pytest.skip("no GPU visible to TensorFlow (install the 'gpu' extra on a machine with an NVIDIA GPU)"
                    if request.config.ablation.options.engine == "local" else "no GPU in the Ray cluster")
    return request.config.ablation


@pytest.fixture
def run_variant(ablation, device, request):
    """Train (or find in the cache) one variant of an axis for every seed, record it, and fail on a
    regression. Timed by pytest-benchmark when it is installed and enabled."""
    try:  # pytest-benchmark registers itself as "benchmark": has_plugin("pytest_benchmark") never saw it
        benchmark = request.getfixturevalue("benchmark")
    except pytest.FixtureLookupError:  # not installed, or -p no:benchmark
        benchmark = None

    def run(axis, variant: str) -> list[dict]:
        rows, history = ablation.run(axis, variant, device, benchmark)
        request.node.user_properties.append((AXIS_PROPERTY, axis.record()))
        request.node.user_properties.append((ROWS_PROPERTY, rows))
        request.node.user_properties.append((HISTORY_PROPERTY, history))
        problems = ablation.failures(axis, variant, device, rows)
        assert not problems, "\n".join(problems)
        return rows

    return run


@pytest.fixture
def judge_effects(ablation, device):
    """Judge the axis' effects on its cached runs; fail where the seeds show the opposite."""

    def judge(axis) -> None:
        judged = ablation.effects(axis, device)
        if judged is None:
            pytest.skip(f"not every {axis.name} variant has run on {device} yet (deselected, or on another xdist worker)")
        contradicted = [j.text for j in judged if j.verdict == "contradicted"]
        assert not contradicted, "\n".join(contradicted)

    return judge
