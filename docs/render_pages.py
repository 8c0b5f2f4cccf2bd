"""Render the docs pages whose numbers come from the committed results: docs/src/<page>.md ->
docs/<page>.md, each `{{...}}` replaced by a value read from results/<profile>/ (checked by
tests/test_docs.py: a page that differs from what its CSVs give fails). Run `python docs/render_pages.py`
after a new committed run.

A placeholder is `{{PROFILE KIND ARGS... [FORMAT]}}`, FORMAT a Python format spec (default .4f):

    {{standard mean activation/relu test_accuracy}}   summary.csv: the mean over seeds
    {{standard pm activation/relu test_accuracy}}     mean +/- std, both in FORMAT
    {{standard n activation/relu}}                    the number of seeds
    {{full seed speed/naive 0 test_accuracy}}         runs.csv: one seed's value
    {{full first speed/naive 0 0.9 .1f}}              runs.csv's accuracy clock: the training seconds
                                                      at which seed 0 first reached 0.9 ("never")
    {{full best speed/naive 1}}                       the best test accuracy on that clock
    {{full end speed/naive 1 .1f}}                    its last training second
    {{full speed fast samples_per_s ,.0f}}            speed.csv: a variant's column
    {{full run wall_s .0f}}                           run.json: a top-level value
    {{full verdict dropout 0}}                        effects.csv: the axis' claim 0 (in declaration
                                                      order): verdict, estimate, 95% interval, adjusted p, n
    {{full ratio layers/3-batchnorm layers/3 steady_epoch_s .1f}}   summary.csv: mean of one over the other
    {{full family}}, {{full count shown}}             effects.csv: the family's size; claims with a verdict
"""

from __future__ import annotations

import csv
import json
import re
import sys
from functools import cache
from pathlib import Path

from cnn.results.format import change as format_change

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("findings", "performance")
PLACEHOLDER = re.compile(r"\{\{(.+?)\}\}")


@cache
def rows(results: Path, profile: str, name: str) -> tuple[dict, ...]:
    with open(results / profile / f"{name}.csv", newline="") as f:
        return tuple(csv.DictReader(f))


def one(found: list[dict], what: str) -> dict:
    if len(found) != 1:
        raise KeyError(f"{what}: {len(found)} rows in the CSV, expected 1")
    return found[0]


def summary(results, profile, key):
    axis, variant = key.split("/", 1)
    return one([r for r in rows(results, profile, "summary") if (r["axis"], r["variant"]) == (axis, variant)],
               f"{profile} summary {key}")


def run_row(results, profile, key, seed):
    axis, variant = key.split("/", 1)
    return one([r for r in rows(results, profile, "runs")
                if (r["axis"], r["variant"], r["seed"]) == (axis, variant, seed)], f"{profile} runs {key} seed {seed}")


def curve(results, profile, key, column) -> dict[int, float]:
    """histories.csv's `column` for a variant, the mean over its seeds per epoch."""
    axis, variant = key.split("/", 1)
    by_epoch: dict[int, list[float]] = {}
    for r in rows(results, profile, "histories"):
        if (r["axis"], r["variant"]) == (axis, variant) and r[column]:
            by_epoch.setdefault(int(r["epoch"]), []).append(float(r[column]))
    if not by_epoch:
        raise KeyError(f"{profile} histories {key}: no {column}")
    return {epoch: sum(values) / len(values) for epoch, values in sorted(by_epoch.items())}


def clock(results, profile, key, seed) -> list:
    return json.loads(run_row(results, profile, key, seed)["accuracy_clock"] or "[]")


