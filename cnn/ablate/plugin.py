"""The pytest plugin (entry point `pytest11`): options, hooks and fixtures, each a few lines that
hand over to the session (cnn.ablate.session). Installed with the package, so any project gets
`--ablation-*`, the `run_variant`/`judge_effects`/`record_peak` fixtures, the tables, the guard
and the report. Nothing here starts TensorFlow: a project without axes pays nothing for it.
"""

from __future__ import annotations

import contextlib

import pytest

from cnn.ablate.bench import Bench
from cnn.ablate.engines import RunFailed, where_trained
from cnn.ablate.options import add_options, make_engine, read_options
from cnn.ablate.session import (
    AXIS_PROPERTY,
    HISTORY_PROPERTY,
    PEAK_PROPERTY,
    ROWS_PROPERTY,
    WARNINGS_PROPERTY,
    AblationSession,
)
from cnn.errors import CnnError


def pytest_addoption(parser):
    add_options(parser)


def pytest_configure(config):
    # Every option checked here: a bad one is a one-line usage error before any output.
    options = read_options(config)
    config.ablation = AblationSession(options, make_engine(options, config.getoption("numprocesses", None)))
    if not options.worker:  # xdist workers are stopped by their controller
        from cnn.runtime import install_interrupt

        install_interrupt()
    config.pluginmanager.register(_ResultCollector(config.ablation), "ablation-collector")


class _ResultCollector:
    """Hands each finished test's rows to the session; under xdist these reports come from the workers."""

    def __init__(self, session):
        self.session = session

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.session.collect(report.user_properties)


def pytest_sessionstart(session):
    # Under xdist the controller collects nothing, so its terminal is attached here: it says the
    # notices the workers send with their first results.
    if session.config.pluginmanager.has_plugin("dsession") and not hasattr(session.config, "workerinput"):
        session.config.ablation.say, session.config.ablation.live = _Terminal.attach(session.config)


def pytest_collection_finish(session):
    # Only where ablation tests were collected: the dataset must load, once, so a bad file is one
    # usage error, not a traceback in every test; then every uncached run is planned (and submitted).
    if any("ablation" in getattr(item, "fixturenames", ()) for item in session.items):
        ablation = session.config.ablation
        if not hasattr(session.config, "workerinput") and ablation.say is None:
            ablation.say, ablation.live = _Terminal.attach(session.config)
        try:
            ablation.ready()
        except CnnError as error:
            raise pytest.UsageError(f"--ablation-dataset: {error}") from None
        if not hasattr(session.config, "workerinput"):
            try:
                ablation.plan(session.items)
            except CnnError as error:  # a cluster that cannot be reached
                raise pytest.UsageError(f"--ablation-engine {ablation.engine.name}: {error}") from None


class _Terminal:
    """The session's lines on pytest's terminal, never inside the row of dots: a line said now goes
    on a line of its own; a progress line waits for the end of a test and is shown only with -v
    (one test a line), as the row of dots (-q and the default) already counts the tests done."""

    def __init__(self, reporter, capture):
        self.reporter, self.capture, self.pending = reporter, capture, ""

    @classmethod
    def attach(cls, config):
        """(say, live) for the session; (None, None) without a terminal reporter."""
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return None, None
        terminal = cls(reporter, config.pluginmanager.get_plugin("capturemanager"))
        config.pluginmanager.register(terminal, "ablation-terminal")
        return terminal.say, (terminal.keep if config.get_verbosity() > 0 else None)

    def say(self, line: str) -> None:
        with self.capture.global_and_fixture_disabled() if self.capture is not None else contextlib.nullcontext():
            self.reporter.ensure_newline()
            self.reporter.write_line(line)

    def keep(self, line: str) -> None:
        self.pending = line

    def pytest_runtest_logfinish(self):
        if self.pending:
            self.say(self.pending)
            self.pending = ""


def pytest_generate_tests(metafunc):
    # One device: test ids stay `test_dropout[0.2]`; with several, the device is part of the id.
    devices = metafunc.config.ablation.options.devices
    if "device" in metafunc.fixturenames and devices != ("cpu",):
        metafunc.parametrize("device", devices)


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # under xdist the controller writes, not the workers
        session.config.ablation.finish()
        if session.config.ablation.regressed:  # the grid fell as a whole: no one test failed, the run does
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    # After finish, also on Ctrl-C: finished runs are cached, the rest cancelled, the engine disconnected.
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
    if session.judgements:
        terminalreporter.write_sep("-", "ablation effects")
    for judgement in session.judgements:  # one line each, as effects.csv and report.md word them
        terminalreporter.write_line(f"{judgement.axis}: {judgement.text}", green=judgement.verdict == "shown",
                                    red=judgement.verdict == "contradicted")
    for line in where_trained(session.engine.name, session.rows):
        terminalreporter.write_line(line)
    if session.regressed:
        terminalreporter.write_line(f"ablation guard: {session.regressed}", red=True)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def device():
    return "cpu"


@pytest.fixture
def ablation(request, device):
    """The session, for one device; skips GPU variants where the engine has no GPU."""
    if device == "gpu" and not request.config.ablation.has_gpu():
        pytest.skip(f"no GPU for the {request.config.ablation.engine.name} engine (install the 'gpu' extra on a "
                    "machine with an NVIDIA GPU)")
    return request.config.ablation


@pytest.fixture
def run_variant(ablation, device, request):
    """Train (or find in the cache) one variant of an axis for every seed, record it, and fail on a
    regression (one line each, no traceback). Timed by pytest-benchmark when it is installed and enabled."""
    bench = Bench.from_request(request)

    def run(axis, variant: str) -> list[dict]:
        failure = None
        try:
            rows, history = ablation.run(axis, variant, device, bench)
        except RunFailed as error:  # one line naming the run, the node and why
            failure = str(error)
        if failure is not None:  # outside `except`: no chained traceback
            pytest.fail(failure, pytrace=False)
        request.node.user_properties.append((AXIS_PROPERTY, axis.record()))
        request.node.user_properties.append((ROWS_PROPERTY, rows))
        request.node.user_properties.append((HISTORY_PROPERTY, history))
        if ablation.options.worker:  # the controller says a worker's notices (no baseline, other versions)
            request.node.user_properties.append((WARNINGS_PROPERTY, list(ablation.warnings)))
        problems = ablation.failures(axis, variant, device, rows)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
        return rows

    return run


@pytest.fixture
def judge_effects(ablation, device):
    """Judge the axis' effects on its cached runs; fail where the seeds show the opposite."""

    def judge(axis) -> None:
        judged = ablation.effects(axis, device)
        if judged is None:
            pytest.skip(
                f"not every {axis.name} variant has run on {device} yet (deselected, or on another xdist worker)"
            )
        contradicted = [j.text for j in judged if j.verdict == "contradicted"]
        if contradicted:
            pytest.fail("\n".join(contradicted), pytrace=False)

    return judge


@pytest.fixture
def record_peak(request):
    """`record_peak(dtype, gflops)`: a measured matmul peak, for the speed figures of this run."""

    def record(dtype: str, gflops: float) -> None:
        request.node.user_properties.append((PEAK_PROPERTY, {"dtype": dtype, "gflops": gflops}))

    return record
