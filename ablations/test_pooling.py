"""Pooling size, type and padding: what do they do to accuracy and speed? (on Dense 128: without
pooling the notebook's Dense 5000 would hold 155M weights and train ~30x slower)"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "pooling",
    question=__doc__,
    variants=[
        v("none", pool_size=0),
        v("max2-valid"),
        v("max2-same", pool_padding="same"),
        v("max3-same", pool_size=3, pool_padding="same"),
        v("avg2-valid", pool_type="average"),
    ],
    effects=[
        Effect(
            "steady_epoch_s",
            low="max2-valid",
            high="none",
            claim="no pooling makes an epoch slower than 2x2 max pooling", min_effect=1.1)
    ],
    base_changes={"dense_units": (128,)},
)
test_pooling, test_pooling_effects = AXIS.tests()
