"""Model family: the notebook's MLP against its CNN."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("family")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_family(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_family_effects(judge_effects):
    judge_effects(AXIS.name)
