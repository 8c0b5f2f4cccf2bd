"""The report side of the suite: report.md with its plots (report, plots), the comparison of two
runs (compare), the TensorBoard export (tensorboard), and the names of the report's sections an
axis may ask for (sections). It reads a results folder only, through cnn.results, so any folder
can be reported.

Importing this package loads neither matplotlib nor pandas: `cnn.report.sections` is what an axis
file needs at import; the entry points below load the report when first used.
"""

_ENTRY_POINTS = ("default_results", "load_results", "write_report")


def __getattr__(name: str):
    if name in _ENTRY_POINTS:  # re-exported from cnn.report.report, loaded on first use
        from cnn.report import report

        return getattr(report, name)
    raise AttributeError(f"module 'cnn.report' has no attribute {name!r}")
