"""gliclass-rag: GLiClass zero-shot classification for RAG — one encoder pass scores every label."""

from ._version import __version__
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
from .results import LabelScore, RankedPassage

__all__ = [
    "CheckpointError",
    "ChunkingOptions",
    "ConfigError",
    "ContextOverflowError",
    "GLiClassConfig",
    "GLiClassError",
    "GLiClassModel",
    "InvalidInputError",
    "LabelScore",
    "MissingDependencyError",
    "RankedPassage",
    "UnsafeCheckpointError",
    "ZeroShotClassifier",
    "__version__",
    "default_model_path",
]
