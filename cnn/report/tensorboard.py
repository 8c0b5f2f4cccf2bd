"""The grid in TensorBoard's HParams dashboard: every run (variant, seed) is a session with its
config fields as hparams and its accuracies, gaps and times as metrics, so the grid can be explored
in the parallel-coordinates view (`tensorboard --logdir DIR`, the HPARAMS tab).

Layout under DIR: the experiment summary (every hparam's domain, every metric's name) at the top,
and one folder per run, `<device>/<axis>[<variant>]/seed-<n>` (the baseline's variant key and the
seed), holding that run's hparams and its metrics as scalars.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from cnn.errors import CnnError
from cnn.results.metrics import Metric
from cnn.results.metrics import metrics as registered_metrics

# Written as hparams from the row itself, before the config's fields; `status` lets the view hide
# diverged runs.
RUN_FIELDS = ("profile", "dataset", "axis", "variant", "device", "seed", "status")
REQUIRED = ("axis", "variant", "device", "seed")
# The metrics are the registered ones (cnn.results.metrics) that runs has: their name, label and
# description are what the dashboard shows.
# Our event files carry this suffix, so a rewrite removes them and nothing else in the folder.
SUFFIX = ".ablation"


def write_hparams(folder: str | Path, runs: pd.DataFrame, configs: dict[str, dict]) -> int:
    """Write every row of `runs` (runs.csv: axis, variant, device, seed and the metrics) to
    TensorBoard's HParams plugin under `folder`; returns the number of runs written.

    A run's config is `configs[row.run_key]` (Config.to_dict(), as the cache records it), else the
    row's `config` column (a dict or its JSON); a run with neither is written with its run fields
    only. Tuples become text as in config names ("32-64-64", "none" when empty); a None field (the
    optimizer's default learning rate) is left out of that run; a NaN metric is not written.
    Writing again replaces this module's event files in `folder` and in the run folders it writes.

    Raises CnnError when a column in REQUIRED is missing, when two rows are the same run (one
    profile per folder), or when the tensorboard package is not installed.
    """
    try:
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp
    except ImportError as error:
        raise CnnError(
            f"TensorBoard HParams need the tensorboard package ({error}); install it: pip install tensorboard"
        ) from None
    missing = [name for name in REQUIRED if name not in runs.columns]
    if missing:
        raise CnnError(
            f"runs has no column {', '.join(missing)}; TensorBoard needs {', '.join(REQUIRED)} (runs.csv has them)"
        )
    folder = Path(folder)
    declared = metrics_of(runs)
    metrics = [m.name for m in declared]

    sessions: dict[str, tuple] = {}  # run folder -> (hparams, metric values, step, start time or None)
    for row in runs.to_dict("records"):
        row = {name: _scalar(value) for name, value in row.items()}
        for field in (
            "profile",
            "dataset",
            "axis",
            "variant",
            "device",
            "status",
        ):  # text even where read_csv made 0.5 of "0.5"
            if row.get(field) is not None:
                row[field] = str(row[field])
        # The baseline's variant key (device/axis[variant]) and the seed; ".." must not climb out of `folder`.
        name = f"{row['device']}/{row['axis']}[{row['variant']}]/seed-{row['seed']}".replace("..", "_")
        if name in sessions:
            raise CnnError(f"runs has two rows for {name}: write one profile per TensorBoard folder")
        hparams = {field: row[field] for field in RUN_FIELDS if row.get(field) is not None}
        for field, value in _config(row, configs).items():
            value = _hparam_value(value)
            if field not in hparams and value is not None:
                hparams[field] = value
        scores = {m: float(row[m]) for m in metrics if isinstance(row.get(m), (int, float)) and math.isfinite(row[m])}
        step = row["epochs"] if isinstance(row.get("epochs"), int) else 0  # the metrics are the run's at its last epoch
        sessions[name] = (hparams, scores, step, _seconds(row.get("created")))

    domains = _domains([session[0] for session in sessions.values()])
    _remove_ours(folder)
    writer = tf.summary.create_file_writer(str(folder), filename_suffix=SUFFIX)
    with writer.as_default():
        hp.hparams_config(
            hparams=[hp.HParam(field, _domain(hp, values)) for field, (_, values) in domains.items()],
            metrics=[hp.Metric(m.name, display_name=m.label, description=m.description) for m in declared],
        )
    writer.close()
    for name, (hparams, scores, step, start) in sessions.items():
        run_folder = folder / name
        _remove_ours(run_folder)
        writer = tf.summary.create_file_writer(str(run_folder), filename_suffix=SUFFIX)
        with writer.as_default():
            hp.hparams(
                {field: domains[field][0](value) for field, value in hparams.items()},
                trial_id=name,
                start_time_secs=start,
            )
            for metric, value in scores.items():
                tf.summary.scalar(metric, value, step=step)
        writer.close()
    return len(sessions)


def metrics_of(runs: pd.DataFrame) -> list[Metric]:
    """The registered metrics among `runs`' columns, in declaration order: what TensorBoard gets."""
    return registered_metrics(runs.columns)


def _scalar(value):
    """A pandas cell as plain Python: numpy numbers to int/float/bool, NaN (an empty cell) to None."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _config(row: dict, configs: dict[str, dict]) -> dict:
    config = configs.get(row.get("run_key")) if row.get("run_key") is not None else None
    if config is None:
        config = row.get("config")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            raise CnnError(
                f"run {row['axis']}[{row['variant']}] seed {row['seed']}: "
                f"its config column is not JSON: {config[:60]!r}"
            ) from None
    return config if isinstance(config, dict) else {}


def _hparam_value(value):
    """What TensorBoard takes: bool, int, float or str; tuples (lists in JSON) as config names write them."""
    if isinstance(value, (list, tuple)):
        return "-".join(map(str, value)) or "none"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _domains(sessions: list[dict]) -> dict[str, tuple[type, list]]:
    """Per hparam, in first-seen order: the type its values are written as, and every value it takes.
    Numbers are floats to TensorBoard; a field whose runs mix types is written as text throughout."""
    seen: dict[str, list] = {}
    for hparams in sessions:
        for field, value in hparams.items():
            seen.setdefault(field, []).append(value)
    domains = {}
    for field, values in seen.items():
        if all(isinstance(v, bool) for v in values):
            kind = bool
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            kind = float
        else:
            kind = str
        domains[field] = (kind, sorted({kind(v) for v in values}))
    return domains


def _domain(hp, values: list):
    """A Discrete domain that also says whether its runs differ in it: the dashboard shows five
    hparams at first, those that differ first (hparams_config alone marks none as differing)."""

    class Values(hp.Discrete):
        def update_hparam_info(self, hparam_info):
            super().update_hparam_info(hparam_info)
            hparam_info.differs = len(self.values) > 1

    return Values(values)


def _seconds(created) -> float | None:
    """The run's `created` time (ISO 8601, UTC) as seconds since the epoch; None (now) when absent."""
    try:
        return pd.Timestamp(created).timestamp() if created is not None else None
    except (ValueError, TypeError):
        return None


def _remove_ours(folder: Path) -> None:
    for path in folder.glob(f"events.out.tfevents.*{SUFFIX}"):
        path.unlink()
