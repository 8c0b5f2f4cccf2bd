"""How wide must a depthwise-separable CNN be? (width multiplies every block's channels)"""

from separable import SeparableConfig

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "width", question=__doc__,
    variants=[v("0.5", width=0.5), v("1"), v("2", width=2.0)],
    effects=[Effect("params", low="0.5", high="2", claim="width 2 has more weights than width 0.5"),
             Effect("test_accuracy", low="0.5", high="2", claim="width 2 beats width 0.5",
                    min_effect=0.01)],  # the smallest change that matters, fixed now
    base=SeparableConfig(),
)
test_width, test_width_effects = AXIS.tests()
