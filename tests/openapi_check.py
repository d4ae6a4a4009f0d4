"""Every response the test suite receives is checked against the app's own OpenAPI document.

`tests/conftest.py` wraps `aiohttp.test_utils.TestClient` for every test (fixture
``openapi_checked_responses``): each response from an app that serves a document (``OPENAPI`` on
the app) must have a status documented for its operation, one of the documented media types, the
documented headers, and a body valid against the documented JSON Schema (draft 2020-12, formats
checked). A response to a path or method the document does not describe must be an
``application/problem+json`` problem. A test opts out only with
``@pytest.mark.openapi_unchecked(reason="...")``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = ["OpenApiChecker", "FORMATS", "checker_for"]

_DOCUMENT_URI = "urn:oura:openapi"
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    dt.date.fromisoformat(value)
    return len(value) == 10


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python writes NaN and Infinity; no JSON parser reads them


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass
class OpenApiChecker:
    document: Mapping[str, Any]
    _paths: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    _validators: dict[tuple[str, ...], Draft202012Validator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        templates = []
        for template in self.document["paths"]:
            segments = template.strip("/").split("/")
            regex = "/".join("[^/]+" if s.startswith("{") and s.endswith("}") else re.escape(s) for s in segments)
            templates.append((sum(s.startswith("{") for s in segments), re.compile(f"^/{regex}$"), template))
        # literal segments win over parameters (aiohttp matches in declaration order, ours are unambiguous)
        self._paths = [(regex, template) for _, regex, template in sorted(templates, key=lambda t: t[0])]
        self._registry = Registry().with_resource(_DOCUMENT_URI, DRAFT202012.create_resource(self.document))

    def find_operation(self, method: str, raw_path: str) -> tuple[str, str] | None:
        path = "/".join(unquote(part) for part in raw_path.split("/"))
        method = "get" if method.lower() == "head" else method.lower()
        for regex, template in self._paths:
            if regex.match(raw_path) or regex.match(path):
                if method in self.document["paths"][template]:
                    return template, method
                return None
        return None

    def _validator(self, *pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{_DOCUMENT_URI}#/{_pointer(*pointer)}"}
            validator = Draft202012Validator(schema, registry=self._registry, format_checker=FORMATS)
            self._validators[pointer] = validator
        return validator

    def check(self, method: str, raw_path: str, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
        """What is wrong with this response, by the document (empty when it conforms)."""
        label = f"{method.upper()} {raw_path} -> {status}"
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        found = self.find_operation(method, raw_path)
        if found is None:
            if status < 400:
                return [f"{label}: no operation of the OpenAPI document answers this"]
            if media_type != "application/problem+json":
                return [f"{label}: an undocumented path or method answered {media_type or 'no content type'}, "
                        "not application/problem+json"]
            return self._check_body(label, ("components", "schemas", "Problem"), body, method)
        template, operation = found
        responses = self.document["paths"][template][operation]["responses"]
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        if key is None:
            return [f"{label}: status {status} is not documented for {operation.upper()} {template} "
                    f"(documented: {', '.join(responses)})"]
        response = responses[key]
        problems = []
        for name, header in (response.get("headers") or {}).items():
            value = headers.get(name)
            if value is None:
                if header.get("required"):
                    problems.append(f"{label}: header {name} is documented as required and is missing")
                continue
            errors = list(Draft202012Validator(header.get("schema", {}), format_checker=FORMATS).iter_errors(value))
            if errors:
                problems.append(f"{label}: header {name}={value!r}: {errors[0].message}")
        content = response.get("content") or {}
        if not content:
            if body:
                problems.append(f"{label}: documented without content, answered {len(body)} bytes")
            return problems
        if media_type not in content:
            problems.append(f"{label}: content type {media_type or 'none'} is not documented "
                            f"(documented: {', '.join(content)})")
            return problems
        if "schema" in content[media_type] and (media_type.endswith("json")):
            pointer = ("paths", template, operation, "responses", key, "content", media_type, "schema")
            problems += self._check_body(label, pointer, body, method)
        return problems

    def _check_body(self, label: str, pointer: tuple[str, ...], body: bytes, method: str) -> list[str]:
        if method.upper() == "HEAD":
            return []
        try:
            instance = json.loads(body, parse_constant=_refuse_constant)
        except ValueError as error:
            return [f"{label}: the body is not JSON (RFC 8259): {error}"]
        errors = sorted(self._validator(*pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [
            f"{label}: at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in errors[:5]
        ]


_CHECKERS: dict[int, OpenApiChecker] = {}


def checker_for(document: Mapping[str, Any]) -> OpenApiChecker:
    """One checker per document (each app builds its own; the cache keeps the document alive)."""
    checker = _CHECKERS.get(id(document))
    if checker is None or checker.document is not document:
        if len(_CHECKERS) >= 16:
            _CHECKERS.clear()
        checker = _CHECKERS[id(document)] = OpenApiChecker(document)
    return checker