def value(results: Path, spec: str) -> str:
    words = spec.split()
    profile, kind, *args = words
    known_args = {"mean": 2, "pm": 2, "n": 1, "seed": 3, "first": 3, "best": 2, "end": 2, "speed": 2, "run": 1,
                  "verdict": 2, "ratio": 3, "family": 0, "count": 1, "curve": 2, "chosen": 1}
    if kind not in known_args:
        raise KeyError(f"{{{{{spec}}}}}: unknown kind {kind!r}; known: {', '.join(known_args)}")
    fmt = args[known_args[kind]] if len(args) > known_args[kind] else None
    args = args[:known_args[kind]]
    if kind == "verdict":
        return verdict(results, profile, args[0], int(args[1]))
    if kind == "curve":  # where the mean curve over seeds is lowest, and where it ends
        means = curve(results, profile, args[0], args[1])
        low = min(means, key=means.get)
        last = max(means)
        fmt = fmt or ".4f"
        return f"lowest at epoch {low} ({means[low]:{fmt}}), {means[last]:{fmt}} at epoch {last}"
    if kind == "chosen":  # what a variant chose on the validation split (runs.csv `chosen`, e.g. learning_rate=0.03)
        found = {r["chosen"] for r in rows(results, profile, "runs") if f"{r['axis']}/{r['variant']}" == args[0]}
        if len(found) != 1 or not next(iter(found)):
            raise KeyError(f"{profile} runs {args[0]}: chosen is {sorted(found)}, expected one value")
        return next(iter(found)).split("=", 1)[-1]
    if kind == "family":  # the claims judged together (Holm's m)
        return str(max(int(r["family"]) for r in rows(results, profile, "effects")))
    if kind == "count":  # how many claims have this verdict
        return str(sum(r["verdict"] == args[0].replace("_", " ") for r in rows(results, profile, "effects")))
    if kind == "run":  # counts and names as they are, unless a format is given
        data = json.loads((results / profile / "run.json").read_text())[args[0]]
        return format(data, fmt) if fmt else str(data)
    fmt = fmt or ".4f"
    if kind == "mean":
        return format(float(summary(results, profile, args[0])[f"{args[1]}_mean"]), fmt)
    if kind == "pm":
        row = summary(results, profile, args[0])
        return f"{float(row[f'{args[1]}_mean']):{fmt}} +/- {float(row[f'{args[1]}_std']):{fmt.lstrip('+')}}"
    if kind == "n":
        return summary(results, profile, args[0])["n"]
    if kind == "ratio":
        top, bottom = (float(summary(results, profile, key)[f"{args[2]}_mean"]) for key in args[:2])
        return format(top / bottom, fmt)
    if kind == "seed":
        return format(float(run_row(results, profile, args[0], args[1])[args[2]]), fmt)
    if kind == "first":
        hits = [s for s, _, accuracy in clock(results, profile, args[0], args[1]) if accuracy >= float(args[2])]
        return format(hits[0], fmt) if hits else "never"
    if kind == "best":
        return format(max(a for _, _, a in clock(results, profile, args[0], args[1])), fmt)
    if kind == "end":
        return format(clock(results, profile, args[0], args[1])[-1][0], fmt)
    row = one([r for r in rows(results, profile, "speed") if r["variant"] == args[0]], f"{profile} speed {args[0]}")
    return format(float(row[args[1]]), fmt)


def verdict(results: Path, profile: str, axis: str, index: int) -> str:
    """The claim's verdict in bold, then its estimate, 95% interval, Holm-adjusted p and n, as
    effects.csv has them (the judge's own words for the change: a ratio on the log scale)."""
    claims = [r for r in rows(results, profile, "effects") if r["axis"] == axis]
    if index >= len(claims):
        raise KeyError(f"{profile} effects: {axis} has {len(claims)} claims, not {index + 1}")
    r = claims[index]
    if not r["test"]:
        return f"**{r['verdict']}**"
    if r["test"].startswith("exact"):
        return f"**{r['verdict']}** (exact)"

    def change(x: str) -> str:  # as the report writes it (cnn.results.format owns the format)
        return format_change(r["metric"], float(x), r["scale"] or "linear")

    needs = ""
    if r["verdict"] == "undetermined" and r.get("seeds_needed"):  # what it would take, as the planner says
        needs = f"; {int(float(r['seeds_needed']))} seeds a side would see its smallest change that matters"
    return (f"**{r['verdict']}**, {change(r['estimate'])} [{change(r['ci_low'])}, {change(r['ci_high'])}], "
            f"p_adj {float(r['p_adj']):.2g}, n {r['n_high']} vs {r['n_low']}{needs}")


def render(template: str, results: Path = ROOT / "results") -> str:
    return PLACEHOLDER.sub(lambda m: value(results, m.group(1).strip()), template)


def page(name: str, results: Path = ROOT / "results") -> str:
    source = ROOT / "docs" / "src" / f"{name}.md"
    header = (f"<!-- Generated by `python docs/render_pages.py` from docs/src/{name}.md and the committed"
              " results/*/*.csv: edit the source, not this page. -->\n")
    return header + render(source.read_text(), results)


def main() -> int:
    for name in PAGES:
        path = ROOT / "docs" / f"{name}.md"
        path.write_text(page(name))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
