"""Docs that must match the code: the config reference and the README's promises."""

from __future__ import annotations

from pydantic import BaseModel

from agents_core.config import models
from agents_core.config.codes import CODES
from agents_core.config.reference import REFERENCE_PATH, render_reference
from tests.conftest import REPO_ROOT


def _all_models() -> list[type[BaseModel]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == models.__name__
        and not value.__name__.startswith("_")
    ]


def test_reference_is_regenerated_from_the_models():
    """Run `python -m agents_core.config.reference` after changing the models."""
    assert REFERENCE_PATH.read_text() == render_reference()


def test_every_model_field_is_in_the_reference():
    text = REFERENCE_PATH.read_text()
    missing = [
        f"{model.__name__}.{field.alias or name}"
        for model in _all_models()
        for name, field in model.model_fields.items()
        if f"| `{field.alias or name}` |" not in text
    ]
    assert missing == []


def test_every_model_field_has_a_description():
    undocumented = [
        f"{model.__name__}.{name}"
        for model in _all_models()
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undocumented == []


def test_every_problem_code_is_documented():
    text = REFERENCE_PATH.read_text()
    assert [code for code in CODES if f"`{code}`" not in text] == []


def test_readme_keeps_the_two_command_quick_start():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
