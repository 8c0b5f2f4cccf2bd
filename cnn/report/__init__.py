"""The report side of the suite: results as pandas tables (tables), the one judge of effects
(effects), the speed figures (speed), report.md with its plots (report, plots) and the comparison
of two runs (compare). It reads a results folder only, so any folder can be reported."""

from cnn.report.report import (  # noqa: F401  (the entry points, re-exported)
    default_results,
    load_results,
    write_report,
)
