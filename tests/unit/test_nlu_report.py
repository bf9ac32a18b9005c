"""scripts/nlu_report.py: the held-out set stays unseen, and the floor is what issue 16 says."""

from __future__ import annotations

from scripts.nlu_report import Prediction, floor_failures, leaks, normalize, score_language


def test_a_held_out_text_equal_to_a_training_text_after_normalizing_is_a_leak() -> None:
    assert normalize("  Waar is mijn   Pakket?! ") == "waar is mijn pakket"
    training = ["waar is mijn pakket", "annuleer maar"]
    assert leaks(["Waar is mijn pakket??", "waar is mijn pakketje"], training) == [
        "Waar is mijn pakket??"
    ]


def _rows(*triples: tuple[str, str, str]) -> list[tuple[str, Prediction, str]]:
    return [(truth, Prediction(guess, guess, 0.9), text) for truth, guess, text in triples]


def test_a_fallback_counts_as_wrong_and_a_false_cancel_breaks_the_floor() -> None:
    rows = _rows(
        ("ask_why_late", "ask_why_late", "ik wacht al 3 weken"),
        ("ask_status", "nlu_fallback", "waar is het"),
        ("ask_why_late", "cancel_order", "ik wil niet annuleren maar waarom duurt het zo lang"),
        ("cancel_order", "cancel_order", "annuleer maar"),
    )
    result = score_language(rows)
    assert result["order_intents"] == {"correct": 1, "support": 3, "accuracy": 1 / 3}
    assert result["fallbacks"] == 1
    assert [r["true"] for r in result["false_destructive"]["cancel_order"]] == ["ask_why_late"]
    failures = floor_failures({"languages": {"Dutch": result}})
    assert len(failures) == 2
    assert "order intents 1/3" in failures[0]
    assert "cancel_order" in failures[1]


def test_the_floor_holds_at_95_percent_with_no_false_destructive_read() -> None:
    rows = _rows(*[("ask_status", "ask_status", f"waar is {n}") for n in range(19)])
    rows += _rows(("ask_status", "ask_delivery_date", "waar en wanneer"))
    rows += _rows(("keep_order", "keep_order", "ik wacht wel"))
    assert floor_failures({"languages": {"Dutch": score_language(rows)}}) == []
