"""Bot API request parameters and errors.

aiogram sends every parameter as a form field: numbers and booleans as text, nested objects
(reply_markup, entities, scope, ...) as JSON text, files as parts referenced by
``attach://name``. Other clients send JSON bodies. ``Params`` reads both the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str, parameters: Json | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}", parameters)


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    def __init__(self, values: Json, uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def _given(self, name: str, required: str | None) -> Any:
        """The value of `name`; None when it is absent or empty, or a 400 with the `required`
        description when there is one."""
        if not self.has(name):
            if required:
                raise bad_request(required)
            return None
        return self.values[name]

    def get_str(self, name: str, *, required: str | None = None) -> str | None:
        value = self._given(name, required)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: str | None = None) -> int | None:
        value = self._given(name, required)
        if value is None:
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int):
            return value
        text = str(value)
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def upload(self, name: str) -> Upload | str | None:
        """A file parameter: an Upload (new bytes) or a string (file_id or URL)."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.uploads.get(value.removeprefix("attach://"))
        if isinstance(value, str) and value:
            return value
        return None
