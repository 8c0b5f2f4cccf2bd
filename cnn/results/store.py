"""The writer and the reader of a results folder (results/<profile>/; schema.py names its files).

The ablation session fills a SessionOutput at its end and calls write_results(); the report reads
through ResultsFolder. Every file is written atomically (cnn.files), so a reader never sees half
of one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cnn.errors import CnnError
from cnn.files import read_json, write_atomic, write_json
from cnn.results import schema, tables
from cnn.results.judge import Judgement, judge_axes
from cnn.results.metrics import Metric, declare, metrics
from cnn.results.speed import speed_axes, speed_frame, speed_table


@dataclass
class SessionOutput:
    """What one ablation session hands the writer."""

    profile: str
    rows: list[dict]  # one per run (variant, device, seed), any columns: runs.csv
    histories: list[dict]  # one per run and epoch: histories.csv
    axes: list[dict]  # each Axis.record() of this session, in the order the tests ran
    run_info: dict  # run.json, as the session makes it
    benchmark_name: str = ""  # --benchmark-save's name, recorded beside each run's training time
    peaks: dict[str, float] = field(default_factory=dict)  # dtype -> the matmul peak in GFLOP/s, timed this session
    target_accuracy: float | None = None  # the profile's time-to-accuracy target; None: the reference's
    spreads: dict = field(
        default_factory=dict
    )  # the baseline's (device, axis, variant) -> {metric: std}, for the judge


@dataclass
class Written:
    """What write_results wrote and worked out."""

    paths: list[Path]  # every file written
    runs: pd.DataFrame  # runs.csv: this session's rows merged with the folder's earlier ones
    speed: pd.DataFrame  # speed.csv's rows (empty when no speed axis has its reference run)
    judgements: list[Judgement]  # every recorded axis' effects, judged on `runs`
    table: (
        str  # the terminal text of this session's rows: per-axis tables, then the speed figures where a speed axis ran
    )
    axes: list[dict] = field(default_factory=list)  # axes.json as written


def write_results(folder: str | Path, output: SessionOutput) -> Written:
    """Merge `output` into the results folder and write every file of it: runs, summary, histories,
    benchmarks (a variant run in this session replaces all its earlier rows, others are kept while
    their axis records them), axes.json, metrics.json, effects.csv (every axis judged again on the
    merged runs, so it is never stale), run.json, and speed.csv where a speed axis has figures."""
    folder = Path(folder)
    axes = _merge_axes(read_json(folder / schema.AXES_JSON) or [], output.axes)
    order = [(axis["name"], variant["id"]) for axis in axes for variant in axis["variants"]]
    runs = tables.runs_frame(_merge(folder / schema.RUNS_CSV, output.rows, schema.KEYS, order), order)
    histories = tables.history_frame(_merge(folder / schema.HISTORIES_CSV, output.histories, schema.KEYS, order))
    # runs.csv first, then everything derived from it computed from the file as written (read back at
    # its precision): summary.csv and effects.csv then agree to the digit with rejudge and the report,
    # which read the file.
    paths = [tables.write_csv(folder / schema.RUNS_CSV, runs)]
    runs = read_table(folder / schema.RUNS_CSV, schema.RUN_REQUIRED)
    paths += [tables.write_csv(folder / schema.SUMMARY_CSV, tables.summary_frame(runs)),
              tables.write_csv(folder / schema.HISTORIES_CSV, histories)]
    paths.append(write_json(folder / schema.AXES_JSON, axes))
    paths.append(write_json(folder / schema.METRICS_JSON, _declarations(folder, runs.columns)))
    judged = judge_axes(axes, runs, output.spreads)  # one family: every claim the folder records
    effects = pd.DataFrame([j.row() for j in judged], columns=schema.EFFECT_COLUMNS)
    paths.append(write_atomic(folder / schema.EFFECTS_CSV, effects.to_csv(index=False)))
    paths.append(write_json(folder / schema.RUN_JSON, output.run_info))
    benchmarks = _merge(folder / schema.BENCHMARKS_CSV, [
        {**{k: row.get(k) for k in ("axis", "variant", "device", "seed", "train_s", "cached")},
         "benchmark_name": output.benchmark_name} for row in output.rows], schema.KEYS, order)
    paths.append(tables.write_csv(folder / schema.BENCHMARKS_CSV, pd.DataFrame(benchmarks)))
    # The terminal shows what this session ran (trained or from the cache), not the merged file.
    table = tables.axis_tables(tables.summary_frame(tables.runs_frame(output.rows, order)))
    speed = speed_frame(runs, histories, output.peaks, axes, output.target_accuracy)
    if not speed.empty:
        paths.append(tables.write_csv(folder / schema.SPEED_CSV, speed))
        ran = {row["axis"] for row in output.rows}
        for axis, _ in speed_axes(axes):
            if axis in ran and (speed["axis"] == axis).any():  # this session's speed axes only
                table += "\n\n" + speed_table(speed[speed["axis"] == axis].reset_index(drop=True), output.peaks)
    return Written(paths, runs, speed, judged, table, axes)


def rejudge(folder: str | Path, effects: dict[str, list[dict]] | None = None, chance: float | None = None,
            spreads: dict | None = None) -> list[Judgement]:
    """Judge a results folder's claims again from its CSVs, training nothing: `effects` (axis name
    -> its Effect dicts, declared now) replace those axes' recorded effects in axes.json; `chance`
    adds runs.csv's two-state `learned` column where it is missing (test accuracy >= 3x chance);
    then summary.csv, metrics.json and effects.csv are written again (one family, the folder's).
    Returns the judgements; raises CnnError on an unreadable folder."""
    from cnn.results.guard import LEARNED_FACTOR

    folder = ResultsFolder(folder)
    runs = folder.runs()
    axes = [{**axis, "effects": effects[axis["name"]]} if effects and axis["name"] in effects else axis
            for axis in folder.axes()]
    if chance is not None and "learned" not in runs.columns:
        runs["learned"] = (runs["test_accuracy"] >= LEARNED_FACTOR * chance).astype(float)
    runs = runs.reindex(columns=schema.run_columns(runs.columns))
    tables.write_csv(folder.file(schema.RUNS_CSV), runs)
    tables.write_csv(folder.file(schema.SUMMARY_CSV), tables.summary_frame(runs))
    write_json(folder.file(schema.AXES_JSON), axes)
    write_json(folder.file(schema.METRICS_JSON), _declarations(folder.path, runs.columns))
    judged = judge_axes(axes, runs, spreads)
    frame = pd.DataFrame([j.row() for j in judged], columns=schema.EFFECT_COLUMNS)
    write_atomic(folder.file(schema.EFFECTS_CSV), frame.to_csv(index=False))
    return judged


def save_evaluation_arrays(folder: str | Path, evaluation: str, axis: str, variant: str, arrays: dict[str, np.ndarray],
                           **about) -> Path:
    """`<folder>/<evaluation>-<axis>-<variant>.npz` (schema.evaluation_npz): an evaluation's arrays of
    one run, and what they are of (axis, variant and `about`: seed, device, run_key, ...) as text
    arrays, so the file is read back without pickle."""
    buffer = io.BytesIO()
    described = {"axis": axis, "variant": variant, **about}
    np.savez_compressed(buffer, **arrays, **{k: np.asarray(str(x)) for k, x in described.items()})
    return write_atomic(Path(folder) / schema.evaluation_npz(evaluation, axis, variant), buffer.getvalue())


def benchmark_info(rows: list[dict]) -> dict:
    """What goes into pytest-benchmark's saved JSON next to the timing of one variant (its rows, one
    per seed): who it is, per seed each registered metric the rows have, the deterministic ones once."""
    first = rows[0]
    present = [m for m in metrics() if any(m.name in row for row in rows)]
    return {
        "axis": first["axis"], "variant": first["variant"], "device": first["device"], "profile": first["profile"],
        "dataset": first.get("dataset"), "seeds": [r["seed"] for r in rows],
        "cached_seeds": [r["seed"] for r in rows if r.get("cached")], "cached": all(r.get("cached") for r in rows),
        **{m.name: [r.get(m.name) for r in rows] for m in present if not m.deterministic},
        **{m.name: first.get(m.name) for m in present if m.deterministic},
        "status": [r.get("status") for r in rows],
    }


# --- reading ------------------------------------------------------------------------------------


class ResultsFolder:
    """A results folder as the suite wrote it, read file by file (each read when asked for).
    The metric declarations it carries (metrics.json) are known to this process where it has not
    registered them (cnn.results.metrics.declare), so a metric of an evaluation it never loaded is
    formatted as declared."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._register_declared()

    def file(self, name: str) -> Path:
        return self.path / name

    def runs(self) -> pd.DataFrame:
        """runs.csv. Raises CnnError when it is missing, empty, unreadable or not a runs table."""
        schema.check_results_folder(self.path)
        runs = read_table(self.file(schema.RUNS_CSV), schema.RUN_REQUIRED)
        if runs.empty:
            raise CnnError(
                f"{self.file(schema.RUNS_CSV)} has no rows; run the ablation suite first (pytest ablations/)"
            )
        return runs

    def summary(self, runs: pd.DataFrame | None = None) -> pd.DataFrame:
        """summary.csv as written (so a report prints the very numbers it holds); computed from
        runs.csv only where it is missing or empty."""
        summary = read_table(self.file(schema.SUMMARY_CSV), schema.SUMMARY_REQUIRED)
        if summary is not None and not summary.empty:
            return summary
        return tables.summary_frame(self.runs() if runs is None else runs)

    def histories(self, runs: pd.DataFrame | None = None) -> pd.DataFrame:
        """histories.csv, only the curves of the runs in runs.csv (it can still hold seeds a later
        run dropped); an empty frame with the required columns when there is none."""
        histories = read_table(self.file(schema.HISTORIES_CSV), schema.HISTORY_REQUIRED)
        if histories is None or histories.empty:
            return pd.DataFrame(columns=list(schema.HISTORY_REQUIRED))
        keys = schema.RUN_KEYS
        runs = self.runs() if runs is None else runs
        return histories.merge(runs[keys].drop_duplicates(), on=keys)

    def axes(self) -> list[dict]:
        """axes.json's records (name, question, variants, effects, sections, ...); [] when there is none."""
        records = read_json(self.file(schema.AXES_JSON))
        return [a for a in records if isinstance(a, dict) and "name" in a] if isinstance(records, list) else []

    def info(self) -> dict:
        """run.json ({} when missing)."""
        return read_json(self.file(schema.RUN_JSON)) or {}

    def effects(self) -> pd.DataFrame | None:
        return read_table(self.file(schema.EFFECTS_CSV), ())

    def benchmarks(self) -> pd.DataFrame | None:
        return read_table(self.file(schema.BENCHMARKS_CSV), schema.BENCHMARK_REQUIRED)

    def speed(self) -> pd.DataFrame | None:
        return read_table(self.file(schema.SPEED_CSV), schema.SPEED_REQUIRED)

    def evaluation_file(self, evaluation: str, axis: str, variant: str) -> Path:
        return self.file(schema.evaluation_npz(evaluation, axis, variant))

    def evaluation_arrays(self, evaluation: str, axis: str, variant: str) -> dict[str, np.ndarray] | None:
        """An evaluation's saved arrays of seed 0 of a variant (text fields as 0-d arrays); None when
        the folder has none. Raises OSError, ValueError or KeyError when the file is unreadable."""
        path = self.evaluation_file(evaluation, axis, variant)
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}

    def first_evaluation_arrays(self, evaluation: str) -> tuple[str, str, dict] | None:
        """(axis, variant, arrays) of the first variant in the recorded grid with `evaluation`'s
        arrays, an axis' reference variant before its others; None when no variant has them."""
        for record in self.axes():
            ids = [variant["id"] for variant in record.get("variants", [])]
            reference = record.get("reference")
            for variant in ([reference] if reference in ids else []) + [i for i in ids if i != reference]:
                if self.evaluation_file(evaluation, record["name"], variant).is_file():
                    return record["name"], variant, self.evaluation_arrays(evaluation, record["name"], variant)
        return None

    def base_errors(self) -> pd.DataFrame | None:
        """base_errors.csv of a folder written before the errors evaluation; None when it has none."""
        return read_table(self.file(schema.BASE_ERRORS_CSV), ("test_index", "true", "predicted"))

    def declared_metrics(self) -> dict[str, dict]:
        """metrics.json: name -> the declaration of each metric column ({} when missing)."""
        declared = read_json(self.file(schema.METRICS_JSON))
        return declared if isinstance(declared, dict) else {}

    def _register_declared(self) -> None:
        for declaration in self.declared_metrics().values():
            if isinstance(declaration, dict):
                try:
                    declare(Metric(**{k: v for k, v in declaration.items() if k in Metric.__dataclass_fields__}))
                except (TypeError, CnnError):
                    pass  # a declaration this code cannot read: the metric stays unknown here


