"""Small name -> component registries: the config picks encoder architecture, pooler and scorer by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import ConfigError

if TYPE_CHECKING:
    from torch import nn

    from .architectures import Architecture

__all__ = ["ARCHITECTURES", "POOLERS", "SCORERS", "Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a config value (e.g. ``"avg"``) to the component that implements it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                msg = f"{self.kind} {name!r} is already registered"
                raise ConfigError(msg)
            self._items[name] = item
            return item

        return add

    def get(self, name: str, *, field_name: str | None = None) -> T:
        _load_builtins()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            label = field_name or self.kind
            msg = f"unknown {label} {name!r}; allowed: {', '.join(self.names())}"
            raise ConfigError(msg) from None

    def names(self) -> tuple[str, ...]:
        _load_builtins()
        return tuple(self._items)

    def __contains__(self, name: object) -> bool:
        _load_builtins()
        return name in self._items


POOLERS: Registry[Callable[..., nn.Module]] = Registry("pooler")
SCORERS: Registry[Callable[..., nn.Module]] = Registry("scorer")
ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def _load_builtins() -> None:
    # The built-in components register themselves on import; import them on first use so that the registry
    # module itself stays free of torch-heavy imports and of import cycles.
    from . import architectures, pooling, scorers  # noqa: F401
