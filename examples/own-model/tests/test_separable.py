"""The project's own unit tests of its model, next to its ablation."""

import pytest
from separable import SeparableConfig

from cnn import CnnError, build_model, forward_flops


def test_width_scales_the_channels_and_the_cost():
    narrow, wide = (build_model(SeparableConfig(width=w), (28, 28, 1), 10) for w in (0.5, 2.0))
    assert wide.count_params() > 4 * narrow.count_params() / 2
    assert forward_flops(wide) > forward_flops(narrow) > 0
    assert wide.outputs[0].shape[-1] == 10


def test_a_bad_width_is_refused_with_its_field_name():
    with pytest.raises(CnnError, match="config field width=0"):
        SeparableConfig(width=0)
