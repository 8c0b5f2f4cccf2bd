"""How wide must the dense layer be? (5000 is the notebook's)"""

from cnn.ablate import Axis, Effect, Regime, v

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
        ),
        # What the notebook's 39x wider head buys: "equivalent" here would say Dense 128 does as well.
        Effect(
            "test_accuracy",
            low="128",
            high="5000",
            claim="the notebook's Dense 5000 beats Dense 128 on test accuracy",
            min_effect=0.01,
        ),
    ],
    regimes={"study-60k": Regime(epochs=5, seeds=3, why="at 60,000 images, where a wide head has the data to use "
                                                        "its weights; its accuracy and time per epoch (run alone)")},
)
test_dense, test_dense_effects = AXIS.tests()
