"""Which optimizer, at its usual learning rate? (SGD at the notebook's 0.01)"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "optimizer",
    question=__doc__,
    variants=[
        v("sgd", optimizer="sgd"),
        v("momentum", optimizer="momentum"),
        v("adam"),
        v("adagrad", optimizer="adagrad"),
        v("adamax", optimizer="adamax"),
        v("rmsprop", optimizer="rmsprop"),
    ],
    effects=[
        Effect(
            "test_accuracy",
            low="sgd",
            high="adam",
            claim="Adam beats plain SGD (lr 0.01) in the same epochs",
            min_effect=0.01,
        )
    ],
)
test_optimizer, test_optimizer_effects = AXIS.tests()
