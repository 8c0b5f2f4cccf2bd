"""Train one config on one dataset and measure it honestly.

Honest means: train accuracy re-measured in inference mode after training and after every epoch
on a fixed training subset (the running average Keras shows during fit mixes weights from the whole
epoch and has dropout on); validation on a split held out of the training set, so the test set is
read once, at the end; the CPU other processes used while it trained recorded; the first epoch,
which includes graph tracing, timed apart from the steady epochs; validation time kept out of
the epoch time; a NaN loss recorded as `diverged`, not raised.

Every run also records how the gradient flows: at each epoch's end, on a fixed batch of training
images, each kernel's gradient norm and how far the epoch moved it (GradientProbe), without
changing the training or its clock.
"""

from __future__ import annotations

import dataclasses
import math
import platform
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import keras
import numpy as np

from cnn import runtime
from cnn.config import Config
from cnn.data import Dataset
from cnn.errors import CnnError
from cnn.evaluate import EVAL_BATCH_SIZE, measure, score_rows
from cnn.models import build_model, forward_flops
from cnn.optimizers import make_optimizer

PROBE_IMAGES = 256  # the gradient probe's batch: small beside an epoch (4,000), enough for a stable norm
# Batches the tf.data pipeline prepares ahead: one training, one ready; and no autotuning. With
# tf.data.AUTOTUNE the iterator's teardown at the end of fit waits for the autotuning thread's next
# wake-up (its period grows to 60 s): most of study-60k's runs ended fit at 82.9, 142.9 or 202.8 s,
# 60 s apart, up to a minute after the last callback (in fit_s and train_s, not in any epoch). Fixed,
# the epochs are as fast and the weights the same (AMD EPYC, 2 cores: fit 48 s, not 83, for 2 epochs).
PREFETCH_BATCHES = 2
TRAIN_FIT_IMAGES = 2000  # the per-epoch inference-mode train accuracy's subset: +/-0.005 at 0.95, ~1/20 of an epoch


