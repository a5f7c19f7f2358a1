"""LLM providers: one registry of named providers (see :mod:`agents_core.llm.registry`)."""
