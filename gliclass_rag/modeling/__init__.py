"""The model: backbone, poolers, scorers and architectures composed from a GLiClassConfig.

Import from the submodules (``gliclass_rag.modeling.model`` ...) or from the package's public API.
"""