@dataclass
class RunResult:
    """What one training run measured. `to_dict()` is JSON-ready; `model` stays in memory only."""

    config: Config
    dataset: str
    dataset_fingerprint: str
    n_train: int
    n_test: int
    status: str  # "ok" or "diverged"
    diverged_epoch: int | None  # 1-based epoch whose loss turned NaN/inf
    epochs_run: int
    train_accuracy: float
    train_loss: float
    test_accuracy: float
    test_loss: float
    accuracy_gap: float  # train minus test: how much it overfits
    loss_gap: float  # test minus train loss (positive when it overfits)
    first_epoch_s: float  # includes tracing and compiling the graph
    steady_epoch_s: float  # median of the later epochs (the first epoch when there is only one)
    samples_per_s: float  # training images per second in steady state (whole batches for tf.data)
    fit_s: float  # wall time of model.fit, validation and the gradient probe included
    params: int
    flops_per_sample: int  # forward pass; a training step costs about 3x
    device: str
    history: dict[str, list[float]]
    versions: dict[str, str]
    machine: dict[str, str]
    created: str
    accuracy_clock: list[list[float]] = field(default_factory=list)  # (training s, images, test accuracy)
    # The first conv kernel's gradient norm on the probe batch after the last epoch (NaN for an MLP
    # or without the probe): vanishing gradients reach the first layer first.
    grad_norm_first_conv: float = math.nan
    n_val: int = 0  # images of the validation split (0: the test set validated, as the notebook does)
    # What the machine did while fit ran (cnn.runtime.contention): this process's CPU seconds,
    # every other process's, the 1-minute load at the end, and whether others used more than a
    # quarter of a core on average, which makes the run's times those of a shared machine.
    cpu_s: float | None = None
    others_cpu_s: float | None = None
    load_avg: float | None = None
    contended: bool | None = None
    # Scores after the epochs train() was asked to snapshot ({"3": {"test_accuracy": ..., ...}}): the
    # run a variant of fewer epochs would have ended with (cnn.ablate.prefix reads it from here).
    snapshots: dict[str, dict[str, float]] = field(default_factory=dict)
    model: keras.Model | None = field(default=None, repr=False, compare=False)

    @property
    def has_steady_epoch(self) -> bool:
        """Whether a steady epoch was timed: with one epoch, steady_epoch_s is the first's (tracing included)."""
        return len(self.history.get("epoch_s", [])) >= 2

    def to_dict(self, *, measured_only: bool = False) -> dict[str, Any]:
        """The fields as JSON (NaN as null). `measured_only`: steady_epoch_s is null where no
        steady epoch was timed, as metrics_table's n/a (what `cnn train --json` prints); the suite's
        records keep the first epoch standing in, so a one-epoch variant still has a time."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        out["config"] = self.config.to_dict()
        out["config_key"] = self.config.key()
        if measured_only and not self.has_steady_epoch:
            out["steady_epoch_s"] = None
        return _finite_or_none(out)

    def metrics_table(self) -> str:
        """The figures a user reads after training, one per line."""
        one_epoch = not self.has_steady_epoch  # no steady epoch: its time would be the first's
        rows = [
            ("status", self.status + (f" at epoch {self.diverged_epoch}" if self.diverged_epoch else "")),
            ("dataset", f"{self.dataset} ({self.n_train} train / "
                        + (f"{self.n_val} validation / " if self.n_val else "") + f"{self.n_test} test)"),
            *score_rows(vars(self), train_note="re-measured in inference mode"),
            ("first epoch", f"{self.first_epoch_s:.2f} s  (includes tracing)"),
            ("steady epoch", "n/a (one epoch)" if one_epoch else f"{self.steady_epoch_s:.2f} s"),
            (
                "throughput",
                f"{self.samples_per_s:,.0f} samples/s" + ("  (first epoch, includes tracing)" if one_epoch else ""),
            ),
            ("parameters", f"{self.params:,}"),
            (
                "FLOPs/sample",
                f"{self.flops_per_sample / 1e6:.2f} M forward, "
                f"{3 * self.flops_per_sample / 1e6:.1f} M per training step",
            ),
            ("device", self.device),
        ]
        return "\n".join(f"{name:>15}: {value}" for name, value in rows)


def forget_custom_gradients() -> None:
    """Drop the gradient functions earlier runs' graphs registered with tf.custom_gradient.

    TensorFlow keeps each one in a global registry for good, and through its closure the whole
    traced graph of that run: a grid grew ~40 MB per seed-CNN run even with clear_session().
    Once a graph is traced its gradients are built into it, so dropping the entries is safe: a
    function traced again registers new ones.
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # another TensorFlow: nothing to drop, or not this way
        return
    for name in [name for name in registry if name.startswith("CustomGradient-")]:
        del registry[name]


