"""The `cnn` command line: train, evaluate, predict, summary, datasets, report.

Every user error prints one line `cnn: error: ...` and exits with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import json
import os
import sys
import textwrap
import typing
import warnings

from cnn.config import INITIALIZERS, LR_SCALINGS, PADDINGS, PIPELINES, POOL_TYPES, PRECISIONS, PRESETS, Config, preset
from cnn.data import DATASETS, DEFAULT_DATASET, DatasetWarning, load_dataset
from cnn.errors import CnnError
from cnn.parts import ACTIVATIONS, AUGMENTATIONS, MODEL_CONFIGS, MODELS, OPTIMIZERS
from cnn.runtime import quiet_native_stderr, set_threads

EXIT_USAGE = 2
DEFAULT_PRESET = "seed-cnn"  # `cnn train`'s base config when --preset is not given


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first), and an option
    is only ever its full name: with argparse's prefix matching `--lr 0.1` was taken for `--lr-scaling`
    and `--epoch 2` for `--epochs`, silently. The subcommands are Parsers too, so this holds for each."""

    commands: argparse._SubParsersAction | None = None  # set by build_parser on the top parser

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown option is refused by the subcommand it was given to, naming
        the option it probably meant (argparse leaves that to the top parser, which knows neither)."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self.commands.choices.get(getattr(namespace, "command", None)) if self.commands else None
            (command or self).error(_unrecognized(extras, command or self))
        return namespace


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, but help lines break at spaces only: not inside 'seed-cnn' or 'fashion-mnist'."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _unrecognized(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """argparse's message for arguments no option takes, with the option the first one probably meant."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    options = [option for option in parser._option_string_actions if option.startswith("--")]  # no public list
    for extra in extras:
        if extra.startswith("--"):
            given = extra.split("=", 1)[0]
            guesses = [option for option in options if option.startswith(given)] or difflib.get_close_matches(
                given, options, n=1
            )
            if guesses:
                return f"{message}; did you mean {' or '.join(guesses)}?"
    return message


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser(argv).parse_args(argv)  # imports the --import modules first
        with _one_line_warnings():
            return args.run(args) or 0
    except CnnError as error:
        print(f"cnn: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cnn: interrupted", file=sys.stderr)
        return 130


