"""Rule 6 (providers) and the API-key warning of rule 7.

Unknown providers and models are warnings, not errors: a provider may be
registered by a plugin at run time, and model catalogues change faster than
releases.
"""

from __future__ import annotations

import os
from typing import Any

from agents_core.config.loader import PathKey
from agents_core.config.rules.context import Context, did_you_mean, known
from agents_core.llm.registry import DEFAULT_PROVIDER, get_provider, provider_names


def check_providers(ctx: Context) -> None:
    global_llm = ctx.section("config", "llm")
    global_provider = global_llm.get("provider") if isinstance(global_llm.get("provider"), str) else None
    places: list[tuple[PathKey, dict[str, Any], str | None]] = [(("config", "llm"), global_llm, None)]
    for index, node in ctx.nodes():
        llm = node.get("llm")
        if isinstance(llm, dict):
            places.append((("nodes", index, "llm"), llm, global_provider))
    used: dict[str, PathKey | None] = {}
    for path, llm, inherited in places:
        provider = llm.get("provider") if isinstance(llm.get("provider"), str) else None
        if provider is not None:
            _check_provider_name(ctx, (*path, "provider"), provider)
            used.setdefault(provider, (*path, "provider"))
        effective = provider or inherited or DEFAULT_PROVIDER
        model = llm.get("model")
        if isinstance(model, str):
            _check_model(ctx, (*path, "model"), effective, model)
    node_count = sum(1 for _ in ctx.nodes())
    overriding = sum(1 for path, llm, _ in places[1:] if isinstance(llm.get("provider"), str))
    if global_provider is None and overriding < node_count:
        used.setdefault(DEFAULT_PROVIDER, None)
    for provider, path in used.items():
        _check_key(ctx, provider, path, ctx.section("config", "llm").get("api_base"))


def _check_provider_name(ctx: Context, path: PathKey, provider: str) -> None:
    if get_provider(provider) is not None:
        return
    names = provider_names()
    ctx.add(
        "W-PROVIDER-UNKNOWN",
        path,
        f"provider {provider!r} is not registered.{did_you_mean(provider, names)} {known(names, 'Known providers')}",
        "Runs fail unless a plugin registers this provider first.",
    )


def _check_model(ctx: Context, path: PathKey, provider: str, model: str) -> None:
    info = get_provider(provider)
    if info is None or info.knows_model(model):
        return
    ctx.add(
        "W-MODEL-UNKNOWN",
        path,
        f"model {model!r} is not a known {provider} model.{did_you_mean(model, info.known_models)} "
        f"{known(info.known_models, 'Known models')}",
        "Check the spelling; a newer model may still work.",
    )


def _check_key(ctx: Context, provider: str, path: PathKey | None, api_base: Any) -> None:
    info = get_provider(provider)
    if info is None or info.api_key_env is None or os.environ.get(info.api_key_env):
        return
    if provider == "openai" and isinstance(api_base, str) and api_base:
        return  # self-hosted OpenAI-compatible servers usually need no key
    if path is None:
        ctx.add(
            "W-PROVIDER-KEY",
            ("schema_version",),
            f"no provider is named, so nodes use {provider!r}, and {info.api_key_env} is not set.",
            f"Set {info.api_key_env}, or set config.llm.provider: local to run offline "
            "(the workbench and `run` fall back to the local model).",
            at_key=True,
        )
        return
    ctx.add(
        "W-PROVIDER-KEY",
        path,
        f"provider {provider!r} needs {info.api_key_env}, which is not set.",
        f"Set {info.api_key_env} in the environment (or an .env file) before running.",
    )
