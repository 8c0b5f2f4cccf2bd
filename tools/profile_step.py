"""Where a training step's time goes: TensorFlow's profiler over steady-state steps, summed by kind.

    python tools/profile_step.py fast-cnn --dataset fashion-mnist      (or: python -m tools.profile_step ...)

Traces `steps` training steps of a preset (after a warm-up fit that traces the graph), reads the
profiler's XSpace (the .xplane.pb TensorBoard's profile plugin reads) and sums the time of every
TensorFlow op that ran on the compute threads into kinds: the optimizer's update, dense matmuls,
each direction of the convolutions, the mixed-precision casts, ... The kinds add up to the compute
threads' busy time, which can exceed the wall time (ops run on several threads at once) or fall
short of it (threads wait on each other): both are printed.

A tool, not the product: it lives outside the package, and compiles the model with train()'s own
recipe (cnn.train.compile_model), so the step it profiles is the step a run trains.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script (python tools/profile_step.py): profile this checkout's cnn
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnn.config import Config, preset  # noqa: E402  (after the path above)
from cnn.data import Dataset, load_dataset  # noqa: E402
from cnn.errors import CnnError  # noqa: E402

# An op's kind by its name and type, first match wins: (kind, test on (op path, op type)).
KINDS = (
    ("optimizer update", lambda path, op: "/adam/" in path.lower() or "/sgd/" in path.lower() or "ApplyAdam" in op),
    ("mixed-precision casts", lambda path, op: op == "Cast"),
    ("conv backward (filter)", lambda path, op: "Conv2DBackpropFilter" in op),
    ("conv backward (input)", lambda path, op: "Conv2DBackpropInput" in op),
    ("conv forward", lambda path, op: "Conv2D" in op),
    ("dense matmul (forward and backward)", lambda path, op: "MatMul" in op),
    ("pooling (forward and backward)", lambda path, op: "Pool" in op),
    ("activation and its gradient", lambda path, op: op.startswith("Relu") or "Sigmoid" in op or "Tanh" in op),
    ("bias gradient", lambda path, op: op == "BiasAddGrad"),
    ("loss and metrics", lambda path, op: "SoftmaxCrossEntropy" in op or op in ("ArgMax", "Equal", "Sum", "Mean")),
)


@dataclass(frozen=True)
class StepProfile:
    config: Config
    steps: int
    wall_ms: float  # per step, measured apart from the traced fit (the profiler slows a step)
    busy_ms: dict[str, float]  # per step, compute threads' time by kind

    @property
    def samples_per_s(self) -> float:
        return self.config.batch_size / self.wall_ms * 1000

    def table(self) -> str:
        busy = sum(self.busy_ms.values())
        lines = [f"{self.config.name}: {self.wall_ms:.1f} ms a step at batch {self.config.batch_size} "
                 f"({self.samples_per_s:,.0f} samples/s); compute threads busy {busy:.1f} ms a step over all threads",
                 f"  {'ms/step':>8} {'share':>6}  kind"]
        for kind, ms in sorted(self.busy_ms.items(), key=lambda item: -item[1]):
            lines.append(f"  {ms:8.2f} {ms / busy:6.1%}  {kind}")
        return "\n".join(lines)


def kind_of(path: str, op: str) -> str:
    return next((kind for kind, test in KINDS if test(path, op)), f"other: {op}")


def profile_step(config: Config, dataset: Dataset, steps: int = 40) -> StepProfile:
    """Profile `steps` steady training steps of `config` on `dataset` (a warm-up fit first)."""
    import keras
    import tensorflow as tf

    from cnn.models import build_model
    from cnn.train import compile_model, fit_inputs, forget_custom_gradients

    # As train() starts a run: a fresh session, seeded; the layers take their dtype from the config.
    keras.backend.clear_session()
    forget_custom_gradients()
    keras.utils.set_random_seed(config.seed)
    model = compile_model(config, build_model(config, dataset.input_shape, dataset.num_classes))
    inputs = fit_inputs(config, dataset)
    inputs.pop("validation_data")
    if "steps_per_epoch" in inputs:
        inputs["steps_per_epoch"] = steps
    else:
        inputs["x"], inputs["y"] = inputs["x"][: steps * config.batch_size], inputs["y"][: steps * config.batch_size]
    model.fit(**inputs, epochs=1, verbose=0)  # traces the step
    started = time.perf_counter()
    model.fit(**inputs, epochs=1, verbose=0)
    wall_ms = (time.perf_counter() - started) / steps * 1000
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            model.fit(**inputs, epochs=1, verbose=0)
        finally:
            tf.profiler.experimental.stop()
        busy = op_times(next(Path(logdir).rglob("*.xplane.pb")))
    return StepProfile(config, steps, wall_ms, {kind: ms / steps for kind, ms in busy.items()})


def op_times(xplane: Path) -> dict[str, float]:
    """Milliseconds by kind of every op event on the host's compute threads in a profiler XSpace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(xplane.read_bytes())
    totals: dict[str, float] = collections.Counter()
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):  # the executor's threads; tf.data and Python apart
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name:  # the executor's own spans (ExecutorState::Process) contain the ops
                    continue
                path, op = name.rsplit(":", 1)
                totals[kind_of(path, op)] += event.duration_ps / 1e9
    return dict(totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/profile_step.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("presets", nargs="+", help="presets to profile, e.g. seed-cnn fast-cnn")
    parser.add_argument("--dataset", default="fashion-mnist", help="dataset spec (default: fashion-mnist)")
    parser.add_argument("--steps", type=int, default=40, help="steps traced (default: 40)")
    args = parser.parse_args(argv)
    try:
        configs = [preset(name) for name in args.presets]  # an unknown name fails before any data loads
        dataset = load_dataset(args.dataset)
        for config in configs:
            print(profile_step(config, dataset, args.steps).table(), flush=True)
    except CnnError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
