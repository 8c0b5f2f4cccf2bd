"""What this project adds to the suite: its model (imported: it registers itself), its data and
its profile. The suite itself comes from the installed package (the `cnn_ablate` pytest plugin)."""

import separable  # noqa: F401  (registers the "separable" model)

from cnn import Dataset, load_dataset, register_dataset
from cnn.ablate import PROFILES, Profile


@register_dataset("digits-1k", "1,000 training and 500 test digits of the embedded MNIST set")
def digits_1k() -> Dataset:
    digits = load_dataset("mnist-5k")
    train = digits.subset(1000, seed=0)  # stratified: 100 of each digit
    return Dataset.from_arrays("digits-1k", train.x_train, train.y_train, digits.x_test[:500], digits.y_test[:500],
                               digits.class_names)


PROFILES.add("tiny", Profile("tiny", "digits-1k", 3, 2, "1,000 digits, 3 epochs, 2 seeds: seconds"))
