"""Activation: what does the non-linearity do? none = a linear network; scaled_tanh = the custom one."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("activation")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_activation(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_activation_effects(judge_effects):
    judge_effects(AXIS.name)
