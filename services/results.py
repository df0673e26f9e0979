"""A task's result as the JSON a job stores with its run (maintenance_runs.details): written
from the result dataclass's own fields, so a field added to the result is stored without a
second list to keep in step."""

from __future__ import annotations

import dataclasses
from typing import Any


def as_json(result: Any, **shown: Any) -> dict[str, Any]:
    """Every field of the dataclass `result` by its name (a nested result through its own
    `to_json`, or field by field when it has none; a tuple or list item by item), then `shown`:
    values computed from the fields, or a field shown another way than it is held."""
    fields = {f.name: _value(getattr(result, f.name)) for f in dataclasses.fields(result)}
    return fields | shown


def _value(value: Any) -> Any:
    if hasattr(value, "to_json"):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return as_json(value)
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return value
