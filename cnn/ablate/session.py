"""The ablation session behind `pytest ablations/`: trains each variant for each seed (or finds it
in the cache), times it with pytest-benchmark, checks it against the baseline, judges the axis'
effects, and at the end writes the results tables. The plugin's hooks (cnn.ablate.plugin) delegate here.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from typing import TYPE_CHECKING, Callable

from cnn import interrupt
from cnn.ablate.cache import RunCache, run_key
from cnn.ablate.engines import memory_mb  # noqa: F401  (re-exported: where it was)
from cnn.ablate.plugin import AXIS_PROPERTY, HISTORY_PROPERTY, PEAK_PROPERTY, ROWS_PROPERTY
from cnn.ablate.profiles import Profile
from cnn.data import Dataset, load_dataset
from cnn.results import guard, schema
from cnn.results.guard import Baseline, variant_key
from cnn.results.judge import Judgement, judge_axis
from cnn.results.store import SessionOutput, benchmark_info, write_results

if TYPE_CHECKING:  # Keras and TensorFlow load with the first axis, not with the plugin
    from cnn.ablate.axis import Axis
    from cnn.config import Config


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
    engine: str = "local"  # --ablation-engine: local (this process) or ray (cnn.ablate.engines)
    ray_address: str | None = None  # --ablation-ray-address; None starts a local Ray instance
    cpus_per_run: int | None = None  # CPUs and TensorFlow threads per run; None: TensorFlow's default (local only)
    effect_seeds: int = 0  # seeds for the variants an effect compares, where more than `seeds` (Profile.effect_seeds)

    @property
    def output_dir(self) -> Path:
        suffix = "" if self.dataset == self.profile.dataset else f"-{self.dataset.replace(':', '_').replace('/', '_')}"
        return self.results_dir / f"{self.profile.name}{suffix}"


class AblationSession:
    say: Callable[[str], None] | None = None  # writes a line to the terminal (the plugin sets it): progress

    def __init__(self, options: SuiteOptions):
        self.options = options
        self.started = time.monotonic()
        self.cache = RunCache(options.results_dir / "cache")
        self.baseline = Baseline.load(options.baseline_path)
        self.rows: list[dict] = []
        self.histories: list[dict] = []
        self.axes: dict[str, dict] = {}  # axis name -> its record, in the order the tests ran
        self.peaks: dict[str, float] = {}
        self.written: list[Path] = []
        self.warnings: list[str] = []  # one line each, printed before the tables
        self.table = ""

    # --- running one variant ------------------------------------------------------------------

    @functools.cached_property
    def dataset(self) -> Dataset:
        return load_dataset(self.options.dataset)

    @functools.cached_property
    def versions(self) -> dict[str, str]:
        from cnn.train import library_versions

        return library_versions()

    def configs(self, axis: Axis, variant: Variant) -> dict[int, Config]:
        options = self.options
        return axis.configs(variant, options.profile.epochs, options.seeds, options.profile.recipe, options.effect_seeds)

    def key(self, config: Config, device: str, accuracy_checks: int = 0, evaluations: tuple[str, ...] = ()) -> str:
        import tensorflow as tf

        # A Ray worker trains on as many threads as its task has CPUs; here, on this process' setting.
        threads = self.options.cpus_per_run if self.options.engine == "ray" else tf.config.threading.get_intra_op_parallelism_threads()
        return run_key(config, self.dataset.fingerprint, device, self.versions, threads, accuracy_checks, evaluations)

    def run(self, axis: Axis, variant_id: str, device: str, benchmark=None) -> tuple[list[dict], list[dict]]:
        """Rows (one per seed) and per-epoch history rows for a variant: cached runs are reused unless
        --ablation-retrain; the rest are trained inside `benchmark.pedantic`, one round per seed, or
        with the ray engine waited for: their times, measured on the workers, enter the benchmark as
        recorded times, marked remote (the driver's waiting is never timed)."""
        variant = axis.variant(variant_id)
        configs = self.configs(axis, variant)
        keys = {seed: self.key(config, device, axis.accuracy_checks, axis.evaluations) for seed, config in configs.items()}
        records: dict[int, dict] = {}
        # Runs submitted to the cluster this session come from it, not from the cache their arrival filled.
        submitted = self.engine.submitted if self.__dict__.get("engine") is not None else set()
        if not self.options.retrain:
            for seed, key in keys.items():
                record = self.cache.get(key) if key not in submitted else None
                if record is not None:
                    records[seed] = {**record, "cached": True}
        interrupt.check()  # a Ctrl-C swallowed during the last variant stops the grid here
        cached = sorted(records)
        queue = [seed for seed in configs if seed not in records]
        remote = sorted(queue) if self.options.engine == "ray" else []

        def train_seed(seed: int) -> None:
            records[seed] = self._train(axis, configs[seed], keys[seed], device, variant.id)

        if benchmark is not None and cached:  # the table groups cached rows apart, so no one mistakes them for this run's
            benchmark.group = f"{axis.name} ({'cached' if not queue else 'partly cached'}: times recorded when trained)"
        if benchmark is not None and remote:
            benchmark.group = f"{axis.name} (ray: times measured on the workers{', partly cached' if cached else ''})"
        if queue and not remote:  # the evaluations' fixed inputs (the photo benchmark) outside the timed rounds
            from cnn.ablate.evaluations import prepare

            prepare(axis.evaluations, self.dataset)
        if queue and benchmark is not None and not remote:
            rounds = len(queue)
            # One round per missing seed, so the saved timing is real training, never a cache hit.
            benchmark.pedantic(train_seed, setup=lambda: ((queue.pop(0),), {}), rounds=rounds, iterations=1)
        for seed in list(queue):  # without a benchmark, or when it is disabled (it then runs one round)
            queue.remove(seed)
            train_seed(seed)
        if benchmark is not None:
            add_recorded_times(benchmark, [recorded_train_s(records[seed]) for seed in sorted(cached + remote)])

        rows = [self._row(axis, variant, device, seed, records[seed]) for seed in sorted(records)]
        history = [
            {"profile": self.options.profile.name, "axis": axis.name, "variant": variant.id, "device": device,
             "seed": seed, "epoch": epoch + 1, **{k: values[epoch] for k, values in records[seed]["history"].items()}}
            for seed in sorted(records)
            for epoch in range(len(records[seed]["history"].get("loss", [])))
        ]
        if benchmark is not None:
            benchmark.extra_info.update(benchmark_info(rows))
            if self.options.engine == "ray":
                benchmark.extra_info.update(remote=bool(remote), remote_seeds=remote,
                                            nodes=[row["node"] for row in rows], hosts=[row["host"] for row in rows])
        return rows, history

    def _train(self, axis: Axis, config: Config, key: str, device: str, variant_id: str = "") -> dict:
        """One run's record, trained now: in this process, or on the cluster (waiting for it)."""
        job = self._job(axis, variant_id, config, key, device)
        if self.engine is not None:
            from cnn.ablate.engines.ray import RunFailed

            failure = None
            try:
                record = self.engine.result(job, self._store, self._tick)
            except RunFailed as error:
                failure = str(error)
            if failure is not None:  # one line naming the run, the node and why (outside `except`: no chained traceback)
                import pytest

                pytest.fail(failure, pytrace=False)
        else:
            from cnn.ablate.engines.local import train_job

            record = self._store(job, train_job(job, self.dataset))
            self._tick()
        arrays = record.get("evaluation_arrays") or {}
        if config.seed == 0:  # the report draws seed 0's, as the model saw them
            from cnn.ablate.evaluations import save

            for name, named in arrays.items():
                save(self.options.output_dir, name, axis.name, variant_id, named, seed=config.seed, device=device, run_key=key)
        interrupt.check()  # finished and cached: nothing is lost by stopping now
        return {**{k: x for k, x in record.items() if k != "evaluation_arrays"}, "cached": False}

    def _job(self, axis: Axis, variant_id: str, config: Config, key: str, device: str):
        from cnn.ablate.engines import Job

        label = f"{axis.name}[{variant_id}] seed {config.seed} on {device}" if variant_id else f"{axis.name} seed {config.seed} on {device}"
        return Job(key, config, device, axis.accuracy_checks, False, label, axis.evaluations)  # mistakes: the errors evaluation

    def _store(self, job, record: dict) -> dict:
        """Cache one finished run (the driver alone writes the cache); the record as the session keeps it."""
        arrays = record.pop("evaluation_arrays", None)  # not for the cache (JSON): `_train` saves them, knowing the variant
        record = {**record, "run_key": job.key, "parallel": "ray" if self.options.engine == "ray" else self.options.worker}
        self.cache.put(job.key, record)
        self.progress.finish(job.key)
        return {**record, "evaluation_arrays": arrays} if arrays else record

    def _row(self, axis: Axis, variant: Variant, device: str, seed: int, record: dict) -> dict:
        row = {k: record.get(k) for k in schema.run_columns(()) if k in record}  # the known columns and every metric
        machine = record.get("machine") or {}  # where runs cached before the node columns trained
        row.update(
            profile=self.options.profile.name, axis=axis.name, variant=variant.id, device=device, seed=seed,
            epochs=record["config"]["epochs"], cached=record["cached"], parallel=record.get("parallel", ""),
            node=record.get("node", "local"), host=record.get("host", machine.get("node", "")),
            cpu_model=record.get("cpu_model", machine.get("processor", "")), threads=record.get("threads", machine.get("threads")),
            train_s=recorded_train_s(record), precision=record["config"].get("precision", "float32"),
            accuracy_clock=json.dumps(record["accuracy_clock"]) if record.get("accuracy_clock") else "",
        )
        return row

    # --- engines: where runs train (cnn.ablate.engines) ------------------------------------------

    @functools.cached_property
    def engine(self):
        """The Ray engine, connected on first use; None with the local engine (runs train here).
        Raises CnnError when Ray cannot start or its address does not answer."""
        if self.options.engine != "ray":
            return None
        from cnn.ablate.engines.ray import RayEngine

        engine = RayEngine(self.options.ray_address, self.options.cpus_per_run, self.options.dataset)
        engine.start(self.dataset, self.versions)
        return engine

    @functools.cached_property
    def progress(self):
        from cnn.ablate.engines import Progress

        return Progress(self.options.engine)

    def plan(self, items) -> None:
        """Before the first test: count every selected run that is not cached (the progress line)
        and, with the ray engine, submit them all, so the cluster works on the whole grid while
        pytest walks it. Items that are not an axis' variant test are left to run when they run."""
        from cnn.ablate.axis import AXES

        jobs = {}
        for item in items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            name = getattr(item, "originalname", "").removeprefix("test_")
            if "run_variant" not in getattr(item, "fixturenames", ()) or "variant" not in params or name not in AXES:
                continue
            axis, device = AXES.get(name), params.get("device", "cpu")
            if params["variant"] not in axis.ids:
                continue
            variant = axis.variant(params["variant"])
            for config in self.configs(axis, variant).values():
                key = self.key(config, device, axis.accuracy_checks, axis.evaluations)
                if key not in jobs and (self.options.retrain or self.cache.get(key) is None):
                    jobs[key] = self._job(axis, variant.id, config, key, device)  # a shared run: named by its first test
        if any(job.device == "gpu" for job in jobs.values()) and not self.has_gpu():  # those tests skip
            jobs = {key: job for key, job in jobs.items() if job.device != "gpu"}
        if not jobs:
            return
        for key in jobs:
            self.progress.expect(key)
        if self.engine is not None:
            for job in jobs.values():
                self.engine.submit(job)
            self.progress.slots = self.engine.slots()
            if self.say:
                self.say(f"ablation (ray): {len(jobs)} runs submitted to {self.engine.nodes()} node(s), "
                         f"{self.progress.slots} at a time ({self.options.cpus_per_run} CPU each)")

    def _tick(self) -> None:
        """Print the progress line when one is due."""
        if self.say is not None and self.progress.due():
            if self.engine is not None:
                self.progress.slots = self.engine.slots()  # nodes may join or leave
            self.say(self.progress.line())

    def has_gpu(self) -> bool:
        """Whether GPU variants can run: a GPU visible to TensorFlow here, or one in the Ray cluster."""
        if self.engine is not None:
            return self.engine.gpus() > 0
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))

    def nodes_summary(self) -> list[str]:
        """Which node trained what in this session (the ray engine), for the terminal summary."""
        trained = {row["run_key"]: row for row in self.rows if not row["cached"] and row.get("node", "local") != "local"}
        if not trained:
            return []
        counts: dict[tuple[str, str], int] = {}
        for row in trained.values():  # by run: two axes may share one
            counts[(row["node"], row["host"])] = counts.get((row["node"], row["host"]), 0) + 1
        return [f"ablation (ray): {len(trained)} runs trained on {len(counts)} node(s)"] + [
            f"  node {node[:12]} ({host}): {count} run(s)" for (node, host), count in sorted(counts.items())]

    def close(self) -> None:
        """End of the session, also after Ctrl-C: with the ray engine, keep every finished run in
        the cache, cancel the runs not yet back, and disconnect."""
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.close(self._store)

    # --- checks ------------------------------------------------------------------------------

    def check_versions(self) -> None:
        """Warn (one line) when this run's libraries differ from those the baseline was measured with."""
        from cnn.versions import version_drift

        recorded = (self.baseline.profiles.get(self.options.profile.name) or {}).get("versions")
        drift = version_drift(recorded, self.versions) if recorded else None
        if drift:
            self.warnings.append(drift)

    def failures(self, axis: Axis, variant_id: str, device: str, rows: list[dict]) -> list[str]:
        """Why this variant fails: an unexpected divergence, not learning, or a regression."""
        variant = axis.variant(variant_id)
        key = variant_key(device, axis.name, variant_id)
        problems = []
        for row in rows:
            if row["status"] == "diverged":
                problems.append(f"{key} seed {row['seed']}: loss turned NaN/inf at epoch {row['diverged_epoch']} (unexpected divergence)")
        accuracies = [row["test_accuracy"] for row in rows if row["test_accuracy"] is not None]
        if problems or not accuracies:
            return problems or [f"{key}: no test accuracy was measured"]
        mean = sum(accuracies) / len(accuracies)
        chance = 1 / self.dataset.num_classes
        learned = guard.LEARNED_FACTOR * chance
        entry = self.baseline.entry(self.options.profile.name, self.dataset.fingerprint, key)
        # Where the baseline shows the variant still on a plateau at this profile's epochs (sigmoid
        # needs ~4 epochs to leave chance), that is the finding, not a failure.
        # A baseline-building run records what happens rather than judging it.
        expected_to_learn = variant.learns and not self.options.update_baseline and (entry is None or entry["mean"] >= learned)
        if expected_to_learn and mean < learned:
            problems.append(f"{key}: test accuracy {mean:.4f} is not well above chance ({chance:.2f}); it did not learn")
        if not variant.learns and mean >= 2 * chance:
            problems.append(f"{key}: expected not to learn (test accuracy near chance {chance:.2f}) but reached {mean:.4f}")
        if variant.learns and not self.options.update_baseline:
            regression = self.baseline.check(self.options.profile.name, self.dataset.fingerprint, key, accuracies)
            if regression:
                problems.append(regression)
        return problems

    def effects(self, axis: Axis, device: str) -> list[Judgement] | None:
        """The axis' effects judged on its cached runs at this profile; None when some variant has
        not run yet (deselected, or on another xdist worker)."""
        rows = []
        for variant in axis.variants:
            for seed, config in self.configs(axis, variant).items():
                record = self.cache.get(self.key(config, device, axis.accuracy_checks, axis.evaluations))
                if record is None:
                    return None
                rows.append({**record, "axis": axis.name, "variant": variant.id, "device": device, "seed": seed})
        return judge_axis(axis.name, axis.effects, pd.DataFrame(rows), self.spreads())

    def spreads(self) -> dict:
        """(device, axis, variant) -> {metric: std} from the baseline, for sides with one seed."""
        return self.baseline.spreads(self.options.profile.name, self.dataset.fingerprint)

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

    def finish(self) -> None:
        """Write the results folder (cnn.results.store: runs, summary, histories, benchmarks, axes,
        metrics, effects, run.json, speed.csv), the TensorBoard runs and the baseline when asked,
        and report.md with its plots."""
        if not self.rows:
            return
        from cnn.train import machine_info

        folder = self.options.output_dir
        info = {
            "profile": self.options.profile.name, "dataset": self.dataset.name,
            "dataset_fingerprint": self.dataset.fingerprint, "seeds": self.options.seeds,
            "effect_seeds": max(self.options.effect_seeds, self.options.seeds), "epochs": self.options.profile.epochs,
            "recipe": self.options.profile.recipe, "target_accuracy": self.options.profile.target_accuracy,
            # From the session's start (pytest's configure) to these files: the run's wall time.
            "wall_s": round(time.monotonic() - self.started, 1),
            "devices": list(self.options.devices), "versions": self.versions,
            "machine": machine_info(), "commit": _git_commit(), "rows_this_session": len(self.rows),
        }
        written = write_results(folder, SessionOutput(
            profile=self.options.profile.name, rows=self.rows, histories=self.histories, axes=list(self.axes.values()),
            run_info=info, benchmark_name=self.options.benchmark_save, peaks=self.peaks,
            target_accuracy=self.options.profile.target_accuracy, spreads=self.spreads()))
        self.written, self.table = list(written.paths), written.table
        runs = written.runs
        this_session = runs[runs["run_key"].isin({row["run_key"] for row in self.rows})]
        if self.options.tensorboard_dir is not None:
            from cnn.report.tensorboard import write_hparams

            configs = {key: (self.cache.get(key) or {}).get("config", {}) for key in this_session["run_key"]}
            write_hparams(self.options.tensorboard_dir, this_session, configs)
            self.written.append(self.options.tensorboard_dir)
        if self.options.update_baseline:  # only what this session ran: older rows in runs.csv may be of other code
            self.baseline.update_from_runs(self.options.profile.name, self.dataset.name, self.dataset.fingerprint,
                                           this_session, self.versions)
            self.written.append(self.baseline.path)
        from cnn.report import write_report

        self.written.append(write_report(folder))


def recorded_train_s(record: dict) -> float:
    """The training time a cached run recorded; entries older than `train_s` have only fit_s."""
    return float(record.get("train_s") or record["fit_s"])


def add_recorded_times(benchmark, seconds: list[float]) -> None:
    """Cached seeds enter pytest-benchmark's stats with the training time recorded when they were
    trained, so `--benchmark-save` saves a whole run even on a warm cache. pytest-benchmark has no
    public call to add a measured duration; `_make_stats` is what its own pedantic mode uses."""
    if not seconds or not benchmark.enabled:
        return
    if benchmark.stats is None:  # every seed came from the cache: nothing was timed in this session
        benchmark._mode = "recorded training times"
        benchmark._make_stats(1)
    for value in seconds:
        benchmark.stats.update(value)


def _git_commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
