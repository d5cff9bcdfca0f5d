"""Score candidate suggestion judges at comment level on every test split, side by side.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/judge_eval.py [--artifact NAME=DIR ...] [--asks] [--json out.json]

Candidates: today's shipped classifier on whole comments (the baseline) and on units, the unit
judge, and every artifact directory passed with ``--artifact NAME=DIR`` (judged per unit).
Splits and the mean F1 are those of :mod:`models.judge_eval`, plus ``demo`` (the demo sample,
never trained on). Embeddings come from the production encoder and are cached in
``.cache/embeddings/judge_<encoder digest>.npz`` (keyed by the folded-text hash).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.judge_eval import Contender, format_table
from models.unit_judge import load_unit_judge
from youasked.judge_report import baseline_and_judge, cached_encoder, judge_report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--artifact", action="append", default=[], help="NAME=DIR of a unit judge")
    parser.add_argument("--asks", action="store_true", help="also the span overlap of extracted asks")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    contenders = baseline_and_judge()
    for item in args.artifact:
        name, _, directory = item.partition("=")
        contenders.append(Contender(name, load_unit_judge(Path(directory))))
    report = judge_report(
        args.data, contenders=contenders, encoder=cached_encoder(ROOT / ".cache"), asks=args.asks
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(format_table(report["comments"]))
    if args.asks:
        print(json.dumps(report["asks"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