def build_parser(argv: list[str] | None = None) -> Parser:
    """The `cnn` parser. `argv` (default: sys.argv[1:]) decides `cnn train`'s config flags: the
    fields of its base config's class (base_config), so a Config subclass's own fields are flags too."""
    argv = sys.argv[1:] if argv is None else argv
    import_modules(_early_args(argv).imports)  # before the flags: they list what the modules register
    parser = Parser(prog="cnn", description="Train, evaluate and compare Keras CNN variants.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    parser.commands = commands
    imports = Parser(add_help=False)  # a parent: every command that uses models, data or presets takes it
    imports.add_argument(
        "--import", action="append", dest="imports", default=[], metavar="MODULE",
        help="a module of yours that registers models, datasets or presets, imported first: a dotted name "
        "(found from the current folder too) or a .py file; repeatable",
    )

    train = commands.add_parser(
        "train", parents=[imports], help="train a preset (or a variant of it) and print its metrics"
    )
    train.add_argument("--preset", choices=PRESETS.names(), help=f"base config (default: {DEFAULT_PRESET})")
    train.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        metavar="SPEC",
        help="dataset spec, see 'cnn datasets' (default: %(default)s)",
    )
    train.add_argument("--save", metavar="PATH", help="save the trained model (.keras, or .h5 for the legacy format)")
    train.add_argument(
        "--json", action="store_true", help="print the metrics as JSON on stdout (progress goes to stderr)"
    )
    train.add_argument(
        "--quiet", action="store_true", help="no progress while training: only the metrics at the end"
    )
    train.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="TensorFlow threads inside each op, one op at a time (default: all cores, TensorFlow's own)",
    )
    fields = train.add_argument_group("config fields (override the preset's)")
    base = _base_of(argv)
    hints = typing.get_type_hints(type(base))
    names = _field_names()
    about = DEFAULT_PRESET if base == PRESETS.get(DEFAULT_PRESET) else base.name or f"{type(base).__name__}()"
    for field in dataclasses.fields(base):
        convert, metavar = _field_parser(hints[field.name])
        default = f"default: the preset's ({about}: {_show(getattr(base, field.name))})"
        if field.name in names:  # the config checks the name; the help lists what it accepts
            metavar, default = "NAME", f"one of {', '.join(names[field.name])}; {default}"
        fields.add_argument(
            f"--{field.name.replace('_', '-')}", *FIELD_ALIASES.get(field.name, ()), dest=f"field_{field.name}",
            type=convert, metavar=metavar, help=default,
        )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate", parents=[imports], help="accuracy and loss of a saved model on a dataset"
    )
    evaluate.add_argument("model", metavar="MODEL", help="a .keras or .h5 file saved by 'cnn train --save'")
    evaluate.add_argument("--dataset", default=DEFAULT_DATASET, metavar="SPEC", help="(default: %(default)s)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict", parents=[imports], help="classify image files (PNG/JPEG) with a saved model"
    )
    predict.add_argument("model", metavar="MODEL", help="a .keras or .h5 file saved by 'cnn train --save'")
    predict.add_argument("images", metavar="IMAGE", nargs="+",
                         help="PNG or JPEG files, one character each, any size: a photo of dark ink on light paper, "
                              "or light on dark as in MNIST (made into an MNIST-like image first)")
    predict.add_argument(
        "--dataset", metavar="SPEC", help="name the classes as this dataset does (default: class numbers)"
    )
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument(
        "--show",
        metavar="DIR",
        help="write one PNG per image into DIR: the photo, the 28x28 the model saw, the top-3 probabilities",
    )
    predict.set_defaults(run=_predict)

    summary = commands.add_parser("summary", parents=[imports], help="layers, parameters and FLOPs of a preset")
    summary.add_argument("preset", metavar="PRESET", choices=PRESETS.names())
    summary.add_argument(
        "--input-shape", default="28,28,1", type=_int_tuple, metavar="H,W,C", help="(default: %(default)s)"
    )
    summary.add_argument("--classes", default=10, type=int, help="(default: %(default)s)")
    summary.set_defaults(run=_summary)

    datasets = commands.add_parser("datasets", parents=[imports], help="the dataset specs and what each holds")
    datasets.set_defaults(run=_datasets)

    report = commands.add_parser(
        "report", help="write report.md and its plots for results folders, or compare two runs"
    )
    report.add_argument(
        "results", nargs="*", metavar="RESULTS_DIR", help="(default: every results/<profile>/ with a runs.csv)"
    )
    report.add_argument(
        "--out",
        metavar="DIR",
        help="where to write (default: each results folder; with --compare, results/compare/A-vs-B/)",
    )
    report.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="changes from A to B per variant, flagged beyond the seed spread; "
        "results folders or saved .benchmarks JSON files",
    )
    report.add_argument(
        "--benchmarks",
        metavar="DIR",
        help="saved pytest-benchmark runs to take timings from where a results folder has no benchmarks.csv "
        "(default: .benchmarks when present)",
    )
    report.set_defaults(run=_report)

    plan = commands.add_parser(
        "plan", help="the seed planner: what each claim of a results folder can see, and the seeds it needs"
    )
    plan.add_argument("results", metavar="RESULTS_DIR", help="a results folder (a pilot's, or a study's)")
    plan.set_defaults(run=_plan)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def base_config(preset_name: str | None = None, model: str | None = None) -> Config:
    """The config `cnn train` starts from: the preset (default seed-cnn); with `model` naming a
    model registered with its own Config subclass, that class: its defaults, or the given preset's
    values of the fields they share (a preset's recipe on your model). Raises CnnError for an
    unknown preset."""
    base = preset(preset_name or DEFAULT_PRESET)
    own = MODEL_CONFIGS.get(model) if model in MODEL_CONFIGS else None
    if own is None or isinstance(base, own):
        return base
    if preset_name is None:
        return own()
    shared = {f.name for f in dataclasses.fields(own)} - {"model"}
    return own(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.name in shared})


