"""The one way a metric is written, from its declaration (cnn.results.metrics): the judge's
sentences, the terminal tables and report.md all print a number through fmt()."""

from __future__ import annotations

import math

from cnn.results.metrics import Metric
from cnn.results.metrics import described as lookup


def fmt(metric: str | Metric, value: float | None, sign: bool = True) -> str:
    """`value` at its metric's declared precision ('n/a' when missing). A metric declared signed
    ("+.4f": gaps) writes its sign; `sign=False` drops it (a spread, a standard error). A tiny
    negative that rounds to zero is written without its minus ("0.0000", "+0.0000"). A metric
    neither registered nor declared by a folder read here gets 4 significant figures."""
    declared = metric if isinstance(metric, Metric) else lookup(metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    try:
        if math.isnan(float(value)):
            return "n/a"
    except (TypeError, ValueError):
        return str(value)
    spec = declared.fmt if sign else declared.fmt.replace("+", "")
    text = format(float(value), spec)
    if text.startswith("-") and not text.strip("-0.,"):
        text = ("+" if "+" in spec else "") + text[1:]
    return text


def fmt_spread(metric: str | Metric, value: float | None, std: float | None = None) -> str:
    """'value ± std' where the spread is known, else the value alone."""
    text = fmt(metric, value)
    if std is None or (isinstance(std, float) and math.isnan(std)) or text == "n/a":
        return text
    return f"{text} ± {fmt(metric, std, sign=False)}"


def label(metric: str | Metric) -> str:
    """The metric's name in a sentence or a column head."""
    return (metric if isinstance(metric, Metric) else lookup(metric)).label


def change(metric: str | Metric, value: float | None, scale: str = "linear", sign: bool = True) -> str:
    """A change of the metric: a difference at its precision with its sign ("+0.0123"), a ratio on
    the log scale ("1.35x"), a difference of proportions ("+0.67"); 'n/a' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if scale == "log":
        return f"{value:.2f}x" if value < 100 else f"{value:,.0f}x"
    if scale == "proportion":
        return format(value, "+.2f" if sign else ".2f")
    declared = metric if isinstance(metric, Metric) else lookup(metric)
    spec = declared.fmt.replace("+", "")
    return format(float(value), ("+" if sign else "") + spec)
