"""Does dropout after the dense layer narrow the overfitting gap, and at what cost?"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "dropout",
    question=__doc__,
    variants=[v("0"), v("0.2", dropout=0.2), v("0.5", dropout=0.5)],
    effects=[
        Effect(
            "accuracy_gap",
            low="0.5",
            high="0",
            claim="dropout 0.5 narrows the train-test accuracy gap",
            min_effect=0.005,
        ),
        Effect("loss_gap", low="0.5", high="0", claim="dropout 0.5 narrows the train-test loss gap", min_effect=0.01),
    ],
)
test_dropout, test_dropout_effects = AXIS.tests()
