"""gliclass-rag: GLiClass zero-shot classification for RAG — one encoder pass scores every label."""

from ._version import __version__
from .calibration import Calibration
from .config import GLiClassConfig
from .errors import (
    CheckpointError,
    ConfigError,
    ContextOverflowError,
    GLiClassError,
    InvalidInputError,
    MissingDependencyError,
    UnsafeCheckpointError,
)
from .inputs import ChunkingOptions
from .modeling.model import GLiClassModel
from .pipeline import ZeroShotClassifier, default_model_path
from .rac import ExampleStore, RetrievedHit
from .requests import flatten_labels
from .results import LabelScore, RankedPassage
from .sharing import clear_shared_classifiers, resolve_classifier

__all__ = [
    "Calibration",
    "CheckpointError",
    "ChunkingOptions",
    "ConfigError",
    "ContextOverflowError",
    "ExampleStore",
    "GLiClassConfig",
    "GLiClassError",
    "GLiClassModel",
    "InvalidInputError",
    "LabelScore",
    "MissingDependencyError",
    "RankedPassage",
    "RetrievedHit",
    "UnsafeCheckpointError",
    "ZeroShotClassifier",
    "__version__",
    "clear_shared_classifiers",
    "default_model_path",
    "flatten_labels",
    "resolve_classifier",
]
