"""Judge committed results folders again with the axes' effects as ablations/ declares them now,
from their CSVs (no training), then re-render each report:

    python tools/rejudge.py results/standard results/full

Each recorded axis whose file ablations/test_<axis>.py exists takes that file's effects (with their
min_effect, and any claim added since); runs.csv gains the two-state `learned` column where it
lacks it; effects.csv, summary.csv and metrics.json are written again (cnn.results.store.rejudge);
then report.md and its plots (cnn.report.write_report). The baseline's spreads are not used: a
committed study has its own seeds.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared_effects(folder: Path) -> dict[str, list[dict]]:
    """Axis name -> its effects as the axis file declares them, for each file that exists."""
    from cnn.results.store import ResultsFolder

    effects = {}
    for record in ResultsFolder(folder).axes():
        path = ROOT / "ablations" / f"test_{record['name']}.py"
        if not path.exists():
            continue
        spec = importlib.util.spec_from_file_location(f"ablation_{record['name']}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        effects[record["name"]] = [effect.to_dict() for effect in module.AXIS.effects]
    return effects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    from cnn.data import load_dataset
    from cnn.errors import CnnError
    from cnn.report import write_report
    from cnn.results.store import ResultsFolder, rejudge

    for folder in args.folders:
        try:
            dataset = load_dataset(ResultsFolder(folder).info().get("dataset") or "mnist-5k")
            judged = rejudge(folder, declared_effects(folder), chance=1 / dataset.num_classes)
            write_report(folder, benchmarks=None)
        except CnnError as error:
            print(f"rejudge: {error}", file=sys.stderr)
            return 1
        counts = Counter(j.verdict for j in judged)
        print(f"{folder}: {len(judged)} claims, family {max((j.family for j in judged), default=0)}: "
              + ", ".join(f"{n} {verdict}" for verdict, n in counts.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
