"""The Typer application every command module registers itself on, and the options of the command itself."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

PACKAGE = "configurable-agents"


_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "file": "PATH", "dir": "DIR"}


def _plain_type(param: Any, ctx: Any) -> str | None:
    """What the help shows after a parameter: ``PATH``, ``TEXT``, ``INTEGER``, nothing for a flag.

    Typer's own labels (``<bool>``, ``<list[str]>``, ``<path>``) are Python type
    hints, not what a user types; an explicit ``metavar=`` always wins.
    """
    if getattr(param, "is_flag", False):
        return None
    if param.metavar:
        return None if param.param_type_name == "argument" else param.metavar  # arguments show it as their name
    hint = str(param.display_type(ctx)).strip("<>")
    while hint.startswith("list[") and hint.endswith("]"):
        hint = hint[5:-1]
    return _WORDS.get(hint.lower(), hint.upper())


def _plain(params: list[Any]) -> list[Any]:
    for param in params:
        param.display_type_rich = lambda ctx, param=param: _plain_type(param, ctx)
    return params


class PlainHelpGroup(TyperGroup):
    """Typer's group, with help texts free of type-hint artefacts in every command."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not getattr(command, "_plain_help", False):
            original = command.get_params
            command.get_params = lambda ctx: _plain(original(ctx))
            command._plain_help = True
        return command


app = typer.Typer(
    name=PACKAGE,
    cls=PlainHelpGroup,
    help="Validate, run and deploy LLM agent workflows written in YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def package_version() -> str:
    """The installed distribution's version; the source tree's ``__version__`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        from agents_core import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"{PACKAGE} {package_version()}\n")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Validate, run and deploy LLM agent workflows written in YAML."""
