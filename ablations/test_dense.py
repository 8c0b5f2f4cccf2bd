"""How wide must the dense layer be? (5000 is the notebook's)"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "dense",
    question=__doc__,
    variants=[v("128", dense_units=(128,)), v("512", dense_units=(512,)), v("5000")],
    effects=[
        Effect(
            "steady_epoch_s",
            low="128",
            high="5000",
            claim="Dense 5000 makes an epoch slower than Dense 128",
            min_effect=1.1,
        )
    ],
)
test_dense, test_dense_effects = AXIS.tests()
