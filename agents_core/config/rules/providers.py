"""Rule 6 (providers) and the API-key warning of rule 7.

Unknown providers and models are warnings, not errors: a provider may be
registered by a plugin at run time, and model catalogues change faster than
releases.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

from agents_core.config.loader import PathKey
from agents_core.config.rules.context import Context, did_you_mean, known
from agents_core.llm.registry import DEFAULT_PROVIDER, get_provider, provider_names


def check_providers(ctx: Context) -> None:
    global_llm = ctx.section("config", "llm")
    global_provider = _text(global_llm.get("provider"))
    global_effective = global_provider or DEFAULT_PROVIDER
    global_base = _text(global_llm.get("api_base"))
    places: list[tuple[PathKey, dict[str, Any], str | None]] = [(("config", "llm"), global_llm, None)]
    for index, node in ctx.nodes():
        llm = node.get("llm")
        if isinstance(llm, dict):
            places.append((("nodes", index, "llm"), llm, global_provider))
    used: dict[str, PathKey | None] = {}
    for path, llm, inherited in places:
        provider = _text(llm.get("provider"))
        effective = provider or inherited or DEFAULT_PROVIDER
        if provider is not None:
            _check_provider_name(ctx, (*path, "provider"), provider)
            used.setdefault(provider, (*path, "provider"))
        model = llm.get("model")
        if isinstance(model, str):
            _check_model(ctx, (*path, "model"), effective, model)
    node_count = sum(1 for _ in ctx.nodes())
    overriding = sum(1 for path, llm, _ in places[1:] if isinstance(llm.get("provider"), str))
    if global_provider is None and overriding < node_count:
        used.setdefault(DEFAULT_PROVIDER, None)
    keyed = _providers_needing_a_key(ctx, global_effective, global_base)
    for provider, path in used.items():
        _check_key(ctx, provider, path, needs_key=provider in keyed)


def _providers_needing_a_key(ctx: Context, global_provider: str, global_base: str | None) -> set[str]:
    """Providers some node calls without a keyless endpoint of its own.

    As at run time (``llm/settings.py``), an ``api_base`` applies only to the
    provider it was given with: a node that switches provider does not inherit
    the workflow's ``api_base``.
    """
    keyed: set[str] = set()
    nodes = [node.get("llm") if isinstance(node.get("llm"), dict) else {} for _, node in ctx.nodes()]
    for llm in nodes or [{}]:
        provider = _text(llm.get("provider")) or global_provider
        base = _text(llm.get("api_base")) or (global_base if provider == global_provider else None)
        if not _keyless_endpoint(base):
            keyed.add(provider)
    return keyed


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _keyless_endpoint(api_base: str | None) -> bool:
    """Whether ``api_base`` names a server on this machine or its private network (Ollama, vLLM, llama.cpp).

    Such servers usually need no key; a public endpoint (OpenAI, Groq, Together) does.
    """
    if not api_base:
        return False
    host = (urlsplit(api_base if "//" in api_base else f"//{api_base}").hostname or "").lower()
    if not host:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")) or "." not in host:
        return True  # loopback names, mDNS, Docker's host name, and bare service names (`ollama`)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


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


def _check_key(ctx: Context, provider: str, path: PathKey | None, *, needs_key: bool) -> None:
    info = get_provider(provider)
    if info is None or info.api_key_env is None or os.environ.get(info.api_key_env):
        return
    if provider == "openai" and not needs_key:
        return  # every use points at a self-hosted OpenAI-compatible server, which needs no key
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