class StopOnInterrupt(keras.callbacks.Callback):
    """Ends training after the epoch in which Ctrl-C came, even when its KeyboardInterrupt was
    swallowed. Checked per epoch, not per batch: a batch hook would sync every step and slow it."""

    def on_epoch_end(self, epoch, logs=None):
        runtime.check_interrupt()

    def on_test_end(self, logs=None):
        runtime.check_interrupt()


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch's training steps, stopping where validation starts; time spent on
    measurements inside the epoch (`exclude`) is taken out."""

    def __init__(self):
        super().__init__()
        self.train_seconds: list[float] = []
        self._start: float | None = None
        self._excluded = 0.0

    def exclude(self, seconds: float) -> None:
        self._excluded += seconds

    def elapsed(self) -> float:
        """Training seconds so far: the finished epochs and the running one."""
        running = time.perf_counter() - self._start - self._excluded if self._start is not None else 0.0
        return sum(self.train_seconds) + running

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._excluded = time.perf_counter(), 0.0

    def on_test_begin(self, logs=None):
        self._stop()  # validation inside fit: the epoch's training is done

    def on_epoch_end(self, epoch, logs=None):
        self._stop()  # no validation ran this epoch

    def _stop(self):
        if self._start is not None:
            self.train_seconds.append(time.perf_counter() - self._start - self._excluded)
            self._start = None


class AccuracyClock(keras.callbacks.Callback):
    """Test accuracy after every `every` training images and at each epoch's end, against the
    training seconds so far (its own measuring is taken out of them): time-to-accuracy finer than
    an epoch. `points` holds (seconds, images trained, test accuracy)."""

    def __init__(self, x_test, y_test, every: int, batch_size: int, epoch_samples: int, timer: EpochTimer):
        super().__init__()
        self.x_test, self.y_test, self.every = x_test, y_test, every
        self.batch_size, self.epoch_samples, self.timer = batch_size, epoch_samples, timer
        self.points: list[tuple[float, int, float]] = []
        self._epoch = 0
        self._next = every

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        in_epoch = min((batch + 1) * self.batch_size, self.epoch_samples)
        samples = self._epoch * self.epoch_samples + in_epoch
        if samples < self._next:
            return
        while self._next <= samples:
            self._next += self.every
        if in_epoch == self.epoch_samples:
            return  # the epoch's end: validation measures it next
        seconds = self.timer.elapsed()
        started = time.perf_counter()
        self.points.append((seconds, samples, self._test_accuracy()))
        self.timer.exclude(time.perf_counter() - started)

    def on_epoch_end(self, epoch, logs=None):
        if logs and "val_accuracy" in logs:
            self.points.append(
                (sum(self.timer.train_seconds), (epoch + 1) * self.epoch_samples, float(logs["val_accuracy"]))
            )

    def _test_accuracy(self) -> float:
        correct = 0
        for start in range(0, len(self.y_test), EVAL_BATCH_SIZE):
            logits = self.model.predict_on_batch(self.x_test[start:start + EVAL_BATCH_SIZE])
            correct += int((np.argmax(logits, axis=-1) == self.y_test[start:start + EVAL_BATCH_SIZE]).sum())
        return correct / len(self.y_test)


class TrainFit(keras.callbacks.Callback):
    """At each epoch's end, loss and accuracy on a fixed training subset (`x`, `y`) in inference mode
    (dropout off): `train_fit_loss` and `train_fit_accuracy` in `history`, one value per epoch. Keras'
    own `accuracy` is a running average over the epoch with dropout on, ~0.09 below test accuracy
    after the first epoch of the seed CNN, so a learning curve of it contradicts the final bars; this
    one is measured as they are. After EpochTimer in the callbacks: its time is not the epoch's."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y
        self.history: dict[str, list[float]] = {"train_fit_loss": [], "train_fit_accuracy": []}

    def on_epoch_end(self, epoch, logs=None):
        loss, accuracy = self.model.evaluate(self.x, self.y, batch_size=EVAL_BATCH_SIZE, verbose=0)
        self.history["train_fit_loss"].append(float(loss))
        self.history["train_fit_accuracy"].append(float(accuracy))


class Snapshots(keras.callbacks.Callback):
    """At the end of each epoch in `epochs`, the scores a run of that many epochs ends with
    (cnn.evaluate.measure on `data`: its training set and test set, in inference mode), so one run
    stands for every shorter one: the first k epochs of a run are a k-epoch run (same seed, same
    batches, no schedule over the total). After EpochTimer in the callbacks: its time is not the epoch's."""

    def __init__(self, data: Dataset, epochs: tuple[int, ...]):
        super().__init__()
        self.data, self.epochs = data, set(epochs)
        self.scores: dict[str, dict[str, float]] = {}

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self.scores[str(epoch + 1)] = measure(self.model, self.data)


