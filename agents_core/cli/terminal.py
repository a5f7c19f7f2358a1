"""Text from outside (model replies, provider errors, inputs) made safe to show on a terminal.

A model's reply can hold escape sequences: ``ESC [2J`` clears the screen,
``ESC ]0;…`` retitles the window, ``ESC ]52;…`` writes the clipboard on
some terminals, and ``\\r`` or bidirectional overrides make a line read
differently from what it holds. Rich passes ``ESC`` through, so every
human-readable line the CLI prints goes through :func:`neutralise`, which
shows such characters as visible escapes (``\\x1b``) and keeps newlines and
tabs. ``--json`` needs none of this: JSON escapes control characters itself.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks, embeddings and overrides.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def neutralise(text: str) -> str:
    """``text`` with every terminal control character shown as a visible escape."""
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def strict_json_value(value: Any) -> Any:
    """``value`` with NaN and infinities as ``null``, so ``json.dumps(..., allow_nan=False)`` cannot fail on them.

    A float that is not finite can still reach a result (a model's structured
    output); strict JSON has no spelling for it, and ``null`` is what
    JavaScript's ``JSON.stringify`` writes in its place.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json_value(item) for item in value]
    return value
