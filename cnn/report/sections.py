"""The report sections an axis may ask for by name, `Axis(..., sections=("speed",))`: each is
drawn after the axis' own section in report.md (cnn.report.report registers the drawing code under
these names). Light on purpose, no matplotlib and no Keras, so an axis is checked at import.
"""

from __future__ import annotations

from cnn.registry import Registry

# name -> what it adds to the report, and the metrics it reports (they are not repeated as
# columns of the axis' table).
SECTION_NAMES: Registry[tuple[str, tuple[str, ...]]] = Registry("report section")
SECTION_NAMES.add(
    "speed", ("the speed figures against the axis' reference variant (speed.csv) and time to accuracy", ())
)
SECTION_NAMES.add("gradients", ("per-layer gradient norms per epoch (histories.csv's grad_norm/<layer>)", ()))
SECTION_NAMES.add("data_size", ("test accuracy against the number of training images", ()))
SECTION_NAMES.add(
    "photos", ("photo accuracy and seed 0's photos read wrong (the photos evaluation)", ("photo_accuracy",))
)


def section_names() -> list[str]:
    """Every section name an axis may ask for."""
    return SECTION_NAMES.names()


def check_sections(names) -> None:
    """Raises CnnError naming the known sections when one of `names` is not one."""
    for name in names:
        SECTION_NAMES.get(name)


def section_metrics(names) -> set[str]:
    """The metrics the sections `names` report themselves."""
    return {metric for name in names if name in SECTION_NAMES for metric in SECTION_NAMES.get(name)[1]}
