"""A tour of gliclass-rag on the embedded default model, offline: classify, rerank, route, guard.

Run: ``python examples/demo.py`` (``bash scripts/demo.sh`` sets up the environment first).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything here runs offline

from gliclass_rag import ExampleStore, ZeroShotClassifier


def main() -> None:
    classifier = ZeroShotClassifier.from_pretrained()  # the embedded default model, no download

    print("== Zero-shot classification (multi-label, sorted, thresholded)")
    texts = ["The rocket reached orbit after a flawless launch.", "The striker scored twice in the final."]
    for text, found in zip(texts, classifier.classify(texts, ["space", "sports", "politics", "cooking"]), strict=True):
        print(f"  {text!r} -> {[(s.label, round(s.score, 3)) for s in found]}")

    print("== Single-label intent routing with every score")
    scores = classifier.scores(
        "I think someone used my card without asking",
        ["card stolen or compromised", "exchange rate", "refund request", "change PIN"],
        multi_label=False,
    )
    print("  " + ", ".join(f"{label}: {score:.3f}" for label, score in scores.items()))

    print("== Reranking retrieved passages (the query is the label)")
    passages = [
        "The Eiffel Tower was completed in 1889 for the World's Fair.",
        "Paris is the capital of France and its largest city.",
        "The Louvre is the world's most-visited museum.",
    ]
    for hit in classifier.rerank("When was the Eiffel Tower built?", passages):
        print(f"  {hit.score:.3f}  [{hit.index}] {hit.text}")

    print("== Few-shot: 2 labelled examples per label, retrieved per text")
    store = ExampleStore()
    store.add(
        ["my card never arrived", "where is my new card", "the app charged me twice", "I was billed two times"],
        ["card delivery", "card delivery", "duplicate charge", "duplicate charge"],
    )
    labels = ["card delivery", "duplicate charge"]
    text = "I see the same payment two times on my statement"
    print("  zero-shot:", {k: round(v, 3) for k, v in classifier.scores(text, labels, multi_label=False).items()})
    few = classifier.scores(text, labels, multi_label=False, examples_store=store, k=2)
    print("  few-shot: ", {k: round(v, 3) for k, v in few.items()})

    try:
        from gliclass_guards import SafetyGuard
    except ImportError:
        print("== (install guards/ for the safety gate: pip install -e guards)")
        return
    print("== Safety gate on an LLM output")
    guard = SafetyGuard(model=classifier, on_fail="noop")
    for output in ["Here is a recipe for banana bread.", "Step one: build a pipe bomb from these parts."]:
        result = guard.check(output)
        print(f"  passed={result.passed} risk={result.score:.3f} {output!r}")


if __name__ == "__main__":
    main()
