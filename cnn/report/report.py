"""`cnn report`: a results folder (runs.csv, summary.csv, histories.csv, run.json, base_errors.csv,
benchmarks.csv, or saved pytest-benchmark runs where it has none) written up as report.md, with its
plots in plots/ next to it. Everything a section needs is in the folder, so a fresh clone writes the
committed report again.

Every number in the report is read from the CSVs and printed at a fixed precision (4 decimals for
accuracies, losses and gaps; 2 for seconds), so a committed report matches its committed CSVs.
Each axis' question, variant order, effects and report sections come from the folder's axes.json
(what the run recorded of its axes), never from the code of the axes. Effects are judged from
runs.csv by the one judge (cnn.results.judge, as the suite's effects tests and effects.csv), so
any results folder can be reported, not only the one pytest just wrote. The folder is read through
cnn.results (its file names, metrics and reader); nothing here imports the suite (cnn.ablate).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cnn.errors import CnnError
from cnn.files import read_json, write_atomic
from cnn.registry import Registry
from cnn.report import plots
from cnn.report.sections import SECTION_NAMES, section_metrics
from cnn.results import schema
from cnn.results.format import fmt_spread, label
from cnn.results.guard import LEARNED_FACTOR, Baseline
from cnn.results.judge import RULE, judge_axes
from cnn.results.metrics import known_metrics
from cnn.results.planner import plan_markdown
from cnn.results.speed import target_text, yardstick_text
from cnn.results.store import ResultsFolder, read_table  # noqa: F401  (read_table: where it was)

REPORT = schema.REPORT_MD
PLOTS = schema.PLOTS
DEFAULT_RESULTS = Path("results")
DEFAULT_BENCHMARKS = Path(".benchmarks")  # where pytest-benchmark saves runs, from the repository root
BENCHMARKS_CSV = schema.BENCHMARKS_CSV
NO_ERRORS = ("no axis in this folder runs the errors evaluation, so there is no grid of a model's mistakes; "
             "add evaluations=(\"errors\",) to one")


@dataclass
class Results:
    """One results folder, read into pandas (through `store`, cnn.results' reader). `errors` is None
    when the folder has no errors evaluation (nor an older base_errors.csv); `errors_of` names the
    model they are of."""

    folder: Path
    runs: pd.DataFrame
    summary: pd.DataFrame
    histories: pd.DataFrame
    info: dict
    errors: pd.DataFrame | None
    axis_records: list[dict]  # axes.json: name, question, variants (order, changes, learns), effects, sections
    chance: float | None = None  # 1 / classes, once the dataset is known
    errors_of: str = "the base model"
    store: ResultsFolder | None = None

    @property
    def profile(self) -> str:
        return self.info.get("profile") or _first(self.runs, "profile") or self.folder.name

    @property
    def dataset(self) -> str:
        return self.info.get("dataset") or _first(self.runs, "dataset") or "unknown"

    def axes(self) -> list[str]:
        """The axes with results: the recorded ones in their order, then any without a record."""
        present = list(dict.fromkeys(self.summary["axis"]))
        recorded = [a["name"] for a in self.axis_records]
        return [a for a in recorded if a in present] + [a for a in present if a not in recorded]

    def record(self, axis: str) -> dict:
        """The axis' record, or an empty one where axes.json does not know it."""
        return next((a for a in self.axis_records if a["name"] == axis), {"name": axis, "variants": [], "effects": []})

    @property
    def order(self) -> dict[tuple[str, str], int]:
        """(axis, variant) -> its place in the recorded grid."""
        pairs = [(a["name"], v["id"]) for a in self.axis_records for v in a["variants"]]
        return {pair: i for i, pair in enumerate(pairs)}


def load_results(folder: str | Path) -> Results:
    """Read a results folder. Raises CnnError when runs.csv is missing, unreadable or not a runs table.

    summary.csv is used as written (so the report prints the very numbers it holds) and computed
    from runs.csv only where it is missing."""
    store = ResultsFolder(folder)
    runs = store.runs()
    errors, errors_of = _errors(store)
    results = Results(folder=store.path, runs=runs, summary=store.summary(runs), histories=store.histories(runs),
                      info=store.info(), errors=errors, axis_records=store.axes(), errors_of=errors_of, store=store)
    results.runs = grid_order(results.runs, results.order)
    results.summary = grid_order(results.summary, results.order)
    return results


def _errors(store: ResultsFolder) -> tuple[pd.DataFrame | None, str]:
    """The test images a model gets wrong, for the grid of mistakes: the errors evaluation of the
    first variant in the grid that ran it, else an older folder's base_errors.csv."""
    found = store.first_evaluation_arrays("errors")
    if found is not None:
        axis, variant, arrays = found
        columns = ("test_index", "true", "predicted", "confidence")
        return pd.DataFrame({c: arrays[c] for c in columns if c in arrays}), f"{axis}[{variant}] (seed 0)"
    return store.base_errors(), "the base model"


def grid_order(frame: pd.DataFrame, order: dict[tuple[str, str], int] | None = None) -> pd.DataFrame:
    """Rows in the recorded grid's axis and variant order (then device, seed, epoch); rows it does
    not know (a renamed variant) go last, in their own order; without `order`, as they come."""
    if frame.empty:
        return frame
    order = order or {}
    rank = [order.get((a, v), len(order)) for a, v in zip(frame["axis"], frame["variant"])]
    keys = [c for c in ("device", "seed", "epoch") if c in frame.columns]
    return (
        frame.assign(_rank=rank)
        .sort_values(["_rank", *keys], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def default_results(root: Path = DEFAULT_RESULTS) -> list[Path]:
    """Every results/<profile>/ holding a runs.csv. Raises CnnError when there is none."""
    found = sorted(path.parent for path in root.glob("*/runs.csv"))
    if not found:
        raise CnnError(
            f"no {root}/<profile>/runs.csv found; run the ablation suite (pytest ablations/) or name a results folder"
        )
    return found


def writable_folder(folder: Path) -> Path:
    """`folder`, created when missing. Raises CnnError when it cannot be written to."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CnnError(f"cannot write to {folder} ({error.strerror}); pass --out a folder you can write to") from None
    if not os.access(folder, os.W_OK):
        raise CnnError(f"cannot write to {folder} (permission denied); pass --out a folder you can write to")
    return folder


# --- numbers as text ---------------------------------------------------------------------------


def fmt(metric: str, value: float, std: float | None = None) -> str:
    """A metric as declared (cnn.results.format), with '± std' when the spread is known."""
    return fmt_spread(metric, value, std)


def _name(metric: str) -> str:
    return metric.replace("_per_", "/").replace("_", " ")


# --- effects -----------------------------------------------------------------------------------


def judge_effects(results: Results, spreads: dict | None = None) -> list[dict]:
    """Every recorded axis' effects, per device, by the one judge (cnn.results.judge) as one family
    (the folder's claims, Holm): dicts with axis, device, verdict, family and line (the judge's
    sentence, its verdict in bold)."""
    judged = []
    for judgement in judge_axes(results.axis_records, results.runs, spreads):
        text = judgement.text
        judged.append({"axis": judgement.axis, "device": judgement.device, "verdict": judgement.verdict,
                       "family": judgement.family, "line": f"**{judgement.verdict}**{text[len(judgement.verdict):]}",
                       "judgement": judgement})
    return judged


def baseline_spreads(results: Results, path: Path | None = None) -> dict:
    """Per (device, axis, variant), the seed spread of each metric the baseline recorded for this
    profile on the same data; {} when there is none. The baseline is the run's (run.json names it,
    relative to the folder), else baseline.json beside the profile folders."""
    recorded = results.info.get("baseline")
    beside = results.folder / recorded if recorded else results.folder.parent / schema.BASELINE_JSON
    baseline = Baseline.load(path or beside)
    return baseline.spreads(results.profile, results.info.get("dataset_fingerprint"))


# --- the report --------------------------------------------------------------------------------


def write_report(folder: str | Path, out: str | Path | None = None, benchmarks: Path | None = DEFAULT_BENCHMARKS,
                 progress: Callable[[str], None] | None = None) -> Path:
    """Write report.md and its PNGs for a results folder into `out` (default: the folder itself).
    The timings section comes from the folder's benchmarks.csv, or where it has none from the
    newest matching saved pytest-benchmark run under `benchmarks` (when that folder exists).
    `progress`, when given, gets one short line per part as it is done (the CLI prints them; the
    pytest session passes none). Returns the report's path; raises CnnError on an unreadable
    folder or `out`."""
    started = time.perf_counter()
    step = _Steps(progress)
    results = load_results(folder)
    out = writable_folder(Path(out) if out is not None else results.folder)
    if progress is not None:
        progress(f"report on {results.folder} ({len(results.runs)} runs) into {out / REPORT}")
        versions = trained_by(results.runs)
        if len(versions) > 1:  # said on the terminal too, not only in the report
            progress(f"warning: the rows come from {len(versions)} versions of the training code "
                     f"({', '.join(f'{s} ({c})' for s, c, _, _ in versions)}); report.md says which rows")
    dataset, dataset_note = step(f"dataset {results.dataset}", lambda: _dataset(results))
    chance = results.chance = 1 / dataset.num_classes if dataset is not None else None
    effects = judge_effects(results, baseline_spreads(results))
    family = max((e["family"] for e in effects), default=0)
    sections = [_header(results, dataset_note, family), _found(effects)]
    for axis in results.axes():
        sections.append(step(axis, lambda axis=axis: _axis_section(results, axis, effects, out, chance)))
        for name in results.record(axis).get("sections", []):  # the axis' own sections, e.g. speed's
            if name in SECTIONS:
                sections.append(
                    step(f"{axis}: {name}", lambda name=name, axis=axis: SECTIONS.get(name)(results, axis, out))
                )
    sections += [step("accuracy against cost", lambda: _overview(results, out, chance)),
                 step("the data", lambda: _digits(results, dataset, out)),
                 step("seed planner", lambda: "## Seeds: what each claim can see, and what it needs\n\n"
                      + plan_markdown([e["judgement"] for e in effects])),
                 step("benchmark timings", lambda: benchmark_section(results, benchmarks))]
    path = write_atomic(out / REPORT, "\n\n".join(s for s in sections if s).rstrip() + "\n")
    if progress is not None:
        progress(f"report: {time.perf_counter() - started:.1f} s in all")
    return path


class _Steps:
    """Runs one part of the report; with a `progress` callback, says what it made and how long it took."""

    def __init__(self, progress: Callable[[str], None] | None):
        self.progress = progress

    def __call__(self, name: str, make: Callable):
        started = time.perf_counter()
        made = make()
        if self.progress is not None:
            self.progress(f"  {name}: {_made(made)}, {time.perf_counter() - started:.1f} s")
        return made


def _made(made) -> str:
    if not isinstance(made, str):
        return "loaded"
    if not made:
        return "nothing to report"  # e.g. no speed.csv, no saved timings
    count = made.count("![")
    return f"{count} plot{'s' if count != 1 else ''}" if count else "text only"


def _dataset(results: Results):
    """The results' dataset, for chance level and the digit grids, and a note when it is not there."""
    from cnn.data import load_dataset

    try:
        return load_dataset(results.dataset), ""
    except CnnError as error:
        return None, f"> The dataset could not be loaded here ({error}): no chance level and no digit grids."


def _family_text(family: int) -> str:
    """The report's statement of the family and the rule its verdicts follow."""
    return (f"The family: the {family} stochastic claims this folder records (every axis' effects, per device), "
            f"judged together. The rule: {RULE}. A side with one seed takes its seed spread (and that spread's df) "
            "from results/baseline.json where that has one; otherwise the claim is not judged. 'Undetermined' gives "
            "the change this run could show with 80% power and the seeds a side its smallest change that matters "
            "would need.")


def _header(results: Results, dataset_note: str, family: int = 0) -> str:
    info = results.info
    seeds = info.get("seeds") or int(results.summary["n"].max())
    versions = ", ".join(f"{k} {v}" for k, v in sorted((info.get("versions") or {}).items())) or "not recorded"
    machine = _machine_text(info.get("machine") or {})
    devices = ", ".join(dict.fromkeys(results.runs["device"]))
    parallel = int(results.runs["parallel"].notna().sum()) if "parallel" in results.runs else 0
    contended = int(results.runs["contended"].astype(str).eq("True").sum()) if "contended" in results.runs else 0
    timing = (f"\n\n> {parallel} of the {len(results.runs)} runs were timed while another trained beside them "
              "(pytest-xdist): their epoch times are not comparable with runs timed alone." if parallel else "")
    if contended:
        timing += (f"\n\n> {contended} of the {len(results.runs)} runs were timed while other work shared the cores "
                   "(`contended` in runs.csv: other processes used over a quarter of a core on average); no time "
                   "claim rests on them.")
    return (
        f"# Ablation report: {results.profile} profile on {results.dataset}\n\n"
        + (f"- the profile: {info['description']}\n" if info.get("description") else "")
        + f"- {_recipe_text(info, results.axis_records)}\n"
        f"{_regimes_text(results.profile, results.axis_records)}"
        f"- seeds per variant: {_seeds_text(info, seeds)}; devices: {devices}; {len(results.runs)} runs in runs.csv\n"
        f"{_wall_text(info)}"
        f"- machine: {machine}\n{_cpus_text(results.runs)}"
        f"- versions: {versions}\n- commit: {info.get('commit') or 'not recorded'}\n"
        f"{_trained_by_text(results.runs)}\n"
        "Means ± sample std over seeds, from runs.csv and summary.csv in this folder. "
        + _family_text(family)
        + timing
        + (f"\n\n{dataset_note}" if dataset_note else "")
    )


def _machine_text(machine: dict) -> str:
    """run.json's machine in words; threads "0" is TensorFlow's default, one per core."""
    def words(key, value) -> str:
        if key == "threads" and str(value) == "0":
            cores = f"all {machine['cpus']} cores" if machine.get("cpus") else "all cores"
            return f"threads: TensorFlow's default ({cores})"
        return f"{key} {value}"

    return ", ".join(words(k, v) for k, v in sorted(machine.items())) or "not recorded"


def _cpus_text(runs: pd.DataFrame) -> str:
    """Which CPU model trained which rows (runs.csv `cpu_model`): a time is a figure of its CPU, and a
    study resumed on another machine mixes them (time claims then rest on one model: cnn.results.judge)."""
    if "cpu_model" not in runs or runs["cpu_model"].isna().all():
        return "- CPU: not recorded in runs.csv\n"
    groups = list(runs.fillna({"cpu_model": "not recorded"}).groupby("cpu_model", sort=False))
    if len(groups) == 1:
        return f"- CPU: {groups[0][0]} (every row)\n"
    parts = [f"{cpu}: {len(group)} rows of {', '.join(dict.fromkeys(group['axis']))}" for cpu, group in groups]
    return f"- CPUs: {'; '.join(parts)} (a time claim compares times of one CPU)\n"


def _recipe_text(info: dict, axis_records: list[dict] = ()) -> str:
    """The base every axis starts from at this profile: its model (named from axes.json where it is not
    the notebook's seed CNN), its epochs and the recipe laid on it."""
    epochs = f"{info['epochs']} epochs" if info.get("epochs") else "the profile's epochs"
    recipe = info.get("recipe") or {}
    bases = dict.fromkeys((r.get("model") or "cnn", r.get("base") or "seed-cnn") for r in axis_records)
    if all(base == "seed-cnn" for _, base in bases):  # a folder written before axes.json named its bases too
        model = "the notebook's seed CNN"
    else:
        model = ", ".join(f"the {name} model ({base})" for name, base in bases)
    if not recipe:
        if model.startswith("the notebook"):
            return f"base: {model} and recipe, {epochs} (an axis may set its own, e.g. speed)"
        return f"base: {model} and its config, {epochs} (an axis may set its own)"
    fields = ", ".join(f"{k}={v}" for k, v in recipe.items())
    return (f"base: {model} on this profile's recipe ({fields}), {epochs}; every axis but speed "
            "(which compares recipes) starts from it, and a variant's own changes win over it")


def trained_by(runs: pd.DataFrame) -> list[tuple[str, str, list[str], int]]:
    """(source, commits, axes, rows) per version of the training code among `runs` (runs.csv's
    `source` and `commit`, which a run records where it trained); [] for rows that do not say."""
    if "source" not in runs or runs["source"].isna().all():
        return []
    known = runs.dropna(subset=["source"])
    commits = known["commit"].fillna("") if "commit" in known else pd.Series("", index=known.index)
    return [(str(source), ", ".join(sorted({c for c in commits[group.index] if c})) or "unknown",
             list(dict.fromkeys(group["axis"])), len(group))
            for source, group in known.groupby("source", sort=False)]


def _trained_by_text(runs: pd.DataFrame) -> str:
    """Which commit trained the rows; a loud note where they come from more than one version of the
    training code (the cache key holds the code, so a row of other code is another measurement)."""
    versions = trained_by(runs)
    untold = int(runs["source"].isna().sum()) if "source" in runs else len(runs)
    if not versions:
        return "- trained by: not recorded in runs.csv (rows from before runs recorded their code)\n"
    lines = [f"- trained by: training code {source} (commit {commits}): {rows} rows"
             + (f" of {', '.join(axes)}" if len(versions) > 1 else "") for source, commits, axes, rows in versions]
    if untold:
        lines.append(f"- {untold} rows do not record the code that trained them")
    text = "".join(line + "\n" for line in lines)
    if len(versions) > 1 or untold:
        text += ("\n> These rows come from more than one version of the training code: a verdict that compares "
                 "rows of two versions compares the code as well as the variants. Retrain the older rows "
                 "(`--ablation-retrain -k AXIS`) for one version.\n")
    return text


def _regimes_text(profile: str, axis_records: list[dict]) -> str:
    """One line per axis that trains in its own regime at this profile (axes.json: Axis.regimes),
    and one per axis with variants on a step budget; '' where there is none."""
    lines = []
    for record in axis_records:
        regime = (record.get("regimes") or {}).get(profile)
        if regime:
            parts = [f"{regime['epochs']} epochs" if regime.get("epochs") else "",
                     (f"{regime['seeds']} seed" + ("s" if regime['seeds'] != 1 else "")) if regime.get("seeds") else "",
                     f"{regime['effect_seeds']} for the variants its claims compare" if regime.get("effect_seeds")
                     else "",
                     ", ".join(f"{k}={v}" for k, v in (regime.get("recipe") or {}).items())]
            why = f": {regime['why']}" if regime.get("why") else ""
            lines.append(f"- regime of the {record['name']} axis: {', '.join(p for p in parts if p)}{why}")
        stepped = [v["id"] for v in record.get("variants", []) if v.get("budget") == "steps"]
        if stepped:
            lines.append(f"- {record['name']}: {', '.join(stepped)} train as many optimizer steps as the whole "
                         "training set (epochs x 1 / train_fraction)")
    return "".join(line + "\n" for line in lines)


def _seeds_text(info: dict, seeds: int) -> str:
    extra = int(info.get("effect_seeds") or 0)
    if extra <= seeds:
        return str(seeds)
    return (f"{seeds}, and {extra} for each variant an effect compares: fixed before the run, so each verdict is one "
            "look at its data (no seeds added where a verdict came out undecided)")


def _wall_text(info: dict) -> str:
    wall = info.get("wall_s")
    if wall is None:
        return ""
    rows = info.get("rows_this_session")
    return (
        f"- wall time of the run that wrote this folder: {wall / 60:.1f} min "
        f"({rows} runs trained or read from the cache)\n"
    )


def _found(effects: list[dict]) -> str:
    shown = [e for e in effects if e["verdict"] == "shown"]
    several_devices = len({e["device"] for e in effects}) > 1
    lines = [
        f"- {e['axis']}{' (' + e['device'] + ')' if several_devices else ''}: {e['line'].removeprefix('**shown**: ')}"
        for e in shown
    ]
    if not lines:  # the reasons are the judge's own, given with each effect in its axis' section
        unjudged = sorted({e["verdict"] for e in effects} - {"shown"})
        lines = ["No effect is shown in these results"
                 + (f" ({', '.join(unjudged)}: each axis' section says why)." if unjudged else ".")]
    return "## What it found\n\n" + "\n".join(lines)


def _axis_section(results: Results, axis: str, effects: list[dict], out: Path, chance: float | None) -> str:
    summary = results.summary[results.summary["axis"] == axis].reset_index(drop=True)
    runs = results.runs[results.runs["axis"] == axis]
    question = results.record(axis).get("question") or "(this run recorded no question for this axis)"
    status = _statuses(axis, summary, runs, chance, results.order)
    lines = [f"## {axis}", "", question, "", _table(summary, status, _evaluation_metrics(results, axis, summary)), ""]
    stuck = [
        f"- **did not learn in {_epochs(runs, r.variant, r.device)} epochs**: {r.variant} ({r.device}), test accuracy "
        f"{fmt('test_accuracy', r.test_accuracy_mean)}, chance {chance:.2f}{_expected(results.record(axis), r.variant)}"
        for r in summary.itertuples()
        if status[r.Index].startswith("did not learn")
    ]
    lines += [*stuck, *([""] if stuck else [])]
    chosen = _choices(runs)
    lines += [*chosen, *([""] if chosen else [])]
    in_grid = summary[[(axis, v) in results.order for v in summary["variant"]]].reset_index(drop=True)
    if not in_grid.empty:  # a variant the grid no longer has stays in the table, out of the plots
        lines += ["\n\n".join(_image(p, out) for p in _axis_plots(results, axis, in_grid, out, chance))]
    judged = [e for e in effects if e["axis"] == axis]
    if judged:
        several_devices = len({e["device"] for e in judged}) > 1
        lines += ["", "Effects:", ""] + [
            f"- {e['device'] + ': ' if several_devices else ''}{e['line']}" for e in judged
        ]
    return "\n".join(lines)


# Report sections an axis asks for by name (Axis(..., sections=("speed",))), after its own section.
# The names are declared in cnn.report.sections (light, for the axes' check at import); a name
# drawn here and not declared there is an error when this module loads.
SECTIONS: Registry[Callable[["Results", str, Path], str]] = Registry("report section")


@SECTIONS.register("speed")
def _performance(results: Results, axis: str, out: Path) -> str:
    """The speed axis against the machine: speed.csv as a table, when the run wrote one."""
    speed = results.store.speed() if results.store is not None else None
    if speed is not None and "axis" in speed:  # speed.csv before the column: the one speed axis' rows
        speed = speed[speed["axis"] == axis].reset_index(drop=True)
    if speed is None or speed.empty:
        return ""
    first = speed.iloc[0]
    reference = first["reference"] if "reference" in speed else "naive"  # speed.csv before the column: naive
    peaks = ", ".join(
        f"{p} {g:,.0f} GFLOP/s" for p, g in speed.groupby("precision")["peak_gflops"].first().items() if pd.notna(g)
    )
    lines = [
        "## Performance",
        "",
        f"Each variant of the {axis} axis against its reference, {reference}. "
        f"GFLOP/s counts 3 x the forward FLOPs per training image; the peak is TensorFlow's matmul measured "
        f"in the same run ({peaks or 'not measured'}). Target: {target_text(first)}; "
        f"x {reference}'s time: to target (s) / {yardstick_text(first)}. Time to target is checked every "
        "quarter epoch, validation time left out.",
        "",
        f"| variant | device | samples/s | x {reference} | GFLOP/s | of peak | to target (s) | x {reference}'s time "
        "| seeds there | test accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in speed.itertuples():
        reached = f"{int(r.reached)}/{int(r.n)}" if "reached" in speed and pd.notna(r.reached) else "n/a"
        ratio = f"{r.time_vs_naive:.2f}" if "time_vs_naive" in speed and pd.notna(r.time_vs_naive) else "n/a"
        to_target = f"{r.time_to_target_s:.2f}" if pd.notna(r.time_to_target_s) else "not reached"
        of_peak = f"{r.fraction_of_peak:.0%} of {r.precision}" if pd.notna(r.fraction_of_peak) else "n/a"
        lines.append(f"| {r.variant} | {r.device} | {r.samples_per_s:,.0f} | {r.speedup:.2f} | {r.gflops:.1f} | "
                     f"{of_peak} | {to_target} | {ratio} | {reached} | {r.test_accuracy:.4f} |")
    clocked = results.runs[(results.runs["axis"] == axis) & (results.runs["device"] == first["device"])]
    if "accuracy_clock" in clocked and clocked["accuracy_clock"].notna().any():
        path = plots.time_to_accuracy(
            clocked,
            first["target_accuracy"],
            int(first["target_epoch"]),
            first["naive_target_epoch_s"],
            out / PLOTS / "speed-time-to-accuracy.png",
            reference,
        )
        lines += ["", _image(path, out)]
    return "\n".join(lines)


def _statuses(axis: str, summary: pd.DataFrame, runs: pd.DataFrame, chance: float | None, order: dict) -> list[str]:
    """Per summary row: ok, diverged k/n, did not learn in N epochs, or not in the grid."""
    out = []
    for r in summary.itertuples():
        if (axis, r.variant) not in order:
            out.append("not in the grid (renamed or removed variant)")
        elif getattr(r, "diverged", 0) and r.diverged > 0:
            out.append(f"diverged {int(r.diverged)}/{int(r.n)}")
        elif chance is not None and r.test_accuracy_mean < LEARNED_FACTOR * chance:
            out.append(f"did not learn in {_epochs(runs, r.variant, r.device)} epochs")
        else:
            out.append("ok")
    return out


def _choices(runs: pd.DataFrame) -> list[str]:
    """One line per variant that chose a field on the validation split (runs.csv's `choice`)."""
    if "choice" not in runs:
        return []
    chosen = runs.dropna(subset=["choice"]).drop_duplicates(["variant", "device", "choice"])
    several_devices = chosen["device"].nunique() > 1
    return [f"- {r.variant}{f' ({r.device})' if several_devices else ''}: {r.choice}" for r in chosen.itertuples()]


def _epochs(runs: pd.DataFrame, variant: str, device: str) -> str:
    epochs = runs.loc[(runs["variant"] == variant) & (runs["device"] == device), "epochs"].dropna().unique()
    return "/".join(str(int(e)) for e in sorted(epochs)) or "?"


def _expected(record: dict, variant: str) -> str:
    learns = next((v.get("learns", True) for v in record["variants"] if v["id"] == variant), True)
    return "" if learns else " (expected: this variant is there to show it does not learn)"


def _evaluation_metrics(results: Results, axis: str, summary: pd.DataFrame) -> list[str]:
    """The metrics of the axis' evaluations (declared with them) that none of its sections reports:
    they are columns of its table, so a new evaluation's metric is in the report with no code here."""
    shown = section_metrics(results.record(axis).get("sections", []))
    return [m.name for m in known_metrics() if m.evaluation and m.name not in shown
            and f"{m.name}_mean" in summary and summary[f"{m.name}_mean"].notna().any()]


def _table(summary: pd.DataFrame, status: list[str], extra: list[str] = ()) -> str:
    head = (
        "| variant | device | n | test acc | train acc | acc gap | loss gap | steady epoch s | samples/s | params | "
        + "".join(f"{label(m)} | " for m in extra)
        + "status |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r, state in zip(summary.itertuples(), status):
        cells = "".join(f"{fmt(m, getattr(r, m + '_mean'), getattr(r, m + '_std', None))} | " for m in extra)
        lines.append(
            f"| {r.variant} | {r.device} | {int(r.n)} "
            f"| {fmt('test_accuracy', r.test_accuracy_mean, r.test_accuracy_std)} "
            f"| {fmt('train_accuracy', r.train_accuracy_mean)} | {fmt('accuracy_gap', r.accuracy_gap_mean)} "
            f"| {fmt('loss_gap', r.loss_gap_mean)} | {fmt('steady_epoch_s', r.steady_epoch_s_mean)} "
            f"| {fmt('samples_per_s', r.samples_per_s_mean)} "
            f"| {f'{int(r.params):,}' if pd.notna(r.params) else 'n/a'} | {cells}{state} |"
        )
    return "\n".join(lines)


def _axis_plots(results: Results, axis: str, summary: pd.DataFrame, out: Path, chance: float | None) -> list[Path]:
    folder = out / PLOTS
    runs = results.runs[results.runs["axis"] == axis]
    paths = [plots.accuracy_bars(summary, axis, folder / f"{axis}-accuracy.png", chance, runs),
             plots.gap_bars(summary, axis, folder / f"{axis}-gap.png", runs)]
    history = results.histories[results.histories["axis"] == axis]
    labels = [(v, d) for v, d in zip(summary["variant"], summary["device"])
              if ((history["variant"] == v) & (history["device"] == d)).any()]
    if labels:
        split = "n_val" in runs and (runs["n_val"].fillna(0) > 0).any()
        validation = "validation split" if split else "test (the notebook validates on it)"
        paths.append(plots.learning_curves(history, labels, axis, folder / f"{axis}-curves.png", chance, validation))
    paths.append(plots.cost_bars(summary, axis, folder / f"{axis}-cost.png", runs))
    return paths


@SECTIONS.register("gradients")
def _gradients(results: Results, axis: str, out: Path) -> str:
    """Per-layer gradient norms of the axis' variants (histories.csv's grad_norm/<layer> columns)."""
    history = results.histories[results.histories["axis"] == axis]
    layers = [
        c.removeprefix("grad_norm/") for c in history.columns if c.startswith("grad_norm/") and history[c].notna().any()
    ]
    if not layers:
        return ""
    path = plots.gradient_norms(history, axis, layers, out / PLOTS / f"{axis}-gradients.png")
    return ("### Gradient flow\n\nThe gradient norm of each layer's kernel, on a fixed probe batch at each epoch end "
            "(outside the timed span). Vanishing gradients show as a layer decades below the others; exploding ones "
            "as norms that grow epoch after epoch.\n\n" + _image(path, out))


@SECTIONS.register("data_size")
def _data_size(results: Results, axis: str, out: Path) -> str:
    """Test accuracy against the number of training images (the data axis' own plot)."""
    summary = results.summary[results.summary["axis"] == axis]
    points = _data_points(results, axis, summary)
    if points.empty:
        return ""
    path = plots.data_size(points, out / PLOTS / "data-size.png", results.chance)
    return "### Test accuracy against training images\n\n" + _image(path, out)


def _data_points(results: Results, axis: str, summary: pd.DataFrame) -> pd.DataFrame:
    """The data axis on one device (the CPU where it ran) with each variant's number of training images."""
    device = "cpu" if (summary["device"] == "cpu").any() else summary["device"].iloc[0]
    rows = summary[summary["device"] == device]
    runs = results.runs[(results.runs["axis"] == axis) & (results.runs["device"] == device)]
    n_train = runs.groupby("variant", sort=False)["n_train"].first()
    budgets = {v["id"]: v.get("budget", "epochs") for v in results.record(axis).get("variants", [])}
    rows = rows.assign(n_train=rows["variant"].map(n_train), budget=rows["variant"].map(budgets).fillna("epochs"))
    return rows.dropna(subset=["n_train"])


@SECTIONS.register("photos")
def _photos(results: Results, axis: str, out: Path) -> str:
    """Photo accuracy per variant (runs.csv's photo_accuracy, from the photos evaluation) and a grid
    of seed 0's failures per variant as the model saw them (photos-<variant>.npz in the folder)."""
    runs = results.runs[results.runs["axis"] == axis]
    if "photo_accuracy" not in runs or runs["photo_accuracy"].isna().all():
        return ("### Photos\n\nNot measured on " + str(results.dataset) + ": the photos evaluation applies to "
                "datasets of the ten digits (its benchmark renders digit photos), so it did not run.")
    runs = runs.dropna(subset=["photo_accuracy"])
    lines = [
        "### Photos",
        "",
        "Each model reads the photo benchmark (`cnn/photos/benchmark.py`, seed 0): held-out test digits, never trained "
        "on, rendered as phone-style photos (paper colour and grain, ruled or squared lines, ballpoint, gel and pencil "
        "ink, a shadow and uneven light, rotation and perspective, blur, noise and JPEG, 200 to 3000 px), each "
        "prepared as `cnn predict` prepares a photo file (`cnn/photos/read.py`). What it is not: real camera photos. "
        "The degradations are the ones we rendered, so it measures the path from a photo-like image to 28x28 against "
        "the failures we thought of, not against every camera, pen and hand.",
        "",
        "| variant | device | n | photo accuracy | seed 0: read right | test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    grids = []
    for (variant, device), group in runs.groupby(["variant", "device"], sort=False):
        values = group["photo_accuracy"]
        accuracy = fmt("photo_accuracy", values.mean(), values.std() if len(values) > 1 else None)
        failures, why = _photo_failures(results, axis, variant, group)
        read = f"{failures['photos'] - len(failures['labels'])} of {failures['photos']}" if failures else "n/a"
        lines.append(
            f"| {variant} | {device} | {len(values)} | {accuracy} | {read} "
            f"| {fmt('test_accuracy', group['test_accuracy'].mean())} |"
        )
        if failures is None:
            grids.append(f"- {variant}: {why}")
        elif not len(failures["labels"]):
            grids.append(f"- {variant}: seed 0 read every photo right.")
        else:
            grids.append(_image(_photo_grid(failures, axis, variant, out), out))
    return "\n".join(lines) + "\n\n" + "\n\n".join(grids)


def _photo_failures(results: Results, axis: str, variant: str, runs: pd.DataFrame) -> tuple[dict | None, str]:
    """Seed 0's photos read wrong (the evaluation's arrays), or None and why there are none."""
    path = results.store.evaluation_file("photos", axis, variant)
    if not path.is_file():
        return None, (f"no {path.name} in this folder (the suite writes it when it trains seed 0, not when seed 0 "
                      "comes from the cache), so no grid of its failures.")
    try:
        with np.load(path, allow_pickle=False) as stored:
            failures = {k: stored[k] for k in stored.files}
        failures["photos"] = int(failures["photos"])
    except (OSError, ValueError, KeyError) as error:
        return None, f"{path.name} cannot be read ({type(error).__name__}: {error}); rerun the suite to rewrite it."
    seed0 = runs.loc[runs["seed"] == 0, "run_key"].dropna() if "run_key" in runs else pd.Series(dtype=str)
    if str(failures.get("axis", axis)) != axis or (
        not seed0.empty and str(failures.get("run_key", "")) not in set(seed0)
    ):
        return (
            None,
            f"{path.name} is of another run than seed 0's in runs.csv (older code or another axis), "
            "so it is not drawn.",
        )
    return failures, ""


def _photo_grid(failures: dict, axis: str, variant: str, out: Path) -> Path:
    order = np.argsort(-failures["confidence"], kind="stable")  # surest mistakes first
    captions = [f"{t} -> {p if p >= 0 else 'none'}\n({c:.2f})" for t, p, c in
                zip(failures["labels"][order], failures["predicted"][order], failures["confidence"][order])]
    return plots.digit_grid(
        failures["images"][order][..., np.newaxis],
        captions,
        f"{variant}, seed 0: {len(order)} of {failures['photos']} photos read wrong, as the model saw them\n"
        "true -> predicted (confidence); none: no digit found",
        out / PLOTS / f"{axis}-{variant}-failures.png",
    )


_undeclared = [name for name in SECTIONS if name not in SECTION_NAMES]
if _undeclared:  # the axes check their sections against cnn.report.sections, so a drawn one must be there
    raise CnnError(f"report section(s) {', '.join(_undeclared)} are drawn but not declared in cnn.report.sections")


def _overview(results: Results, out: Path, chance: float | None) -> str:
    summary = results.summary[
        [key in results.order for key in zip(results.summary["axis"], results.summary["variant"])]
    ]
    if summary.empty:
        return ""
    learned_at = LEARNED_FACTOR * chance if chance is not None else None
    axes = list(dict.fromkeys(summary["axis"]))
    path = plots.accuracy_vs_time(summary, axes, out / PLOTS / "accuracy-vs-time.png", learned_at)
    text = "## Accuracy against cost\n\n" + _image(path, out)
    curves = _compute_curves(results)
    if not curves.empty:
        flops = plots.accuracy_vs_flops(
            curves, [a for a in axes if a in set(curves["axis"])], out / PLOTS / "accuracy-vs-flops.png"
        )
        text += (
            "\n\nThe same at equal compute: test accuracy after each epoch against the training FLOPs spent so far "
            "(3 x the forward FLOPs per image x the images trained), so a variant that costs more per epoch is judged "
            "by what its compute buys.\n\n" + _image(flops, out)
        )
    return text


def _compute_curves(results: Results) -> pd.DataFrame:
    """Per run and epoch: cumulative training FLOPs and test accuracy (histories.csv joined with
    runs.csv's images and FLOPs per image)."""
    needed = {"n_train", "flops_per_sample"}
    history = results.histories
    if history.empty or not needed <= set(results.runs.columns) or "val_accuracy" not in history:
        return pd.DataFrame()
    keys = ["axis", "variant", "device", "seed"]
    merged = history.merge(results.runs[keys + ["n_train", "flops_per_sample"]], on=keys).dropna(
        subset=["n_train", "flops_per_sample", "val_accuracy"])
    merged = merged[[key in results.order for key in zip(merged["axis"], merged["variant"])]]
    return merged.assign(flops=3 * merged["flops_per_sample"] * merged["n_train"] * merged["epoch"])


def _digits(results: Results, dataset, out: Path) -> str:
    if dataset is None:
        return ""
    folder = out / PLOTS
    names = dataset.class_names
    samples = plots.digit_grid(
        dataset.x_train[:100],
        [names[y] for y in dataset.y_train[:100]],
        f"The first 100 training images of {dataset.name} with their labels",
        folder / "samples.png",
    )
    lines = ["## The data", "", _image(samples, out), ""]
    errors = results.errors
    fingerprint = results.info.get("dataset_fingerprint")
    if errors is None:
        lines.append(_no_errors(results) + ".")
    elif fingerprint and fingerprint != dataset.fingerprint:
        lines.append(
            f"The errors of {results.errors_of} index another copy of {dataset.name} (fingerprint {fingerprint}, "
            f"here {dataset.fingerprint}), so its mistakes are not drawn."
        )
    else:
        worst = (
            errors.sort_values("confidence", ascending=False).head(100) if "confidence" in errors else errors.head(100)
        )
        captions = [f"true {names[t]}\npred {names[p]}" for t, p in zip(worst["true"], worst["predicted"])]
        path = plots.digit_grid(dataset.x_test[worst["test_index"].to_numpy()], captions,
                                f"Test images {results.errors_of} gets wrong: {len(worst)} of {len(errors)} "
                                f"(of {len(dataset.y_test):,}), surest mistakes first", folder / "base-errors.png")
        lines.append(_image(path, out))
    return "\n".join(lines)


def _no_errors(results: Results) -> str:
    """Why there is no grid of mistakes, truthfully: no axis runs the errors evaluation, or those that
    do have no arrays here (written when seed 0 trains, not when it comes from the cache)."""
    running = [a["name"] for a in results.axis_records if "errors" in (a.get("evaluations") or [])]
    if not running:
        return NO_ERRORS[0].upper() + NO_ERRORS[1:]
    return (
        f"No errors arrays in this folder although {', '.join(running)} runs the errors evaluation (the suite writes "
        "them when it trains seed 0, not when seed 0 comes from the cache), so no grid of a model's mistakes"
    )


def _image(path: Path, out: Path) -> str:
    relative = path.relative_to(out).as_posix()
    return f"![{path.stem}]({relative})"


# --- saved pytest-benchmark runs ---------------------------------------------------------------


def saved_benchmarks(folder: Path) -> list[tuple[Path, dict]]:
    """Every readable pytest-benchmark JSON under `folder` as (path, parsed JSON), oldest first."""
    found = []
    for path in sorted(folder.rglob("*.json")):
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
            found.append((path, data))
    return sorted(found, key=lambda item: str(item[1].get("datetime", "")))


def benchmark_runs(data: dict) -> pd.DataFrame:
    """A saved pytest-benchmark run as runs.csv-like rows (one per variant and seed) from each
    entry's extra_info, with the entry's timing stats (seconds per trained seed) alongside."""
    rows = []
    for bench in data.get("benchmarks", []):
        info, stats = bench.get("extra_info") or {}, bench.get("stats") or {}
        if "axis" not in info:
            continue  # a benchmark of something else
        for i, seed in enumerate(info.get("seeds", [])):
            rows.append(
                {
                    "profile": info.get("profile"),
                    "dataset": info.get("dataset"),
                    "axis": info["axis"],
                    "variant": str(info["variant"]),
                    "device": info.get("device", "cpu"),
                    "seed": seed,
                    "test": bench.get("name"),
                    **{m: info[m][i] for m in ("test_accuracy", "steady_epoch_s") if i < len(info.get(m) or [])},
                    **{f"bench_{k}": stats.get(k) for k in ("rounds", "mean", "stddev", "min")},
                }
            )
    return grid_order(pd.DataFrame(rows)) if rows else pd.DataFrame()


def benchmark_section(results: Results, folder: Path | None) -> str:
    """The report's "Saved benchmark timings" section ('' when there are none): from the results
    folder's benchmarks.csv, so a fresh clone reports what was committed, else from the newest
    matching saved run under `folder` (.benchmarks is not in git)."""
    recorded = results.store.benchmarks()
    if recorded is not None and not recorded.empty:
        return _recorded_timings(grid_order(recorded))
    if folder is None or not folder.is_dir():
        return ""
    for path, data in reversed(saved_benchmarks(folder)):
        runs = benchmark_runs(data)
        if runs.empty:
            continue
        runs = runs[(runs["profile"] == results.profile) & (runs["dataset"] == results.dataset)]
        if not runs.empty:
            return _benchmark_table(path, data, runs.drop_duplicates("test"))
    return ""


def _benchmark_table(path: Path, data: dict, tests: pd.DataFrame) -> str:
    lines = [
        "## Saved benchmark timings",
        "",
        f"From {path.name} ({data.get('datetime', 'no date')}): pytest-benchmark's time for one whole training "
        "per seed (fit and evaluation), over the seeds that run trained (cached seeds are not re-timed).",
        "",
        "| test | rounds | s per seed | min s |",
        "|---|---|---|---|",
    ]
    for r in tests.itertuples():
        rounds = int(r.bench_rounds) if pd.notna(r.bench_rounds) else 0
        spread = r.bench_stddev if rounds > 1 else None
        lines.append(f"| {r.test} | {rounds} | {fmt('fit_s', r.bench_mean, spread)} | {fmt('fit_s', r.bench_min)} |")
    return "\n".join(lines)



def _recorded_timings(rows: pd.DataFrame) -> str:
    """benchmarks.csv as the table of timings: per test, its seeds' training times."""
    cached = (
        rows["cached"].astype(str).str.lower().eq("true") if "cached" in rows else pd.Series(False, index=rows.index)
    )
    several_devices = rows["device"].nunique() > 1
    saved = _saved_runs(rows)
    lines = [
        "## Saved benchmark timings", "",
        f"From {BENCHMARKS_CSV} in this folder{saved}: pytest-benchmark's time for one whole training per seed "
        "(fit and evaluation); "
        + (f"{int(cached.sum())} of the {len(rows)} seeds came from the cache and carry the time recorded when they "
           "were trained (column cached)." if cached.any() else "no seed came from the cache."),
    ]
    notes = [str(n) for n in dict.fromkeys(rows["note"].dropna()) if str(n).strip()] if "note" in rows else []
    lines += [*([""] + notes if notes else []), ""]
    head = "| test | seeds | s per seed | min s |" + (" cached |" if cached.any() else "")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for (axis, variant, device), group in rows.groupby(["axis", "variant", "device"], sort=False):
        seconds = group["train_s"].dropna()
        test = f"test_{axis}[{variant}]" + (f" ({device})" if several_devices else "")
        spread = seconds.std() if len(seconds) > 1 else None
        lines.append(
            f"| {test} | {len(seconds)} | {fmt('train_s', seconds.mean(), spread)} | {fmt('train_s', seconds.min())} |"
            + (f" {int(cached[group.index].sum())} |" if cached.any() else "")
        )
    return "\n".join(lines)


def _saved_runs(rows: pd.DataFrame) -> str:
    """' (pytest-benchmark runs saved as NAME: FILE, DATETIME; ...)' for the runs the rows were saved in."""
    columns = [c for c in ("benchmark_name", "saved_file", "saved_datetime") if c in rows]
    runs = []
    for values in dict.fromkeys(rows[columns].itertuples(index=False, name=None)):
        name, file, when = (dict(zip(columns, ("" if pd.isna(v) else str(v) for v in values))).get(c, "")
                            for c in ("benchmark_name", "saved_file", "saved_datetime"))
        if name or file:
            runs.append(
                f"{name or 'unnamed'}" + (f": {', '.join(v for v in (file, when) if v)}" if file or when else "")
            )
    if not runs:
        return " (not saved with --benchmark-save)"
    return f" (pytest-benchmark run{'s' if len(runs) > 1 else ''} saved as {'; '.join(runs)})"


def _first(frame: pd.DataFrame, column: str) -> str | None:
    if column not in frame or frame[column].dropna().empty:
        return None
    return str(frame[column].dropna().iloc[0])