class GradientProbe(keras.callbacks.Callback):
    """At each epoch's end, on a fixed batch (`x`, `y`): the L2 norm of the gradient of the loss (the
    batch's mean cross-entropy) for each layer's kernel (`grad_norm/<layer>`), and the norm of the kernel's change
    over the epoch over the kernel's norm (`update_ratio/<layer>`), in `history`, one value per epoch.

    It cannot change training: the forward pass is in inference mode (dropout off, batch norm on
    its running statistics, which it does not update), draws no random numbers and writes no
    variable. It runs at the epoch's end, after validation, when EpochTimer has stopped the clock;
    put it after the timer in the callbacks so that holds without validation too."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y
        self.history: dict[str, list[float]] = {}
        self._kernels: list[tuple[str, Any]] = []
        self._before: list[np.ndarray] = []
        self._norms = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf  # Keras has no backend-neutral gradient call

        self._kernels = kernels(self.model)
        self._before = [variable.numpy() for _, variable in self._kernels]
        for name, _ in self._kernels:
            self.history[f"grad_norm/{name}"] = []
            self.history[f"update_ratio/{name}"] = []
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        variables = [variable for _, variable in self._kernels]

        # A graph, traced once (the batch's shape never changes): ~3x faster per epoch than eager.
        @tf.function
        def norms(x, y):
            with tf.GradientTape() as tape:
                value = loss(y, self.model(x, training=False))
            return [tf.norm(tf.cast(g, tf.float32)) if g is not None else tf.constant(math.nan)
                    for g in tape.gradient(value, variables)]

        self._norms = norms

    def on_epoch_end(self, epoch, logs=None):
        after = [variable.numpy() for _, variable in self._kernels]
        for (name, _), norm, old, new in zip(self._kernels, self.gradient_norms(), self._before, after):
            self.history[f"grad_norm/{name}"].append(norm)
            self.history[f"update_ratio/{name}"].append(update_ratio(old, new))
        self._before = after

    def gradient_norms(self) -> list[float]:
        """Each kernel's gradient norm on the probe batch, with the weights as they are now."""
        return [float(norm) for norm in self._norms(self.x, self.y)]


def kernels(model: keras.Model) -> list[tuple[str, Any]]:
    """(name, variable) of every trainable kernel, in layer order, nested models included: the
    layer's name, or `<layer>.<weight>` for a layer with several (a separable conv's two)."""
    found = []

    def visit(layer):
        if getattr(layer, "layers", None):  # a nested Sequential or Functional model
            for inner in layer.layers:
                visit(inner)
            return
        own = [w for w in layer.trainable_weights if w.name.endswith("kernel")]
        for weight in own:
            found.append((layer.name if len(own) == 1 else f"{layer.name}.{weight.name}", weight))

    for layer in model.layers:
        visit(layer)
    return found


def update_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """|after - before| / |after|: how far one epoch moved a kernel for its size (a whole epoch's
    steps: the ~1e-3 rule of thumb is per step). 0 for a kernel that did not move; NaN for a zero
    kernel that did."""
    # In float64: a diverging run's float32 kernels square past float32's range.
    change = float(np.linalg.norm((after - before).astype(np.float64)))
    size = float(np.linalg.norm(after.astype(np.float64)))
    if change == 0:
        return 0.0
    return change / size if size > 0 else math.nan


def compile_model(config: Config, model: keras.Model) -> keras.Model:
    """`model` compiled as `config` trains it (train() and tools/profile_step.py share this): its
    optimizer at the effective learning rate, fused or not, behind a loss scaler for mixed_float16;
    cross-entropy on the logits; accuracy; steps per execution and XLA as the config says.
    Returns the same model."""
    optimizer = make_optimizer(config.optimizer, config.effective_learning_rate, fused=config.fused_update)
    if config.precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)  # float16 gradients underflow without it
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=config.steps_per_execution,
        jit_compile=config.jit_compile,
    )
    return model


