"""Initializer, under sigmoid and under ReLU; zeros is expected not to learn."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("initializer")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_initializer(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_initializer_effects(judge_effects):
    judge_effects(AXIS.name)
