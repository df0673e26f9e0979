"""The defaults shipped as YAML next to these modules (default_rules.yaml,
default_inhibit_rules.yaml): each file is read and parsed once, and every call gets new,
validated models, so a caller that changes them changes no one else's."""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


@functools.cache
def _items(name: str, what: str) -> tuple[dict[str, Any], ...]:
    text = resources.files("services.alerts").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, list):
        raise ValueError(f"{name} must be a list of {what}")
    return tuple(data)


def packaged_list(model: type[M], name: str, what: str) -> list[M]:
    """The items of the packaged YAML list `name` (a list of `what`), each as a new `model`."""
    return [model.model_validate(copy.deepcopy(item)) for item in _items(name, what)]
