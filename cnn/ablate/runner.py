"""One variant of an axis, every seed: found in this session's engine or the cache, or trained by
the engine, timed by pytest-benchmark (cnn.ablate.bench), its rows for the results tables, and the
guard's verdict on it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Callable

from cnn import runtime
from cnn.ablate.cache import RunCache, run_key
from cnn.ablate.choice import TUNING_SEED, choose
from cnn.ablate.engines import Engine, Job, RunFailed
from cnn.ablate.prefix import prefix_record
from cnn.results.guard import LEARNED_FACTOR, Baseline, variant_key
from cnn.results.judge import Judgement, judge_axis, stochastic_claims

if TYPE_CHECKING:
    from cnn.ablate.axis import Axis, Variant
    from cnn.ablate.bench import Bench
    from cnn.ablate.options import SuiteOptions
    from cnn.config import Config
    from cnn.data import Dataset


class Runner:
    def __init__(self, options: SuiteOptions, cache: RunCache, engine: Engine, dataset: Dataset,
                 versions: dict[str, str], baseline: Baseline):
        self.options, self.cache, self.engine = options, cache, engine
        self.dataset, self.versions, self.baseline = dataset, versions, baseline
        self._chosen: dict[tuple[str, str, str], tuple] = {}  # (axis, variant, device) -> Runner.chosen's answer

    def configs(self, axis: Axis, variant: Variant) -> dict[int, Config]:
        """The variant's config per seed at this profile, in the regime the axis declares for it
        (its epochs, seeds and recipe over the profile's; --ablation-seeds still wins)."""
        profile, options = self.options.profile, self.options
        regime = axis.regime(profile.name)
        if regime is None:
            return axis.configs(variant, profile.epochs, options.seeds, profile.recipe, options.effect_seeds)
        seeds = options.seeds if options.seeds_given or regime.seeds is None else regime.seeds
        effect_seeds = options.effect_seeds if options.seeds_given else max(options.effect_seeds,
                                                                             regime.effect_seeds or 0)
        return axis.configs(variant, regime.epochs or profile.epochs, seeds, {**profile.recipe, **regime.recipe},
                            effect_seeds)

    def key(self, axis: Axis, config: Config, device: str, snapshots: tuple[int, ...] = ()) -> str:
        return run_key(config, self.dataset.fingerprint, device, self.versions, self.engine.threads(),
                       axis.accuracy_checks, axis.evaluations, snapshots)

    def snapshots(self, axis: Axis, variant: Variant) -> tuple[int, ...]:
        """The epochs of the variants read from `variant`'s run (prefix_of it), at this profile."""
        epochs = {next(iter(self.configs(axis, other).values())).epochs for other in axis.prefixes(variant)}
        return tuple(sorted(epochs))

    def job(self, axis: Axis, variant_id: str, config: Config, device: str) -> Job:
        label = f"{axis.name}[{variant_id}] seed {config.seed} on {device}"
        snapshots = self.snapshots(axis, axis.variant(variant_id))
        return Job(self.key(axis, config, device, snapshots), config, device, axis.accuracy_checks, label,
                   axis.evaluations, axis=axis.name, variant=variant_id, snapshots=snapshots)

    def jobs(self, axis: Axis, variant: Variant, device: str) -> dict[int, Job] | None:
        """The runs a variant's rows come from, by seed: its own, or those of the variant it is the
        first epochs of (prefix_of); a choosing variant's at its chosen value, None while its
        tuning runs have not all run (Runner.chosen)."""
        trained = axis.variant(variant.prefix_of) if variant.prefix_of else variant
        configs = self.configs(axis, trained)
        if trained.choose:
            choice = self.chosen(axis, trained, device)
            if choice is None:
                return None
            [name] = trained.choose
            configs = {seed: dataclasses.replace(config, **{name: choice[0]}) for seed, config in configs.items()}
        return {seed: self.job(axis, trained.id, config, device) for seed, config in configs.items()}

    def tuning_jobs(self, axis: Axis, variant: Variant, device: str) -> dict:
        """A choosing variant's tuning runs, by candidate value: one each, on TUNING_SEED."""
        [(name, candidates)] = variant.choose.items()
        start = next(iter(self.configs(axis, variant).values()))
        return {value: self.job(axis, variant.id, dataclasses.replace(start, seed=TUNING_SEED, **{name: value}),
                                device) for value in candidates}

    def chosen(self, axis: Axis, variant: Variant, device: str, train: bool = False) -> tuple | None:
        """(value, how it was chosen) for a choosing variant: its tuning runs from this session's
        engine or the cache, or trained now where `train` (untimed: they are not the variant's
        runs); None where one is missing and not `train`. Raises RunFailed when all diverged."""
        if (axis.name, variant.id, device) in self._chosen:
            return self._chosen[axis.name, variant.id, device]
        records, missing = {}, {}
        for value, job in self.tuning_jobs(axis, variant, device).items():
            record = self.engine.outcome(job.key) or (None if self.options.retrain else self.cache.get(job.key))
            if record is None and not train:
                return None
            if record is None:
                missing[value] = job
                self.engine.submit(job)  # all of them at once where the engine trains elsewhere
            records[value] = record
        records.update({value: self.engine.result(job) for value, job in missing.items()})
        [(name, candidates)] = variant.choose.items()
        try:
            choice = choose(name, candidates, records)
        except ValueError as error:
            raise RunFailed(f"{axis.name}[{variant.id}] on {device}: {error}") from None
        self._chosen[axis.name, variant.id, device] = choice
        return choice

    def read(self, axis: Axis, variant: Variant, records: dict[int, dict]) -> dict[int, dict]:
        """`records` of the variant's runs as its rows read them: a prefix variant's from the longer run."""
        if variant.prefix_of is None:
            return records
        configs = self.configs(axis, variant)
        return {seed: prefix_record(record, configs[seed], variant.prefix_of) for seed, record in records.items()}

    def plan(self, items, has_gpu: Callable[[], bool]) -> dict[str, Job]:
        """The runs that the collected variant tests among `items` need and the cache lacks (all of
        them with --ablation-retrain), by key: a run two axes share is named by its first test."""
        from cnn.ablate.axis import AXES

        jobs = {}
        for item in items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            name = getattr(item, "originalname", "").removeprefix("test_")
            if "run_variant" not in getattr(item, "fixturenames", ()) or "variant" not in params or name not in AXES:
                continue
            axis, device = AXES.get(name), params.get("device", "cpu")
            if params["variant"] not in axis.ids or (device == "gpu" and not has_gpu()):  # those tests skip
                continue
            variant = axis.variant(params["variant"])
            needed = self.jobs(axis, variant, device)
            if needed is None:  # its tuning runs first; its own runs are known once they have chosen
                needed = self.tuning_jobs(axis, variant, device)
            for job in needed.values():
                if job.key not in jobs and (self.options.retrain or self.cache.get(job.key) is None):
                    jobs[job.key] = job
        return jobs

    def run(self, axis: Axis, variant_id: str, device: str, bench: Bench) -> tuple[list[dict], list[dict]]:
        """Rows (one per seed) and per-epoch history rows for a variant. A run this session's engine
        already finished is taken from it; a cached one is reused unless --ablation-retrain; the rest
        train: timed round by round where the engine trains here, else waited for, their times
        measured where they trained entering the benchmark as recorded times. Raises RunFailed."""
        variant = axis.variant(variant_id)
        choice = self.chosen(axis, variant, device, train=True) if variant.choose else None
        jobs = self.jobs(axis, variant, device)
        records: dict[int, dict] = {}
        recorded: list[int] = []  # seeds whose time was measured before or elsewhere
        for seed, job in jobs.items():
            found = self.engine.outcome(job.key)
            if found is not None:
                records[seed] = {**found, "cached": False}
                recorded.append(seed)
            elif not self.options.retrain and (cached := self.cache.get(job.key)) is not None:
                records[seed] = {**cached, "cached": True}
                recorded.append(seed)
        runtime.check_interrupt()  # a Ctrl-C swallowed during the last variant stops the grid here
        queue = [seed for seed in jobs if seed not in records]

        def train(seed: int) -> None:
            records[seed] = {**self.engine.result(jobs[seed]), "cached": False}
            runtime.check_interrupt()  # finished and cached: nothing is lost by stopping now

        if queue and self.engine.trains_here and variant.prefix_of is None:  # a prefix's time is its epochs' share
            from cnn.ablate.evaluations import prepare

            prepare(axis.evaluations, self.dataset)  # their fixed inputs (the photo benchmark) outside the timed rounds
            bench.time_rounds(queue, train)
        else:
            for seed in queue:  # a choosing variant's were not planned: on a cluster they train at once
                self.engine.submit(jobs[seed])
            for seed in queue:
                train(seed)
            recorded += queue
        missing = sorted(set(jobs) - set(records))
        if missing:  # every seed or none: a variant short of seeds would be judged on fewer, silently
            raise RuntimeError(f"{axis.name}[{variant_id}]: seeds {missing} were neither trained nor found")
        records = self.read(axis, variant, records)
        if variant.prefix_of is not None:
            bench.group(f"{axis.name} (read from the run of {variant.prefix_of}: its first epochs' times)")
        elif any(records[seed]["cached"] for seed in records):  # the table groups cached rows apart
            bench.group(f"{axis.name} ({'cached' if not queue else 'partly cached'}: times recorded when trained)")
        elif not self.engine.trains_here:
            bench.group(f"{axis.name} ({self.engine.name}: times measured where they trained)")
        bench.add_recorded([recorded_train_s(records[seed]) for seed in sorted(recorded)])
        trained = [seed for seed in sorted(records) if not records[seed]["cached"]]
        remote = trained if not self.engine.trains_here else []  # trained elsewhere: their times came back
        bench.info({"remote": bool(remote), "remote_seeds": remote,
                    "nodes": [records[s].get("node", "local") for s in sorted(records)],
                    "hosts": [records[s].get("host", "") for s in sorted(records)]})

        rows = [self.row(axis, variant.id, device, seed, records[seed]) for seed in sorted(records)]
        if choice is not None:  # what was chosen, and from what, on every row
            for row in rows:
                row.update(chosen=f"{next(iter(variant.choose))}={choice[0]}", choice=choice[1])
        history = [
            {"profile": self.options.profile.name, "axis": axis.name, "variant": variant.id, "device": device,
             "seed": seed, "epoch": epoch + 1, **{k: values[epoch] for k, values in records[seed]["history"].items()}}
            for seed in sorted(records)
            for epoch in range(len(records[seed]["history"].get("loss", [])))
        ]
        return rows, history

    def judge(self, axis: Axis, device: str, spreads: dict) -> list[Judgement] | None:
        """The axis' effects judged on its cached runs at this profile, as part of the family of
        every collected axis' claims on every device (Bonferroni over that many: it shows only what
        Holm over the folder's claims, the final verdicts, shows too); None when some variant has
        not run yet (deselected, or on another xdist worker)."""
        import pandas as pd

        from cnn.ablate.axis import AXES

        rows = []
        for variant in axis.variants:
            jobs = self.jobs(axis, variant, device)
            if jobs is None:
                return None
            records = {seed: self.cache.get(job.key) for seed, job in jobs.items()}
            if any(record is None for record in records.values()):
                return None
            rows += [{**record, "axis": axis.name, "variant": variant.id, "device": device, "seed": seed}
                     for seed, record in self.read(axis, variant, records).items()]
        family = sum(stochastic_claims(AXES.get(name).effects) for name in AXES) * len(self.options.devices)
        return judge_axis(axis.name, axis.effects, pd.DataFrame(rows), spreads, max(family, 1))

    def row(self, axis: Axis, variant_id: str, device: str, seed: int, record: dict) -> dict:
        """A runs.csv row: every scalar of the record (a metric an evaluation adds included), then
        what the record does not know (where it ran in this grid)."""
        row = {k: x for k, x in record.items() if not isinstance(x, (dict, list))}
        machine = record.get("machine") or {}  # where runs cached before the node columns trained
        row.update(
            profile=self.options.profile.name, axis=axis.name, variant=variant_id, device=device, seed=seed,
            epochs=record["config"]["epochs"], precision=record["config"].get("precision", ""),
            cached=record["cached"], parallel=record.get("parallel", ""),
            node=record.get("node", "local"), host=record.get("host", machine.get("node", "")),
            cpu_model=record.get("cpu_model", machine.get("processor", "")),
            threads=record.get("threads", machine.get("threads")), train_s=recorded_train_s(record),
            accuracy_clock=json.dumps(record["accuracy_clock"]) if record.get("accuracy_clock") else "",
        )
        if record.get("test_accuracy") is not None:  # the two-state outcome: left chance (k of n seeds)
            row["learned"] = float(record["test_accuracy"] >= LEARNED_FACTOR / self.dataset.num_classes)
        return row

    def failures(self, axis: Axis, variant_id: str, device: str, rows: list[dict]) -> list[str]:
        """Why this variant fails: an unexpected divergence, not learning, or a regression; each line
        says the verdict first, so pytest's short summary (cut at the terminal's width) still shows it."""
        variant = axis.variant(variant_id)
        key = variant_key(device, axis.name, variant_id)
        problems = [f"{key} seed {row['seed']}: loss turned NaN/inf at epoch {row['diverged_epoch']} "
                    "(unexpected divergence)" for row in rows if row["status"] == "diverged"]
        accuracies = [row["test_accuracy"] for row in rows if row["test_accuracy"] is not None]
        if problems or not accuracies:
            return problems or [f"{key}: no test accuracy was measured"]
        mean = sum(accuracies) / len(accuracies)
        chance = 1 / self.dataset.num_classes
        learned = LEARNED_FACTOR * chance
        profile, fingerprint = self.options.profile.name, self.dataset.fingerprint
        entry = self.baseline.entry(profile, fingerprint, key)
        # Where the baseline shows the variant still on a plateau at this profile's epochs (sigmoid
        # needs ~4 epochs to leave chance), that is the finding, not a failure.
        # A baseline-building run records what happens rather than judging it.
        judging = variant.learns and not self.options.update_baseline
        if judging and (entry is None or entry["mean"] >= learned) and mean < learned:
            problems.append(f"{key} did not learn: test accuracy {mean:.4f} is not well above chance ({chance:.2f})")
        if not variant.learns and mean >= 2 * chance:
            problems.append(f"{key} learned, though expected not to: test accuracy {mean:.4f}, chance {chance:.2f}")
        if judging:
            regression = self.baseline.check(profile, fingerprint, key, accuracies)
            if regression:
                problems.append(regression)
        return problems


def recorded_train_s(record: dict) -> float:
    """The training time a cached run recorded; entries older than `train_s` have only fit_s."""
    return float(record.get("train_s") or record["fit_s"])
