"""Train the unit-judge options on training data only and score them beside today's classifier.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/judge_options.py [--option NAME ...] [--json out.json]
        [--source NAME ... [--research]] [--compare NAME=ARTIFACT_DIR ...]

Options (all judge units; the threshold is chosen on grouped out-of-fold comment scores of the
training data, never on a test split):

* ``lr-units``: today's regression and features, trained on units of the CLAP and Maalej
  training splits (multiple-instance: a positive review's best unit is its positive);
* ``lr-units+hard``: the same plus span-labelled units (review labels' train split, the written
  posts: bug reports, support requests, questions as hard negatives) and the Tizard training split;
* ``mlp-units+hard``: a one-hidden-layer MLP head on the same features and data.

The training sources follow the policy of :mod:`models.training_sources`: by default the
permissive ones only (the Tizard training split and the project's written posts), so the
comment-labelled options (``lr-units``, ``mlp-units``) need ``--research`` and ``--source clap
--source maalej``. ``--compare`` scores a saved unit judge (its ``first_stage/`` folder, when
there is one, in front of it) on the same vectors, e.g. the judge shipped before.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.factories import DEFAULT_CLASSIFIER_DIR
from models.judge_eval import Contender, evaluate, format_table
from models.suggestions import SuggestionClassifier
from models.training_sources import PERMISSIVE_SOURCES, SOURCES
from models.unit_judge import OPTIONS, train_option, training_units
from youasked.judge_report import all_splits, cached_encoder, saved_judge


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--option", action="append", default=[], choices=sorted(OPTIONS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--source", action="append", default=[], choices=sorted(SOURCES))
    parser.add_argument("--research", action="store_true", help="allow evaluation-only sources")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=DIR")
    args = parser.parse_args(argv)
    sources = tuple(args.source) or PERMISSIVE_SOURCES
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    encoder = cached_encoder(ROOT / ".cache")
    today = SuggestionClassifier.load(DEFAULT_CLASSIFIER_DIR)
    candidates = [Contender("today (comment)", today, per_unit=False), Contender("today (units)", today)]
    for pair in args.compare:
        label, _, folder = pair.partition("=")
        candidates.extend(saved_judge(label, Path(folder)))
    details: dict[str, Any] = {}
    splits = all_splits(args.data)
    report = evaluate(candidates, splits, vectors=encoder.embed)
    print(format_table(report), flush=True)
    for name in args.option or sorted(OPTIONS):
        started = time.perf_counter()
        units = training_units(args.data, OPTIONS[name], sources=sources, research=args.research)
        model, _ = train_option(units, encoder.embed(units.texts), OPTIONS[name])
        details[name] = {
            "seconds": round(time.perf_counter() - started, 1),
            "threshold": model.threshold,
            "units": len(units.texts),
            "comments": len(units.comment_labels),
            "sources": sorted(set(units.sources)),
        }
        variants = [Contender(name, model)]
        for rule, cell in model.metrics["cross_validation"].items():
            if isinstance(cell, dict) and rule != OPTIONS[name].threshold_rule:
                other = copy.copy(model)
                other.threshold = cell["threshold"]
                variants.append(Contender(f"{name} ({rule} cut)", other))
        fresh = evaluate(variants, splits, vectors=encoder.embed)
        report.update(fresh)
        print(format_table(fresh), details[name], flush=True)
        if args.json is not None:
            document = {"training": details, "report": report}
            args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
