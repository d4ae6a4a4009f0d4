"""Every error code is declared in its package's errors.py (STYLE rule 16).

A client depends on the code of a problem+json answer, so a code is a class in an errors.py: a
subclass with a docstring (the default message) and a stable ``code``. The test walks the AST of
every module outside the errors.py files and fails on a code written anywhere else: a string
passed as ``code=`` to a call (``BadRequest("...", code="x")``), a string ``code`` class attribute
(an error class declared outside errors.py), or a ``"code": "x"`` entry of a problem body.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.architecture.test_imports import PACKAGES, ROOT


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _loose_codes(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "code" and _is_text(keyword.value):
                    found.append((node.lineno, f"{where}:{node.lineno}: {ast.unparse(node.func)}(..., code={ast.unparse(keyword.value)})"))
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                targets = (statement.targets if isinstance(statement, ast.Assign)
                           else [statement.target] if isinstance(statement, ast.AnnAssign) else [])
                value = getattr(statement, "value", None)
                if value is not None and _is_text(value) and any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                    found.append((statement.lineno, f"{where}:{statement.lineno}: class {node.name} declares code {ast.unparse(value)}"))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "code" and _is_text(value):
                    found.append((node.lineno, f"{where}:{node.lineno}: a body with \"code\": {ast.unparse(value)}"))
    return [text for _, text in sorted(found)]


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if path.name != "errors.py")


def test_no_error_code_outside_errors_py():
    loose = [line for path in _sources()
             for line in _loose_codes(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert not loose, "declare these codes as error classes in the package's errors.py:\n  " + "\n  ".join(loose)


def test_the_walk_finds_each_kind_of_loose_code():
    source = '''
raise BadRequest("no", code="invalid_thing")
raise NotReady("later", code=f"{component}_not_ready")
class Refused(Forbidden):
    code = "refused"
problem = {"status": 400, "code": "bad"}
fine = Issue(code=IssueCode.MISSING_VALUE)
also_fine = {"code": code}
'''
    assert [line.split(": ", 1)[1] for line in _loose_codes(source, "m.py")] == [
        "BadRequest(..., code='invalid_thing')",
        "NotReady(..., code=f'{component}_not_ready')",
        "class Refused declares code 'refused'",
        "a body with \"code\": 'bad'",
    ]