def train(config: Config, dataset: Dataset, *, verbose: int | str = 0, accuracy_checks: int = 0,
          probe_images: int = PROBE_IMAGES, snapshot_epochs: tuple[int, ...] = ()) -> RunResult:
    """Train `config` on `dataset`: the validation split held out of its training set
    (`config.validation_fraction`; 0 validates on the test set, as the notebook does), then its
    training subset per `config.train_fraction`. The test set is measured once, at the end.
    Returns a RunResult; a NaN/inf loss gives status
    'diverged' rather than an exception. Raises CnnError when the config does not fit the data.
    `accuracy_checks` > 0 also measures validation accuracy that many times per epoch, at equal numbers
    of training images (RunResult.accuracy_clock), for time-to-accuracy finer than an epoch.
    `probe_images`: the first that many training images are the gradient probe's batch (GradientProbe;
    its columns join the history); 0 turns it off, which changes nothing else.
    `snapshot_epochs`: after each of these epochs, also the scores a run of that many epochs ends
    with (RunResult.snapshots; Snapshots), outside the clock."""
    if any(not 1 <= k < config.epochs for k in snapshot_epochs):
        raise CnnError(f"snapshot epochs {sorted(snapshot_epochs)} must lie in 1..{config.epochs - 1} "
                       f"(the run trains {config.epochs})")
    # Drop the previous run's graphs and layer names so a grid does not grow memory.
    keras.backend.clear_session()
    forget_custom_gradients()
    keras.utils.set_random_seed(config.seed)
    training, x_val, y_val = dataset.split_validation(config.validation_fraction)
    data = training.subset(config.train_fraction, seed=config.seed)

    model = compile_model(config, build_model(config, data.input_shape, data.num_classes))

    timer = EpochTimer()
    epoch_samples = samples_per_epoch(config, len(data.y_train))
    clock = None
    if accuracy_checks:
        every = -(-epoch_samples // accuracy_checks)
        clock = AccuracyClock(x_val, y_val, every, config.batch_size, epoch_samples, timer)
    # The first images, not a random draw: the same batch every epoch, and no draw to shift training's.
    probe = GradientProbe(data.x_train[:probe_images], data.y_train[:probe_images]) if probe_images else None
    fitted = TrainFit(data.x_train[:TRAIN_FIT_IMAGES], data.y_train[:TRAIN_FIT_IMAGES])
    snapshots = Snapshots(data, snapshot_epochs)
    before, started = runtime.cpu_seconds(), time.perf_counter()
    history = model.fit(
        **fit_inputs(config, data, (x_val, y_val)),
        epochs=config.epochs,
        callbacks=[timer, *([clock] if clock else []), *([probe] if probe else []), fitted,
                   *([snapshots] if snapshot_epochs else []), keras.callbacks.TerminateOnNaN(), StopOnInterrupt()],
        verbose=verbose,
    ).history
    fit_s = time.perf_counter() - started
    machine_load = runtime.contention(before, runtime.cpu_seconds(), fit_s)

    losses = history.get("loss", [])
    diverged_epoch = next((i + 1 for i, loss in enumerate(losses) if not math.isfinite(loss)), None)
    scores = measure(model, data)

    seconds = timer.train_seconds
    steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
    history = {key: [float(v) for v in values] for key, values in history.items()}
    history["epoch_s"] = seconds
    if probe:
        history.update({name: values[:len(losses)] for name, values in probe.history.items()})
    history.update({name: values[:len(losses)] for name, values in fitted.history.items()})
    return RunResult(
        config=config,
        dataset=dataset.name,
        dataset_fingerprint=dataset.fingerprint,
        n_train=len(data.y_train),
        n_test=len(data.y_test),
        status="diverged" if diverged_epoch else "ok",
        diverged_epoch=diverged_epoch,
        epochs_run=len(losses),
        **scores,
        first_epoch_s=seconds[0],
        steady_epoch_s=steady,
        samples_per_s=epoch_samples / steady,
        fit_s=fit_s,
        params=model.count_params(),
        flops_per_sample=forward_flops(model),
        device=device_name(),
        history=history,
        versions=library_versions(),
        machine=machine_info(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        accuracy_clock=[list(point) for point in clock.points] if clock else [],
        grad_norm_first_conv=first_conv_grad_norm(probe, model) if probe else math.nan,
        n_val=len(y_val) if config.validation_fraction else 0,
        **machine_load,
        snapshots={epoch: {**scores, "grad_norm_first_conv": first_conv_grad_norm(probe, model, int(epoch))}
                   if probe else scores for epoch, scores in snapshots.scores.items()},
        model=model,
    )


def first_conv_grad_norm(probe: GradientProbe, model: keras.Model, epoch: int | None = None) -> float:
    """The gradient norm of the first convolution's kernel after `epoch` (1-based; None: the last)
    (NaN when there is none)."""
    convs = [name for name, variable in kernels(model) if len(variable.shape) > 2]
    values = probe.history.get(f"grad_norm/{convs[0]}", []) if convs else []
    values = values if epoch is None else values[:epoch]
    return values[-1] if values else math.nan


def fit_inputs(config: Config, data: Dataset, validation: tuple | None = None) -> dict:
    """model.fit's data arguments: the notebook's numpy arrays, or an in-memory tf.data pipeline.

    The pipeline reshuffles each pass, repeats, and prefetches the next batch while the current one
    trains. It repeats because Keras makes a fresh iterator for every epoch of a finite dataset and
    the first step on it stalls ~0.5 s on this CPU in about half the epochs (a repeated dataset keeps
    one iterator and never stalls). An epoch is then ceil(n / batch) full batches: the last one
    draws from the next pass, so no batch of another shape retraces the step.
    """
    x_val, y_val = validation if validation is not None else (data.x_test, data.y_test)
    if config.pipeline == "numpy":
        return {"x": data.x_train, "y": data.y_train, "batch_size": config.batch_size,
                "validation_data": (x_val, y_val)}
    import tensorflow as tf

    train_set = (
        tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
        .shuffle(len(data.y_train), seed=config.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(config.batch_size)
        .prefetch(PREFETCH_BATCHES)
    )
    validation_set = (
        tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(EVAL_BATCH_SIZE).prefetch(PREFETCH_BATCHES)
    )
    fixed = tf.data.Options()
    fixed.autotune.enabled = False  # no autotuning thread for the teardown to wait on (PREFETCH_BATCHES)
    train_set, validation_set = train_set.with_options(fixed), validation_set.with_options(fixed)
    return {
        "x": train_set,
        "steps_per_epoch": steps_per_epoch(config, len(data.y_train)),
        "shuffle": False,  # it shuffles itself
        "validation_data": validation_set,
    }


def steps_per_epoch(config: Config, n_train: int) -> int:
    """Batches per epoch: one pass over the training set, the last batch partial in the numpy
    pipeline and filled from the next pass in the tf.data one."""
    return -(-n_train // config.batch_size)


def samples_per_epoch(config: Config, n_train: int) -> int:
    """Images one epoch trains on: n_train for numpy, whole batches for the repeating tf.data pipeline."""
    return n_train if config.pipeline == "numpy" else steps_per_epoch(config, n_train) * config.batch_size


def device_name() -> str:
    """'gpu:<name>' when TensorFlow sees a GPU (it places work there by default), else 'cpu'."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"gpu:{details.get('device_name', gpus[0].name)}"
    return "cpu"


def library_versions() -> dict[str, str]:
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def machine_info() -> dict[str, str]:
    """Where it ran: the node, processor, core count and TensorFlow's intra-op threads (0: its default, all cores)."""
    import os

    import tensorflow as tf

    return {
        "node": platform.node(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "threads": str(tf.config.threading.get_intra_op_parallelism_threads()),
    }


def _finite_or_none(value):
    """JSON has no NaN: a diverged run's NaN metrics become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value

