"""Optimizer: SGD (lr 0.01), SGD + momentum, Adam, Adagrad, Adamax, RMSprop."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("optimizer")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_optimizer(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_optimizer_effects(judge_effects):
    judge_effects(AXIS.name)
