"""How many tokens a text is for a model: exact with the local model's own tokenizer, else an approximation.

Used where a count is needed before a call (the run budget's worst case, a
cost estimate). Only the local model's tokenizer is available offline; for
every other model the count is ``ceil(characters / CHARS_PER_TOKEN)``, which
errs high for English text, and is labelled as an approximation
(``exact=False``).
"""

from __future__ import annotations

import math

from agents_core.llm.settings import ResolvedLLM

#: Characters per token of the approximation (real tokenizers give ~4 for English, so this errs high).
CHARS_PER_TOKEN = 3


def approximate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def count_tokens(llm: ResolvedLLM, text: str) -> tuple[int, bool]:
    """(tokens, exact?): the local model's tokenizer when ``llm`` is the local model, else an approximation."""
    if llm.provider == "local":
        try:
            from agents_core.llm.local import load_model, model_path

            loaded = load_model(str(model_path(llm.model)))
            with loaded.lock:
                return len(loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)), True
        except Exception:  # no runtime or model file: the approximation still bounds the call
            pass
    return approximate_tokens(text), False