def _base_of(argv: list[str]) -> Config:
    """base_config for the --preset and --model in `argv`, read before the parser exists (its flags
    depend on it); anything unknown falls back to seed-cnn, for the real parser to refuse."""
    known = _early_args(argv)
    try:
        return base_config(known.preset, known.model)
    except CnnError:
        return base_config()


def _early_args(argv: list[str]) -> argparse.Namespace:
    """--preset, --model and --import in `argv`, read before the parser exists; anything the
    early parser cannot read is left for the real parser to refuse."""
    early = _EarlyParser(add_help=False, allow_abbrev=False)
    early.add_argument("--preset")
    early.add_argument("--model")
    early.add_argument("--import", action="append", dest="imports", default=[])
    try:
        return early.parse_known_args(argv)[0]
    except CnnError:
        return argparse.Namespace(preset=None, model=None, imports=[])


def import_modules(names: list[str]) -> None:
    """Import each of `names` for the models, datasets and presets it registers: a dotted module
    name, found from the current folder as `python -m` finds it, or a .py file, imported by its
    name from its folder (so `import separable` elsewhere is the same module, registered once).
    Raises CnnError in one line for a module that cannot be found or fails while importing."""
    import importlib
    from pathlib import Path

    if names:
        _start_tensorflow()  # a module that registers models imports Keras: TensorFlow's log stays quiet
    for name in names:
        module, folder = name, os.getcwd()
        if name.endswith(".py"):
            path = Path(name)
            if not path.is_file():
                raise CnnError(f"--import {name}: no such file; give a .py file or a dotted module name")
            module, folder = path.stem, str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name is not None and module.startswith(error.name):
                raise CnnError(
                    f"--import {name}: no module named {error.name!r} in "
                    f"{'its folder' if name.endswith('.py') else 'the current folder'} or the installed packages; "
                    "give a dotted module name or a .py file"
                ) from None
            raise CnnError(f"--import {name}: it imports {error.name!r}, which is not installed") from None
        except CnnError as error:
            raise CnnError(f"--import {name}: {error}") from None
        except Exception as error:  # the module's own bug, in one line: its type and message
            first = (str(error).strip().splitlines() or [""])[0]
            raise CnnError(f"--import {name} failed: {type(error).__name__}{': ' + first if first else ''}") from None


def _start_tensorflow() -> None:
    """Import TensorFlow with its native start-up log (CPU flags, CUDA probing) sent to /dev/null.
    Only the commands that build, train or load a model call it: help, argument errors, `cnn
    datasets` and `cnn report` start in well under a second without TensorFlow's ~7 s."""
    with quiet_native_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # the CUDA probe logs natively too: do it here, quietly


class _EarlyParser(argparse.ArgumentParser):
    def error(self, message):  # quietly: the real parser reports it
        raise CnnError(message)


def _train(args) -> None:
    _start_tensorflow()  # before the imports below: each starts TensorFlow
    from cnn.saving import check_save_path, save_model
    from cnn.train import train

    if args.threads:
        set_threads(args.threads)
    overrides = {k[len("field_"):]: v for k, v in vars(args).items() if k.startswith("field_") and v is not None}
    if "learning_rate" in overrides and overrides["learning_rate"] == "default":
        overrides["learning_rate"] = None
    config = dataclasses.replace(base_config(args.preset, overrides.get("model")), **overrides)
    dataset = load_dataset(args.dataset)
    if args.save:
        check_save_path(args.save)
    progress = sys.stderr if args.json else sys.stdout
    # Keras' progress bar on a terminal; in a log (a pipe, a file) its plain lines, an epoch each,
    # as the bar's redraws would fill it with escape codes.
    verbose = 0 if args.quiet else 1 if progress.isatty() else 2
    with contextlib.redirect_stdout(progress):
        result = train(config, dataset, verbose=verbose)
    record = result.to_dict(measured_only=True)
    if args.save:  # with what it was trained on, so `cnn evaluate` can tell when the data is another
        save_model(result.model, args.save, metadata={**record, "class_names": list(dataset.class_names)})
    if args.json:
        out = record
        out["saved"] = args.save
        print(json.dumps(out, indent=2))
    else:
        print(f"\n{config.name} on {dataset.name}\n{result.metrics_table()}")
        if args.save:
            print(f"{'saved':>15}: {args.save}")


