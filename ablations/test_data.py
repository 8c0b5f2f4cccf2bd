"""Training data size: 10%, 25%, 50%, 100% of the training set (stratified)."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("data")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_data(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_data_effects(judge_effects):
    judge_effects(AXIS.name)
