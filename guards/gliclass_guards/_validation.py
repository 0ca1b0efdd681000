"""Checks of settings (raise GuardConfigError) and call arguments (raise InvalidInputError) at the boundary.

Every message names the bad value and what is allowed. Caller objects are read and copied, never modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gliclass_rag import InvalidInputError

from .errors import GuardConfigError

__all__ = [
    "check_choice",
    "check_int",
    "check_names",
    "check_probability",
    "check_text",
    "check_texts",
    "check_thresholds",
    "described_names",
    "shown",
]


def shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_choice(name: str, value: object, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if not isinstance(value, str) or value not in options:
        raise GuardConfigError(f"{name} must be one of {list(options)}, but got {shown(value)}")
    return value


def check_probability(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise GuardConfigError(f"{name} must be a number in [0, 1], but got {shown(value)}")
    return float(value)


def check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GuardConfigError(f"{name} must be an int >= {minimum}, but got {shown(value)}")
    return value


def check_optional_str(name: str, value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise GuardConfigError(f"{name} must be a str or None, but got {type(value).__name__}: {shown(value)}")
    return value


def check_names(name: str, values: object) -> tuple[str, ...]:
    """A non-empty list of unique, non-blank strings."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise GuardConfigError(f"{name} must be a non-empty list of str, but got {shown(values)}")
    seen: set[str] = set()
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise GuardConfigError(f"{name}[{index}] must be a non-empty str, but got {shown(value)}")
        if value in seen:
            raise GuardConfigError(f"{name} names {value!r} twice; names must be unique")
        seen.add(value)
    return tuple(values)


def described_names(name: str, values: object) -> tuple[tuple[str, ...], dict[str, str]]:
    """Names with optional descriptions: a list of names, or a dict name -> description (or None / "")."""
    if isinstance(values, Mapping):
        names = check_names(name, list(values))
        descriptions: dict[str, str] = {}
        for key in names:
            description = values[key]
            if description is None or description == "":
                continue
            if not isinstance(description, str) or not description.strip():
                raise GuardConfigError(
                    f"{name}[{key!r}] must be a description str or None, but got {shown(description)}"
                )
            descriptions[key] = description
        return names, descriptions
    return check_names(name, values), {}


def check_thresholds(name: str, values: object, known: Sequence[str]) -> dict[str, float]:
    """A dict label -> threshold in [0, 1] naming only known labels (None: empty)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise GuardConfigError(f"{name} must be a dict label -> number in [0, 1], but got {shown(values)}")
    out: dict[str, float] = {}
    for key, value in values.items():
        if key not in known:
            raise GuardConfigError(f"{name} names {key!r}, which is not one of {list(known)}")
        out[key] = check_probability(f"{name}[{key!r}]", value)
    return out


def check_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a str, but got {type(value).__name__}: {shown(value)}")
    return value


def check_texts(name: str, values: object) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInputError(f"{name} must be a list of str, but got {type(values).__name__}: {shown(values)}")
    return [check_text(f"{name}[{index}]", value) for index, value in enumerate(values)]


def check_optional_texts(name: str, values: object, count: int) -> list[str | None]:
    """None, one str for every item, or a list of str/None with one entry per item."""
    if values is None or isinstance(values, str):
        return [values] * count
    if not isinstance(values, Sequence) or len(values) != count:
        raise InvalidInputError(f"{name} must be a str, None, or a list of {count} str/None, but got {shown(values)}")
    for index, value in enumerate(values):
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(f"{name}[{index}] must be a str or None, but got {type(value).__name__}")
    return list(values)


def reject_unknown(cls_name: str, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    known = set(allowed)
    unknown = sorted(set(data) - known)
    if unknown:
        raise GuardConfigError(f"{cls_name}.from_dict got unknown settings {unknown}; allowed: {sorted(known)}")
