"""The floor of issue 16 on the held-out sets, with the trained model (`make nlu-floor`).

Per language, at least 95% of the held-out examples of the order intents are read
as exactly their intent (a fallback counts as wrong), and no message is read as
cancel_order or opt_out that does not ask for it. The held-out sets are never
trained on; a held-out text that is also a training text fails the run.
"""

from __future__ import annotations

import argparse
import logging

import pytest

from scripts.nlu_report import MODEL, floor_failures, heldout


@pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train")
def test_the_held_out_sets_stay_above_the_floor() -> None:
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(logging.WARNING)
    args = argparse.Namespace(model=str(MODEL), train=False, config=None)
    report, code = heldout(args)
    assert code == 0, "held-out texts leaked into the training data (see the output above)"
    scores = {
        language: f"{result['order_intents']['accuracy']:.1%}"
        for language, result in report["languages"].items()
    }
    assert set(scores) == {"Dutch", "English"}
    assert floor_failures(report) == [], f"order intents per language: {scores}"
