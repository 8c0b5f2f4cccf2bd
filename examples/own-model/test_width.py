"""How wide must a depthwise-separable CNN be? (width multiplies every block's channels)"""

from separable import SeparableConfig

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "width", question=__doc__,
    variants=[v("0.5", width=0.5), v("1"), v("2", width=2.0)],
    effects=[Effect("params", low="0.5", high="2", claim="width 2 has more weights than width 0.5")],
    base=SeparableConfig(),
)
test_width, test_width_effects = AXIS.tests()
