"""Validation against the standard-covoiturage OpenAPI document, for the carpool tests.

The document is read from ../shared/specs/standard-covoiturage (never copied into the repo) with
`require_shared_data`, so these tests skip where the folder is absent (and fail under CI).
OpenAPI 3.0 schemas are JSON Schema with a few extra keywords (``example``, formats such as
``long``, ``double``, ``partial-time`` that no validator knows and that are therefore only
annotations); ``$ref``\\ s point into ``#/components``, so each schema is validated with the
document's ``components`` beside it. Formats that are checked: ``uuid`` (booking ids).

Query parameters arrive as text: each is converted by its schema's type first (``integer``,
``number``, a comma-separated ``array`` for ``style: form, explode: false``), then validated.
A parameter the operation does not declare is an error too: the client must not send typos.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import yaml

from tests.conftest import require_shared_data

SPEC_DIR = ("..", "specs", "standard-covoiturage")
SPEC_FILE = "standard-covoiturage_openapi.yaml"


def spec_path(name: str = SPEC_FILE):
    return require_shared_data(*SPEC_DIR, name)


@cache
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@dataclass(frozen=True)
class StandardSpec:
    """The operations and schemas of one OpenAPI document of the standard."""

    document: dict[str, Any]

    @classmethod
    def load(cls, name: str = SPEC_FILE) -> StandardSpec:
        return cls(_load(str(spec_path(name))))

    # --- schemas -------------------------------------------------------------------------------

    def errors(self, schema: Mapping[str, Any], instance: Any) -> list[str]:
        """What is wrong with ``instance`` under ``schema`` (a schema of this document), sorted."""
        rooted = {**schema, "components": self.document["components"]}
        validator = jsonschema.Draft202012Validator(rooted, format_checker=jsonschema.FormatChecker(["uuid"]))
        return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                      for e in validator.iter_errors(instance))

    def schema_errors(self, name: str, instance: Any) -> list[str]:
        """What is wrong with ``instance`` as the component schema ``name`` (``DriverJourney``...)."""
        return self.errors({"$ref": f"#/components/schemas/{name}"}, instance)

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            _, *parts = node["$ref"].split("/")
            target: Any = self.document
            for part in parts:
                target = target[part]
            node = target
        return node

    def operation(self, method: str, path: str) -> Mapping[str, Any]:
        """The operation object of ``method`` on the path template ``path`` (``/bookings/{bookingId}``)."""
        return self.document["paths"][path][method.lower()]

    # --- requests ------------------------------------------------------------------------------

    def request_errors(self, method: str, path: str, query: Mapping[str, str], body: Any = None) -> list[str]:
        """What is wrong with a request: its query parameters (as received, text) and JSON body."""
        operation = self.operation(method, path)
        declared = {p["name"]: p for p in map(self._resolve, operation.get("parameters", ())) if p["in"] == "query"}
        problems = [f"query {name}: not a parameter of {method} {path}" for name in query if name not in declared]
        for name, parameter in declared.items():
            if name not in query:
                if parameter.get("required"):
                    problems.append(f"query {name}: required")
                continue
            problems += [f"query {name}: {e}" for e in self._parameter_errors(parameter, query[name])]
        request_body = operation.get("requestBody")
        if request_body is not None:
            schema = request_body["content"]["application/json"]["schema"]
            problems += [f"body {e}" for e in self.errors(schema, body)]
        elif body is not None:
            problems.append(f"body: {method} {path} takes none")
        return problems

    def _parameter_errors(self, parameter: Mapping[str, Any], text: str) -> list[str]:
        schema = parameter["schema"]
        kind = self._resolve(schema).get("type")
        try:
            value: Any = _convert(kind, text, self._resolve(schema))
        except ValueError:
            return [f"{text!r} is not a {kind}"]
        return self.errors(schema, value)

    # --- responses -----------------------------------------------------------------------------

    def response_errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """What is wrong with an answer: an undeclared status, or a body its schema refuses."""
        responses = {str(k): v for k, v in self.operation(method, path)["responses"].items()}
        if str(status) not in responses:
            return [f"status {status} is not an answer of {method} {path} ({sorted(responses)})"]
        response = self._resolve(responses[str(status)])
        content = response.get("content")
        if not content:
            return []  # the document declares no body for this answer: nothing to check
        return self.errors(content["application/json"]["schema"], body)


def _convert(kind: str | None, text: str, schema: Mapping[str, Any]) -> Any:
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError(text)
        return text == "true"
    if kind == "array":  # style: form, explode: false -> a=x,y,z
        item = schema.get("items", {}).get("type")
        return [_convert(item, part, {}) for part in text.split(",")]
    return text
