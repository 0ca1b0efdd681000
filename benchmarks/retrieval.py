"""What few-shot retrieval costs next to the classification it feeds.

    python benchmarks/retrieval.py --examples 100000 --queries 32

An ExampleStore of N stored examples (random unit vectors of the embedded model's width, labels from a 77-label
set) answers k=8 searches for a batch of texts; the same batch is then classified by the embedded model (without
and with the store). Prints a table of seconds and the share retrieval takes. Exact cosine search is one matrix
product over the store; no ANN index is used (the table says whether one would pay off).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gliclass_rag import ExampleStore, ZeroShotClassifier


class Frozen:
    """Pre-computed vectors, so that only the search is timed."""

    embedder_id = "benchmark"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        return self.vectors[: len(texts)]


def _median_seconds(run: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    classifier = ZeroShotClassifier.from_pretrained()
    rng = np.random.default_rng(0)
    labels = [f"intent {i}" for i in range(77)]
    texts = [f"query number {i} about my card and a transfer that did not arrive" for i in range(args.queries)]
    dim = classifier.embed(texts[:1]).shape[1]
    vectors = rng.normal(size=(args.examples, dim)).astype(np.float32)
    store = ExampleStore(Frozen(vectors))
    store.add([f"example {i}" for i in range(args.examples)], [labels[i % len(labels)] for i in range(args.examples)])
    store.embeddings()
    queries = rng.normal(size=(args.queries, dim)).astype(np.float32)
    search = _median_seconds(
        lambda: store.search(texts, args.k, labels=[labels] * len(texts), query_embeddings=queries), args.repeats
    )
    classify = _median_seconds(lambda: classifier.scores(texts, labels, batch_size=args.queries), args.repeats)

    print(f"| step ({args.queries} texts, {len(labels)} labels, {args.examples:,} stored, k={args.k}) | seconds |")
    print("|---|---|")
    print(f"| exact retrieval (ExampleStore.search) | {search:.3f} |")
    print(f"| zero-shot classification of the same texts | {classify:.3f} |")
    print(f"| retrieval / classification | {search / classify:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
