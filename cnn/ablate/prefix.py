"""A variant that is the first epochs of another variant's run, read from that run instead of trained.

The first k epochs of an n-epoch run are a k-epoch run: the same seed draws the same weights and
the same batches, and nothing in training looks at the total (no schedule over it). So the epochs
axis trains its longest variant once, with snapshots (cnn.train.Snapshots) after the shorter ones'
epochs, and reads each shorter variant from it: its scores from the snapshot, its history and
accuracy clock cut at k epochs, its times those of its first k epochs.
"""

from __future__ import annotations

import math
import statistics

from cnn.config import Config

SCORES = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "accuracy_gap", "loss_gap")


def prefix_record(record: dict, config: Config, source_variant: str) -> dict:
    """The record a run of `config` (the source run's config with fewer epochs) would have stored,
    read from the source's `record`. Its wall times (train_s, fit_s, CPU seconds) are the source's
    in proportion to its first epochs' training time; its machine load and `contended` are the
    whole source run's; its run_key is the source's cache key with `-e<epochs>`. Raises KeyError when
    the source has no snapshot at config.epochs."""
    epochs = config.epochs
    diverged = record.get("diverged_epoch")
    out = {**record, "config": config.to_dict(), "config_key": config.key(), "prefix_of": source_variant}
    if record.get("run_key"):
        out["run_key"] = f"{record['run_key']}-e{epochs}"
    if diverged is not None and diverged <= epochs:  # it stopped there: the shorter run ends the same way
        out["epochs_run"] = record["epochs_run"]
    else:
        snapshot = record["snapshots"][str(epochs)]
        out.update({name: snapshot[name] for name in SCORES}, status="ok", diverged_epoch=None, epochs_run=epochs)
        out["grad_norm_first_conv"] = snapshot.get("grad_norm_first_conv", record.get("grad_norm_first_conv"))
    kept = out["epochs_run"]
    out["history"] = {name: values[:kept] for name, values in record["history"].items()}
    out["snapshots"] = {k: scores for k, scores in record["snapshots"].items() if int(k) < kept}
    seconds = out["history"]["epoch_s"]
    out["first_epoch_s"] = seconds[0]
    out["steady_epoch_s"] = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
    epoch_samples = record["samples_per_s"] * record["steady_epoch_s"]
    out["samples_per_s"] = epoch_samples / out["steady_epoch_s"]
    share = sum(seconds) / sum(record["history"]["epoch_s"])
    for name in ("train_s", "fit_s", "cpu_s", "others_cpu_s"):
        if record.get(name) is not None:
            out[name] = record[name] * share
    out["accuracy_clock"] = [point for point in record.get("accuracy_clock") or []
                             if point[1] <= kept * epoch_samples + 0.5]
    return {k: (None if isinstance(x, float) and not math.isfinite(x) else x) for k, x in out.items()}
