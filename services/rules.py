"""RULES_FILE: one YAML document whose top-level sections belong to the features.

Each feature owns its section's pydantic model (with the seed's values as defaults) and reads
it with `rules.section("classification", ClassificationRules)`; a missing section gives the
defaults, a malformed one raises `RulesError` naming the section and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class RulesError(Exception):
    """RULES_FILE cannot be read or a section does not fit its model."""


class Rules:
    def __init__(self, raw: dict[str, Any] | None = None, source: str = "built-in defaults"):
        self.raw: dict[str, Any] = raw or {}
        self.source = source
        self._cache: dict[str, BaseModel] = {}

    @classmethod
    def load(cls, path: Path | None) -> Rules:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise RulesError(f"RULES_FILE {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise RulesError(f"RULES_FILE {path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise RulesError(f"RULES_FILE {path}: the top level must be a mapping of sections")
        return cls(data, source=str(path))

    def section(self, name: str, model: type[M]) -> M:
        cached = self._cache.get(name)
        if isinstance(cached, model):
            return cached
        try:
            value = model.model_validate(self.raw.get(name) or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            raise RulesError(f"RULES_FILE {self.source}: {where}: {first['msg']}") from None
        self._cache[name] = value
        return value
