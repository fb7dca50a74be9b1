"""Strict reading of the experiments' YAML files: a :class:`Reader` per mapping refuses unknown
keys and badly typed values, naming the file and the key (``exp1.serving[0].rule``)."""

from __future__ import annotations

import math
import numbers
from importlib import resources
from pathlib import Path

import yaml


class Reader:
    """Reads one mapping of a YAML file, refusing unknown keys and badly typed values.

    Every error names the file (``source``) and the key's path (``exp1.serving[0].rule``).
    """

    def __init__(self, raw, source: str, where: str = ""):
        self.source = source
        self.where = where
        if not isinstance(raw, dict):
            raise self.error(f"must be a mapping of keys to values, got {_kind(raw)}")
        self.raw = raw
        self.used: set[str] = set()

    def error(self, message: str, key=None) -> ValueError:
        path = ".".join(str(p) for p in (self.where, key) if p is not None and p != "")
        return ValueError(f"config {self.source}: {path + ' ' if path else ''}{message}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, default=...):
        if key not in self.raw:
            if default is ...:
                raise self.error("is missing", key)
            return default
        self.used.add(key)
        return self.raw[key]

    def section(self, key: str, default=...) -> Reader:
        value = self.get(key, default)
        return Reader(value, self.source, ".".join(p for p in (self.where, key) if p))

    def int(self, key: str, minimum: int | None = None, default=...) -> int | None:
        value = self.get(key, default)
        if value is None and default is None:
            return None
        return _int(value, self._error_for(key), minimum)

    def number(self, key: str, positive: bool = False, default=...) -> float | None:
        value = self.get(key, default)
        if value is None:
            return None
        return _number(value, self._error_for(key), positive)

    def choice(self, key: str, choices, default=...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str) or value not in choices:
            raise self.error(f"must be one of {', '.join(choices)}, got {value!r}", key)
        return value

    def ints(self, key: str, minimum: int | None = None, default=...) -> tuple[int, ...]:
        values = self._list(key, default)
        out = tuple(_int(v, self._error_for(f"{key}[{i}]"), minimum) for i, v in enumerate(values))
        self._unique(key, out)
        return out

    def strings(self, key: str, choices=None, default=...) -> tuple[str, ...]:
        values = self._list(key, default)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"must be a string, got {value!r}", f"{key}[{i}]")
            if choices is not None and value not in choices:
                raise self.error(
                    f"must be one of {', '.join(choices)}, got {value!r}", f"{key}[{i}]"
                )
        self._unique(key, tuple(values))
        return tuple(values)

    def items(self, key: str, default=...) -> list[Reader]:
        values = self._list(key, default)
        return [
            Reader(v, self.source, f"{'.'.join(p for p in (self.where, key) if p)}[{i}]")
            for i, v in enumerate(values)
        ]

    def done(self) -> None:
        """Refuse keys nobody asked for (a typo would otherwise be ignored)."""
        unknown = [k for k in self.raw if k not in self.used]
        if unknown:
            known = ", ".join(sorted(self.used)) or "none"
            raise self.error(f"has unknown key {unknown[0]!r} (known here: {known})")

    def only(self, keys) -> None:
        """Refuse keys outside ``keys`` before reading any: a typo of a required key is then
        named as the typo, not as the required key missing."""
        keys = list(keys)
        unknown = [k for k in self.raw if k not in keys]
        if unknown:
            raise self.error(
                f"has unknown key {unknown[0]!r} (known here: {', '.join(sorted(keys))})"
            )

    def _list(self, key, default):
        values = self.get(key, default)
        if not isinstance(values, list) or not values:
            raise self.error(f"must be a non-empty list, got {values!r}", key)
        return values

    def _unique(self, key, values):
        seen = set()
        for value in values:
            if value in seen:
                raise self.error(f"lists {value!r} twice", key)
            seen.add(value)

    def _error_for(self, key):
        return lambda message: self.error(message, key)


def _kind(value) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def _int(value, error, minimum=None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise error(f"must be >= {minimum}, got {value}")
    return int(value)


def _number(value, error, positive=False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise error(f"must be a finite number{' > 0' if positive else ''}, got {value!r}")
    return value


def read_yaml(source: str, kind: str, packaged: tuple[str, ...]) -> tuple[dict, str]:
    """The parsed YAML of a packaged config (by name) or a file (by path), and its name."""
    path = Path(source)
    if source in packaged:
        text = (resources.files("experiments") / "configs" / f"{source}.yaml").read_text()
        name = source
    elif path.suffix in (".yaml", ".yml") or path.exists() or "/" in source:
        if path.is_dir():
            raise ValueError(f"{kind} {source} is a directory, not a YAML file")
        if not path.exists():
            raise FileNotFoundError(f"{kind} file {source} not found")
        text, name = path.read_text(), path.stem
    else:
        raise ValueError(
            f"{kind} must be {', '.join(repr(p) for p in packaged)} or a .yaml file, got {source!r}"
        )
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(f"{kind} {source} is not valid YAML: {' '.join(first[:3])}") from None
    return raw, name
