"""The ablation session behind `pytest ablations/`: one object on pytest's config that the plugin's
hooks delegate to. It plans the grid, hands runs to its engine (cnn.ablate.engines) through the
runner (one variant: cache or train, timed), caches what finishes, checks each variant against the
baseline, judges the effects, and at the end hands everything to the results writer
(cnn.results) and the report. It never asks which engine it has.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Callable

from cnn.ablate import evaluations  # noqa: F401  (their metrics, also in an xdist controller, which imports no axis)
from cnn.ablate.bench import Bench
from cnn.ablate.cache import RunCache
from cnn.ablate.engines import Engine, EngineContext, Job, Progress
from cnn.ablate.options import SuiteOptions, make_engine
from cnn.ablate.provenance import run_info, version_drift
from cnn.ablate.runner import Runner
from cnn.results.guard import Baseline
from cnn.results.judge import Judgement
from cnn.results.store import SessionOutput, benchmark_info, save_evaluation_arrays, write_results

if TYPE_CHECKING:  # Keras and TensorFlow load with the first axis, not with the plugin
    from cnn.ablate.axis import Axis
    from cnn.data import Dataset

# How a test hands its records to the session (user_properties travel from xdist workers too).
ROWS_PROPERTY = "ablation_rows"
HISTORY_PROPERTY = "ablation_history"
AXIS_PROPERTY = "ablation_axis"  # the axis' record (question, variant order, effects) for axes.json
PEAK_PROPERTY = "ablation_peak"
WARNINGS_PROPERTY = "ablation_warnings"  # an xdist worker's notices, said once by the controller


class AblationSession:
    say: Callable[[str], None] | None = None  # writes a line to the terminal now (the plugin sets it)
    live: Callable[[str], None] | None = None  # takes a progress line, shown between tests in -v (the plugin sets it)

    def __init__(self, options: SuiteOptions, engine: Engine | None = None):
        self.options = options
        self.started = time.monotonic()
        self.cache = RunCache(options.cache_location)
        self.baseline = Baseline.load(options.baseline_path)
        self.engine = engine if engine is not None else make_engine(options)
        self.progress = Progress(self.engine.name)
        self.rows: list[dict] = []  # one per run (variant, seed) and per-epoch rows, from every test
        self.histories: list[dict] = []
        self.axes: dict[str, dict] = {}  # axis name -> its record, in the order the tests ran
        self.peaks: dict[str, float] = {}
        # what finish() wrote; one-line warnings; the tables; the guard's line where the grid fell as a whole
        self.written, self.warnings, self.table, self.regressed = [], [], "", None
        self.judgements: list[Judgement] = []  # the effects of this session's axes, as finish() judged them
        self._engine_started = False

    @functools.cached_property
    def dataset(self) -> Dataset:
        from cnn.data import load_dataset

        return load_dataset(self.options.dataset)

    @functools.cached_property
    def versions(self) -> dict[str, str]:
        from cnn.train import library_versions

        return library_versions()

    @functools.cached_property
    def runner(self) -> Runner:
        return Runner(self.options, self.cache, self.started_engine(), self.dataset, self.versions, self.baseline)

    def started_engine(self) -> Engine:
        """The engine, started on first use. Raises CnnError where it cannot start."""
        if not self._engine_started:
            self.engine.start(EngineContext(self.dataset, self.versions, self._store, self._tick))
            self._engine_started = True
        return self.engine

    def ready(self) -> None:
        """Before the first ablation test: the dataset loads (raises CnnError); one-line warnings, now
        and in the summary, where the libraries differ from the baseline's or it has no entry here."""
        from cnn.runtime import start_tensorflow

        start_tensorflow()
        profile, fingerprint = self.options.profile.name, self.dataset.fingerprint  # loads it, once for every test
        recorded = (self.baseline.profiles.get(profile) or {}).get("versions")
        unguarded = None if self.options.update_baseline else self.baseline.unguarded(profile, fingerprint)
        for warning in filter(None, (version_drift(recorded, self.versions) if recorded else None, unguarded)):
            self.warnings.append(warning)
            if self.say is not None:
                self.say(f"ablation: {warning}")

    def plan(self, items) -> None:
        """Before the first test: count every selected run that is not cached (the progress line)
        and submit them all to the engine, so a cluster works on the whole grid while pytest walks
        it. Items that are not an axis' variant test are left to run when they run."""
        jobs = self.runner.plan(items, self.has_gpu)
        for job in jobs.values():
            self.progress.expect(job.key)
            self.engine.submit(job)
        self.progress.slots = self.engine.slots()
        if jobs and self.say:
            hint = "" if self.live else "; -v prints the progress and the time left"
            for line in ([] if self.engine.trains_here else self.engine.describe()):
                self.say(line)
            self.say(f"ablation ({self.engine.name}): {len(jobs)} run(s) to train{hint}")

    def has_gpu(self) -> bool:
        """Whether GPU variants can run: the engine has a GPU (here, or in its cluster)."""
        return self.started_engine().gpus() > 0

    # --- one variant -------------------------------------------------------------------------

    def run(
        self, axis: Axis, variant_id: str, device: str, bench: Bench | None = None
    ) -> tuple[list[dict], list[dict]]:
        """Rows (one per seed) and history rows of a variant (cnn.ablate.runner). Raises RunFailed."""
        bench = bench or Bench()
        rows, history = self.runner.run(axis, variant_id, device, bench)
        bench.info(benchmark_info(rows))
        return rows, history

    def failures(self, axis: Axis, variant_id: str, device: str, rows: list[dict]) -> list[str]:
        return self.runner.failures(axis, variant_id, device, rows)

    def effects(self, axis: Axis, device: str) -> list[Judgement] | None:
        """The axis' effects judged on its cached runs; None when some variant has not run yet."""
        return self.runner.judge(axis, device, self.spreads())

    def spreads(self) -> dict:
        """(device, axis, variant) -> {metric: std} from the baseline, for sides with one seed."""
        return self.baseline.spreads(self.options.profile.name, self.dataset.fingerprint)

    def _store(self, job: Job, record: dict) -> dict:
        """Cache one finished run (the driver alone writes the cache and the results folder); its
        evaluations' arrays are saved for seed 0 (the report draws those) and not cached (JSON)."""
        arrays = record.pop("evaluation_arrays", None) or {}
        if job.config.seed == 0:
            for name, named in arrays.items():
                save_evaluation_arrays(self.options.output_dir, name, job.axis, job.variant, named,
                                       seed=job.config.seed, device=job.device, run_key=job.key)
        record = {**record, "run_key": job.key, "parallel": self.engine.parallel_tag()}
        self.cache.put(job.key, record)
        self.progress.finish(job.key)
        return record

    def _tick(self) -> None:
        """Hand on the progress line when one is due."""
        if self.live is not None and self.progress.due():
            self.progress.slots = self.engine.slots()  # nodes may join or leave
            self.live(self.progress.line())

    # --- session end -------------------------------------------------------------------------

    def collect(self, user_properties) -> None:
        """Take the rows a finished test attached to its report (in this process or an xdist worker)."""
        for name, value in user_properties:
            if name == ROWS_PROPERTY:
                self.rows.extend(value)
            elif name == HISTORY_PROPERTY:
                self.histories.extend(value)
            elif name == PEAK_PROPERTY:
                self.peaks[value["dtype"]] = value["gflops"]
            elif name == AXIS_PROPERTY:
                self.axes.setdefault(value["name"], value)
            elif name == WARNINGS_PROPERTY:
                for warning in [w for w in value if w not in self.warnings]:
                    self.warnings.append(warning)
                    if self.say is not None:
                        self.say(f"ablation: {warning}")

    def finish(self) -> None:
        """Hand this session's runs to the results writer (the CSVs, axes, effects, run.json), then
        TensorBoard, the baseline when asked, and report.md with its plots."""
        if not self.rows:
            return
        options, dataset = self.options, self.dataset
        info = run_info(options, dataset, self.versions, self.started, len(self.rows))
        written = write_results(options.output_dir, SessionOutput(
            profile=options.profile.name, rows=self.rows, histories=self.histories, axes=list(self.axes.values()),
            run_info=info, benchmark_name=options.benchmark_save, peaks=self.peaks,
            target_accuracy=options.profile.target_accuracy, spreads=self.spreads()))
        self.written, self.table = list(written.paths), written.table
        self.judgements = [judgement for judgement in written.judgements if judgement.axis in self.axes]
        this_session = written.runs[written.runs["run_key"].isin({row["run_key"] for row in self.rows})]
        if options.tensorboard_dir is not None:
            from cnn.report.tensorboard import write_hparams

            configs = {key: (self.cache.get(key) or {}).get("config", {}) for key in this_session["run_key"]}
            write_hparams(options.tensorboard_dir, this_session, configs)
            self.written.append(options.tensorboard_dir)
        if options.update_baseline:  # only what this session ran: older rows in runs.csv may be of other code
            self.baseline.update_from_runs(options.profile.name, dataset.name, dataset.fingerprint, this_session,
                                           self.versions)
            self.written.append(self.baseline.path)
        else:  # the broad drop no one variant's bound sees
            self.regressed = self.baseline.grid_check(options.profile.name, dataset.fingerprint, this_session)
        from cnn.report import write_report  # matplotlib loads only where a report is written

        self.written.append(write_report(options.output_dir))

    def close(self) -> None:
        """End of the session, also after Ctrl-C: the engine keeps finished runs, cancels the rest."""
        if self._engine_started:
            self.engine.close()