def _evaluate(args) -> None:
    _start_tensorflow()  # before the imports below: each starts TensorFlow
    from cnn.evaluate import evaluate, same_dataset, score_rows
    from cnn.saving import load_metadata, load_model

    model = load_model(args.model)
    trained_on = load_metadata(args.model)  # empty for a model saved without it
    dataset = load_dataset(args.dataset)
    scores = evaluate(model, dataset, trained_on)  # warns when the model was trained on other data
    same = same_dataset(trained_on, dataset)
    if args.json:
        print(json.dumps({"model": args.model, "dataset": dataset.name, "trained_on": trained_on.get("dataset"),
                          "same_dataset": same, **scores}, indent=2))
        return
    print(f"{args.model} on {dataset.name} ({len(dataset.y_train)} train / {len(dataset.y_test)} test)")
    origin = trained_on.get("dataset", "unknown (not saved with the model)") + (
        "  (other data)" if same is False else ""
    )
    for name, value in [("trained on", origin), *score_rows(scores)]:
        print(f"{name:>15}: {value}")


def _predict(args) -> None:
    _start_tensorflow()  # before the imports below: each starts TensorFlow
    from cnn.predict import predict_images, show, show_folder
    from cnn.saving import load_model

    if args.show:
        show_folder(args.show)
    model = load_model(args.model)
    names = load_dataset(args.dataset).class_names if args.dataset else None
    # A folder's other files (labels.csv beside the photos) are skipped, a line each.
    predictions = predict_images(
        model, args.images, names, skip=lambda path, reason: print(f"cnn: skipped: {reason}", file=sys.stderr)
    )
    pictures = show(predictions, args.show, names) if args.show else []
    if args.json:
        rows = [{"image": p.source, "label": p.label, "class": p.class_name, "confidence": p.confidence,
                 "probabilities": [round(float(v), 6) for v in p.probabilities],
                 "digits_found": p.digit.digits if p.digit else None, "notes": p.notes,
                 "picture": str(pictures[i]) if pictures else None} for i, p in enumerate(predictions)]
        print(json.dumps(rows, indent=2))
        return
    for p in predictions:
        runner_up = int(p.probabilities.argsort()[-2])
        notes = "".join(f"  [{note}]" for note in p.notes)
        print(
            f"{p.source}: {p.class_name}  (p={p.confidence:.3f}; "
            f"next: {runner_up} p={p.probabilities[runner_up]:.3f}){notes}"
        )
    if pictures:
        print(f"wrote {len(pictures)} picture{'s' if len(pictures) > 1 else ''} to {args.show}")


def _summary(args) -> None:
    _start_tensorflow()  # before the imports below: each starts TensorFlow
    from cnn.models import build_model, forward_flops

    config = preset(args.preset)
    model = build_model(config, args.input_shape, args.classes)
    model.summary()
    flops = forward_flops(model)
    print(f"FLOPs per sample: {flops / 1e6:.2f} M forward, about {3 * flops / 1e6:.1f} M per training step")
    print("config: " + json.dumps(config.to_dict()))


def _datasets(args) -> None:
    for name in DATASETS.names():
        marker = " (default)" if name == DEFAULT_DATASET else ""
        print(f"{name:<15} {DATASETS.get(name).description}{marker}")
    print(f"{'npz:PATH':<15} your own arrays: an .npz with x_train, y_train, x_test, y_test (optional class_names)")


