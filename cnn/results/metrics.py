"""The metrics a run is measured by: each is one declaration, and everything that lists metrics
(runs.csv's and summary.csv's columns, the terminal table's formatting, the TensorBoard metrics,
the benchmark's extra_info, the baseline's spreads) reads this registry.

An evaluation of your own adds its metric where it is registered (cnn.ablate.evaluations:
`register_evaluation(..., metrics=[Metric(...)])`); a metric outside an evaluation is one call:

    register_metric("ink_ratio", "ink ratio", ".3f", "higher")
"""

from __future__ import annotations

from dataclasses import dataclass

from cnn.errors import CnnError
from cnn.registry import Registry

DIRECTIONS = ("higher", "lower", "none")  # which way is better; "none": neither (a size, a gradient norm)
# log: compared as ratios (times that span decades, gradient norms); binary: 1 or 0 a seed, k of n
SCALES = ("linear", "log", "binary")


@dataclass(frozen=True)
class Metric:
    """One runs.csv column that measures a run."""

    name: str  # the runs.csv column
    label: str  # what a table or TensorBoard calls it
    fmt: str  # a format spec for one value: ".4f"; "+.4f" writes the sign even when positive (gaps)
    direction: str = "higher"  # one of DIRECTIONS
    scale: str = "linear"  # one of SCALES
    deterministic: bool = False  # the same for every seed (params, FLOPs): summarised by its value, not mean and std
    baseline_spread: bool = False  # the baseline records its seed std (results/baseline.json), for one-seed judgements
    timed: bool = False  # a time: runs timed beside other work (contended) are left out of its claims
    description: str = ""  # one line: what it means (TensorBoard shows it)
    evaluation: str = ""  # the evaluation that declares it (cnn.ablate.evaluations); "" when built in

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise CnnError(f"metric {self.name!r}: direction {self.direction!r} is not one of {', '.join(DIRECTIONS)}")
        if self.scale not in SCALES:
            raise CnnError(f"metric {self.name!r}: scale {self.scale!r} is not one of {', '.join(SCALES)}")
        try:
            format(1.0, self.fmt)
        except ValueError:
            raise CnnError(
                f"metric {self.name!r}: fmt {self.fmt!r} is not a format spec for a number (e.g. '.4f')"
            ) from None

    def to_dict(self) -> dict:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


METRICS: Registry[Metric] = Registry("metric")
# Declared by a results folder this process read (its metrics.json) and not registered here: the
# metric of an evaluation the reading process never loaded. Known for formatting only, and never
# in the way of the evaluation's own registration.
_DECLARED: dict[str, Metric] = {}


def register_metric(name: str, label: str, fmt: str, direction: str = "higher", scale: str = "linear",
                    deterministic: bool = False, baseline_spread: bool = False, description: str = "",
                    evaluation: str = "", timed: bool = False) -> Metric:
    """Declare a metric; returns it. Raises CnnError when the name is taken or a field is invalid."""
    metric = Metric(name, label, fmt, direction, scale, deterministic, baseline_spread, timed, description,
                    evaluation)
    add_metric(metric)
    return metric


def add_metric(metric: Metric) -> Metric:
    """Register an already made Metric (an evaluation's). Raises CnnError when its name is taken."""
    METRICS.add(metric.name, metric)
    return metric


def metric(name: str) -> Metric:
    """The metric `name`: registered, else declared by a results folder read here. Raises CnnError
    naming the registered ones."""
    if name not in METRICS and name in _DECLARED:
        return _DECLARED[name]
    return METRICS.get(name)


def described(name: str) -> Metric:
    """The metric `name` for writing it: registered or declared, else a plain description (its name
    as label, 4 significant figures), so a column of an evaluation this process never loaded (an
    xdist controller, a folder from another project) is still printed, never a crash."""
    if name in METRICS or name in _DECLARED:
        return metric(name)
    return Metric(name, name.replace("_", " "), ".4g", "none")


def declare(declared: Metric) -> None:
    """Know a metric a results folder declares (metrics.json) where this process has not registered it."""
    if declared.name not in METRICS:
        _DECLARED.setdefault(declared.name, declared)


def known_metrics() -> list[Metric]:
    """The registered metrics, then those only declared by results folders read here."""
    return metrics() + [m for name, m in _DECLARED.items() if name not in METRICS]


def metrics(names=None) -> list[Metric]:
    """The registered metrics in declaration order; with `names` (columns), those among them."""
    present = None if names is None else set(names)
    return [METRICS.get(n) for n in METRICS if present is None or n in present]


def summarised(columns) -> tuple[list[str], list[str]]:
    """(averaged, deterministic): the metric names among `columns` that summary.csv gives as mean
    and std over seeds, and those it gives as their one value: the registered metrics, then those
    only a results folder declares (metrics.json), so a rejudge elsewhere keeps an evaluation's column."""
    names = set(columns)
    present = [m for m in known_metrics() if m.name in names]
    return [m.name for m in present if not m.deterministic], [m.name for m in present if m.deterministic]


def baseline_spread_metrics() -> list[str]:
    """The metrics whose seed std the baseline records."""
    return [m.name for m in metrics() if m.baseline_spread]


# --- the built-in metrics: what cnn.train measures of every run ---------------------------------
# In this order in summary.csv (mean and std each), then the deterministic ones after `n`.

register_metric("test_accuracy", "test accuracy", ".4f", "higher", baseline_spread=True,
                description="accuracy on the test set")
register_metric("train_accuracy", "train accuracy", ".4f", "higher", baseline_spread=True,
                description="accuracy on the training set, re-measured in inference mode")
register_metric("test_loss", "test loss", ".4f", "lower", description="loss on the test set")
register_metric("train_loss", "train loss", ".4f", "lower",
                description="loss on the training set, re-measured in inference mode")
register_metric("accuracy_gap", "accuracy gap", "+.4f", "lower", baseline_spread=True,
                description="train - test accuracy: above 0 is overfitting")
register_metric("loss_gap", "loss gap", "+.4f", "lower", baseline_spread=True, description="test - train loss")
register_metric("first_epoch_s", "first epoch s", ".2f", "lower", "log",
                timed=True, description="seconds of the first epoch, graph tracing included")
register_metric("steady_epoch_s", "steady epoch s", ".2f", "lower", "log", baseline_spread=True,
                timed=True, description="seconds per epoch after the first")
register_metric("samples_per_s", "samples/s", ",.0f", "higher", "log",
                timed=True, description="training images per second in the steady epochs")
# Spans decades (sigmoid's first conv ~1e-3, ReLU's ~0.2): significant figures, compared as ratios.
register_metric(
    "grad_norm_first_conv",
    "grad norm first conv",
    ".3g",
    "none",
    "log",
    description="the first conv kernel's gradient norm after the last epoch (histories.csv has every layer's)",
)
register_metric("fit_s", "fit s", ".2f", "lower", "log", timed=True, description="seconds in Keras' fit, every epoch")
register_metric("train_s", "train s", ".2f", "lower", "log", timed=True,
                description="wall seconds of the whole training (fit and evaluation): what pytest-benchmark times")
register_metric("learned", "learned", ".0f", "higher", "binary",
                description="1 where test accuracy left chance (at least 3x it), else 0: compared as k of n seeds")
register_metric("params", "params", ",.0f", "none", deterministic=True,
                description="trainable and non-trainable weights")
register_metric("flops_per_sample", "flops/sample", ",.0f", "lower", deterministic=True,
                description="forward FLOPs per image")
