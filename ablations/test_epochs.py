"""How many epochs until accuracy stops paying, and when does overfitting start?"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "epochs",
    question=__doc__,
    # The 1- and 3-epoch points are read from the 10-epoch run: its first epochs are those runs.
    variants=[v("1", epochs=1, prefix_of="10"), v("3", epochs=3, prefix_of="10"), v("10", epochs=10)],
    effects=[
        Effect(
            "train_accuracy", low="1", high="10", claim="10 epochs fit the training set better than 1", min_effect=0.01
        ),
        Effect("test_accuracy", low="1", high="10", claim="10 epochs beat 1 on test accuracy", min_effect=0.01),
        # Overfitting sets in: the model keeps fitting its training set while its test loss turns up.
        Effect("test_loss", low="3", high="10", claim="the test loss is higher after 10 epochs than after 3",
               min_effect=0.01),
        Effect("accuracy_gap", low="3", high="10", claim="10 epochs overfit more than 3 (a wider train-test gap)",
               min_effect=0.005),
    ],
)
test_epochs, test_epochs_effects = AXIS.tests()