def _report(args) -> None:
    from pathlib import Path

    from cnn.results.schema import check_results_folder

    for folder in args.results:  # a wrong folder fails before pandas and matplotlib load
        check_results_folder(folder)
    from cnn.report import report

    if args.compare:
        from cnn.report.compare import write_compare

        if args.results:
            raise CnnError("give either RESULTS_DIR or --compare A B, not both")
        a, b = (Path(p) for p in args.compare)
        text, written = write_compare(a, b, Path(args.out) if args.out else None)
        print(text)
        for path in written:
            print(f"wrote {path}")
        return
    benchmarks = Path(args.benchmarks) if args.benchmarks else report.DEFAULT_BENCHMARKS
    if args.benchmarks and not benchmarks.is_dir():
        raise CnnError(
            f"--benchmarks {benchmarks} is not a folder; give the folder pytest-benchmark saves to (.benchmarks)"
        )
    folders = [Path(p) for p in args.results] or report.default_results()
    for folder in folders:
        out = Path(args.out) if args.out else None
        if out is not None and len(folders) > 1:
            out = out / folder.name  # several folders into one --out: a subfolder each, so no report overwrites another
        # Progress on stderr, a line a part (the standard report takes a while); stdout says what was written.
        path = report.write_report(
            folder, out, benchmarks, progress=lambda line: print(line, file=sys.stderr, flush=True)
        )
        print(f"wrote {path}")


def _plan(args) -> None:
    from cnn.results.schema import check_results_folder

    check_results_folder(args.results)  # a wrong folder fails before pandas loads
    from cnn.report.report import baseline_spreads, load_results
    from cnn.results.judge import judge_axes
    from cnn.results.planner import plan_markdown

    results = load_results(args.results)
    print(plan_markdown(judge_axes(results.axis_records, results.runs, baseline_spreads(results))))


FIELD_ALIASES = {"learning_rate": ("--lr",)}  # the short name users type (it used to mean --lr-scaling)


def _field_names() -> dict[str, list[str]]:
    """The allowed values of each config field that is a name, from the registries and tuples
    Config checks them against."""
    return {
        "model": MODELS.names(),
        "activation": ACTIVATIONS.names(),
        "initializer": list(INITIALIZERS),
        "pool_type": list(POOL_TYPES),
        "pool_padding": list(PADDINGS),
        "conv_padding": list(PADDINGS),
        "optimizer": OPTIMIZERS.names(),
        "precision": list(PRECISIONS),
        "pipeline": list(PIPELINES),
        "lr_scaling": list(LR_SCALINGS),
        "augmentation": AUGMENTATIONS.names(),
    }


@contextlib.contextmanager
def _one_line_warnings():
    """The library's DatasetWarnings as one line `cnn: warning: ...` on stderr, each time they occur;
    other warnings as Python shows them."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", DatasetWarning)
        show = warnings.showwarning

        def one_line(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, DatasetWarning):
                print(f"cnn: warning: {message}", file=sys.stderr)
            else:
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = one_line
        yield


def _field_parser(hint):
    """An argparse converter and metavar for a Config field's type."""
    origin = typing.get_origin(hint)
    if origin is tuple and typing.get_args(hint)[:1] == (str,):  # names: --augmentation rotation,shift

        def names(text: str) -> tuple[str, ...]:
            parts = tuple(part.strip() for part in text.split(",") if part.strip())
            return () if parts == ("none",) else parts

        return names, "NAME,NAME,..."
    if origin is tuple:
        return _int_tuple, "N,N,..."
    if hint is bool:
        return _bool, "true|false"
    if hint in (int, float, str):
        return hint, hint.__name__.upper()
    args = typing.get_args(hint)
    if float in args:  # float | None: a number, or 'default'
        return _float_or_default, "FLOAT|default"
    return str, "VALUE"


def _bool(text: str) -> bool:
    value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(text.strip().lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


def _int_tuple(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integers (e.g. 32,64,64; 'none' for empty)"
        ) from None


def _float_or_default(text: str):
    if text == "default":
        return "default"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (or 'default')") from None


def _show(value) -> str:
    """A default as the user would type it."""
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:  # learning_rate, the one optional field
        return "default, the optimizer's own rate"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
