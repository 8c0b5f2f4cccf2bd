"""Dense width: 128, 512 or the notebook's 5000 units before the logits."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("dense")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_dense(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_dense_effects(judge_effects):
    judge_effects(AXIS.name)
