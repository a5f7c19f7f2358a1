"""redact_pii: real-looking examples of each kind are masked; look-alikes that are not PII stay."""

from __future__ import annotations

import pytest

from agents_core.observability.redact import iban_ok, luhn_ok, redact, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+news@example.co.uk today", "mail [EMAIL] today"),
        ("Contact: m.mueller@firma.de.", "Contact: [EMAIL]."),
        ("call +1 415-555-2671 now", "call [PHONE] now"),
        ("Tel. +44 20 7946 0958", "Tel. [PHONE]"),
        ("ring (030) 1234 5678", "ring [PHONE]"),
        ("ring 030 12345678", "ring [PHONE]"),
        ("visa 4111 1111 1111 1111 ok", "visa [CARD] ok"),
        ("mc 5500-0000-0000-0004", "mc [CARD]"),
        ("amex 378282246310005", "amex [CARD]"),
        ("pay to DE89 3704 0044 0532 0130 00", "pay to [IBAN]"),
        ("GB82WEST12345698765432 is mine", "[IBAN] is mine"),
        ("key sk-proj-abcdEFGH1234ijklMNOP5678qrst", "key [API_KEY]"),
        ("GOOGLE_API_KEY=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "GOOGLE_API_KEY=[API_KEY]"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token [API_KEY]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [API_KEY]"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abcdef123", "Authorization: Bearer [API_KEY]"),
        ("secret 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "secret [API_KEY]"),
    ],
)
def test_each_kind_is_masked(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "on 2026-11-01 at 10:30",
        "pi is 3.14159 and e is 2.71828",
        "version 1.2.3, order 12345, total 1,234,567",
        "in the year 2024 there were 365 days",
        "card-like but wrong check 4111 1111 1111 1112",
        "not an iban DE00 3704 0044 0532 0130 00",
        "the word at@ and a@b are not addresses",
        "model gemini-2.5-flash and node_duration_ms",
        "a short id 61941a05c7a5",
    ],
)
def test_look_alikes_stay(text):
    assert redact_text(text) == text


def test_structures_are_redacted_deeply_and_other_values_kept():
    data = {"who": ["x@example.com", {"phone": "+49 30 1234 5678"}], "n": 3, "ok": True, "x@example.com": None}
    assert redact(data) == {"who": ["[EMAIL]", {"phone": "[PHONE]"}], "n": 3, "ok": True, "[EMAIL]": None}


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE88 3704 0044 0532 0130 00")