def read_table(path: Path, required: tuple[str, ...]) -> pd.DataFrame | None:
    """The CSV at `path`; None when it is missing. Raises CnnError when it is unreadable or lacks
    a column in `required`."""
    if not path.is_file():
        return None
    try:
        frame = tables.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(required))
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise CnnError(
            f"{path} cannot be read as CSV ({type(error).__name__}: {error}); rerun the suite to rewrite it"
        ) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CnnError(f"{path} lacks column(s) {', '.join(missing)}; it was not written by this suite")
    return frame


def _declarations(folder: Path, columns) -> dict[str, dict]:
    """metrics.json: the declaration of each metric among `columns`, registered here or kept from
    the folder's earlier metrics.json (a metric of an evaluation this process did not load)."""
    earlier = read_json(folder / schema.METRICS_JSON)
    earlier = earlier if isinstance(earlier, dict) else {}
    declared = {m.name: m.to_dict() for m in metrics(columns)}
    return {name: declared.get(name) or earlier[name] for name in columns if name in declared or name in earlier}


def _merge(path: Path, new_rows: list[dict], keys: list[str], grid: list[tuple[str, str]] | None = None) -> list[dict]:
    """Earlier rows from `path` that this session did not redo and that are still in the grid, then
    this session's rows."""
    if not path.exists():
        return list(new_rows)
    try:
        old = tables.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return list(new_rows)
    if old.empty or any(k not in old.columns for k in keys):
        return list(new_rows)
    done = {tuple(str(row[k]) for k in keys) for row in new_rows}
    in_grid = set(grid) if grid is not None else None
    kept = [row for row in old.to_dict("records")
            if tuple(str(row[k]) for k in keys) not in done
            and (in_grid is None or (row["axis"], row["variant"]) in in_grid)]
    return kept + list(new_rows)


def _merge_axes(earlier: list[dict], now: list[dict]) -> list[dict]:
    """The axes of earlier runs of this folder with this session's records in their place; new axes last."""
    fresh = {axis["name"]: axis for axis in now}
    merged = [fresh.pop(axis["name"], axis) for axis in earlier if isinstance(axis, dict) and "name" in axis]
    return merged + list(fresh.values())
