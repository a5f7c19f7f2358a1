"""Masking of personal data and secrets in everything sent to MLflow (``redact_pii``).

Each kind has a pattern and, where a pattern alone would mask ordinary
numbers, a check: card numbers must pass the Luhn check, IBANs the ISO 13616
mod-97 check, and phone numbers need 9 to 15 digits and must not look like a
date. Secrets go first (a key may hold digits that look like a phone number),
then e-mails, IBANs, cards and phones. Values are replaced by ``[KIND]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_API_KEY = re.compile(
    r"\b(?:"
    r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_-]{35}"  # Google
    r"|gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r")"
    r"|(?<=Bearer )[A-Za-z0-9._~+/-]{20,}=*"
    r"|(?i:(?<=api[_-]key[=:] )|(?<=api[_-]key[=:])|(?<=token[=:] )|(?<=token[=:]))[A-Za-z0-9._-]{16,}"
)
#: Any other long run of letters and digits with both kinds mixed in (hex digests, random tokens).
_GENERIC_KEY = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,5}){1,4}(?![\w])")
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{4}$")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group()


def _iban(match: re.Match[str]) -> str:
    return "[IBAN]" if iban_ok(match.group()) else match.group()


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text)
    if _DATE.match(text) or not 9 <= len(digits) <= 15:
        return text
    separated = text.startswith(("+", "(")) or bool(re.search(r"[ .-]", text))
    if not separated:  # a bare run of digits is an id or an amount more often than a phone number
        return text
    if "." in text and not re.search(r"[ ()+-]", text) and text.count(".") == 1:
        return text  # a decimal number
    return "[PHONE]"


_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (_API_KEY, "[API_KEY]"),
    (_EMAIL, "[EMAIL]"),
    (_IBAN, _iban),
    (_GENERIC_KEY, "[API_KEY]"),
    (_CARD, _card),
    (_PHONE, _phone),
]


def redact_text(text: str) -> str:
    """``text`` with e-mails, phone and card numbers, IBANs and API-key-like strings masked."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """Every string inside ``value`` (dicts, lists, tuples; keys too) redacted; other values as they are."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value
