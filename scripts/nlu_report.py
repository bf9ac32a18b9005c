"""`make nlu-report`: how well the model reads customers it was never trained on.

Default (held-out mode): scores tests/nlu/heldout_nl.yml and heldout_en.yml,
written apart from the training data and never trained on, with the trained
model models/order-assistant.tar.gz (a fresh NLU-only model trained on data/
with config.yml when that one is missing or older than its data, or with
--train). Per language: precision/recall/F1 per intent, every wrong pair
(true -> predicted), how often the fallback fired, and the messages read as a
destructive intent (cancel_order, opt_out) that do not ask for it. Predictions
are scored as the assistant acts on them: a fallback counts as nlu_fallback,
not as the intent beneath it (that figure is shown beside it).

Before anything is scored, a held-out text that equals a training text after
lowercasing and stripping punctuation fails the run: the set must stay unseen.

--floor checks the floor of issue 16 and exits 1 below it: per language, at
least 95% of the held-out examples of the order intents read as exactly that
intent, and no message read as cancel_order or opt_out that does not ask for it.

--cross-validate keeps the older report: stratified folds over data/nlu
(NLU_REPORT_EPOCHS overrides the epochs for a quick run).

Writes results/nlu-report/report.json and report.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.training_data import TrainingData

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu"
MODEL = ROOT / "models" / "order-assistant.tar.gz"
OUT = ROOT / "results" / "nlu-report"
LANGUAGES = {"_nl.yml": "Dutch", "_en.yml": "English"}
SEED = 42
FALLBACK = "nlu_fallback"
ORDER_INTENTS = (
    "ask_changes",
    "ask_status",
    "ask_delivery_date",
    "ask_why_late",
    "ask_tracking",
    "list_orders",
)
# Intents whose action changes something the customer cannot simply take back.
DESTRUCTIVE = ("cancel_order", "opt_out")
ORDER_FLOOR = 0.95


@dataclass(frozen=True)
class Prediction:
    intent: str  # what the assistant acts on (nlu_fallback when the fallback fired)
    beneath: str  # the classifier's intent, under a fallback
    confidence: float  # of `beneath`
    runner_up: float = 0.0  # the second intent's confidence


def normalize(text: str) -> str:
    """Lowercase, punctuation out, whitespace collapsed: what counts as the same text."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def language_of(path: Path) -> str | None:
    return next((lang for end, lang in LANGUAGES.items() if path.name.endswith(end)), None)


def load_examples(folder: Path) -> tuple[list, list[str], TrainingData]:
    """Read every file with Rasa's reader: (examples, their languages, shared data)."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples: list = []
    languages: list[str] = []
    shared = TrainingData()
    for path in sorted(folder.glob("*.yml")):
        data = load_data(str(path))
        language = language_of(path)
        if language is None:
            shared = shared.merge(data)
            continue
        examples += data.intent_examples
        languages += [language] * len(data.intent_examples)
    return examples, languages, shared


def leaks(heldout: list[str], training: list[str]) -> list[str]:
    """Held-out texts that are training texts after normalizing."""
    seen = {normalize(text) for text in training}
    return [text for text in heldout if normalize(text) in seen]


def model_is_stale(model: Path) -> bool:
    """True when the model is missing or older than config.yml or a training file."""
    if not model.exists():
        return True
    inputs = [ROOT / "config.yml", *ROOT.glob("domain/*.yml"), *ROOT.glob("data/**/*.yml")]
    return any(path.stat().st_mtime > model.stat().st_mtime for path in inputs)


def write_config(folder: Path, source: Path = ROOT / "config.yml") -> str:
    """Copy the config, with the epochs from NLU_REPORT_EPOCHS when it is set."""
    from rasa.shared.utils.io import read_yaml_file, write_yaml

    epochs = os.environ.get("NLU_REPORT_EPOCHS")
    if not epochs:
        return str(source)
    config = read_yaml_file(source)
    for component in config["pipeline"]:
        if "epochs" in component:
            component["epochs"] = int(epochs)
    write_yaml(config, folder / "config.yml")
    return str(folder / "config.yml")


def train_on(train: list, shared, config: str, folder: Path) -> str:
    """Write the training examples as Rasa YAML and train an NLU-only model on them."""
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data_dir = folder / "data"
    data_dir.mkdir()
    RasaYAMLWriter().dump(data_dir / "nlu.yml", shared.merge(TrainingData(train)))
    model = train_nlu(config, str(data_dir), str(folder / "models"), fixed_model_name="nlu")
    if model is None:
        raise RuntimeError("training produced no model")
    return model


async def predict(model: str, texts: list[str]) -> list[Prediction]:
    """Parse each text with the model as the assistant would."""
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.fallback_classifier import undo_fallback_prediction

    agent = Agent.load(model)
    predictions = []
    for text in texts:
        result = await agent.parse_message(text)
        acted = result["intent"]["name"]
        if acted == FALLBACK:
            result = undo_fallback_prediction(result)
        ranking = result.get("intent_ranking") or []
        second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        predictions.append(
            Prediction(
                acted, result["intent"]["name"], float(result["intent"]["confidence"]), second
            )
        )
    return predictions


def cross_validate(examples: list, languages: list[str], shared, folds: int) -> list[Prediction]:
    """Train and test every fold; return the prediction for every example.

    Stratified on intent + language; a text that occurs more than once (such as
    "ok" in both languages) stays in one fold, so no test text is also trained on.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    strata = [f"{ex.get('intent')}|{lang}" for ex, lang in zip(examples, languages, strict=True)]
    groups = [normalize(ex.get("text")) for ex in examples]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    predictions: list = [None] * len(examples)
    for number, (train, test) in enumerate(splitter.split(examples, strata, groups), start=1):
        print(f"fold {number}/{folds}: training on {len(train)}, testing {len(test)}", flush=True)
        with tempfile.TemporaryDirectory(prefix="nlu-report-") as tmp:
            config = write_config(Path(tmp))
            model = train_on([examples[i] for i in train], shared, config, Path(tmp))
            texts = [examples[i].get("text") for i in test]
            for index, prediction in zip(test, asyncio.run(predict(model, texts)), strict=True):
                predictions[index] = prediction
        print(f"fold {number}/{folds}: done", flush=True)
    return predictions


def confusions(rows: list[tuple[str, Prediction, str]]) -> list[dict]:
    """Every (true -> predicted) mistake, most frequent first, with its texts."""
    texts = defaultdict(list)
    for truth, guess, text in rows:
        if truth != guess.intent:
            texts[(truth, guess.intent)].append(text)
    counts = Counter({pair: len(found) for pair, found in texts.items()})
    return [
        {"true": t, "predicted": p, "count": n, "examples": texts[(t, p)]}
        for (t, p), n in counts.most_common()
    ]


def false_reads(rows: list[tuple[str, Prediction, str]], intent: str) -> list[dict]:
    """Messages the assistant would act on as `intent` that do not ask for it."""
    return [
        {"text": text, "true": truth, "confidence": round(guess.confidence, 3)}
        for truth, guess, text in rows
        if guess.intent == intent and truth != intent
    ]


def order_accuracy(rows: list[tuple[str, Prediction, str]]) -> dict:
    """The floor's measure: share of order-intent examples read as exactly their intent."""
    order = [(truth, guess) for truth, guess, _ in rows if truth in ORDER_INTENTS]
    right = sum(truth == guess.intent for truth, guess in order)
    return {
        "correct": right,
        "support": len(order),
        "accuracy": right / len(order) if order else 1.0,
    }


def score_language(rows: list[tuple[str, Prediction, str]]) -> dict:
    """Per intent precision/recall/F1/support plus the summary figures for one language."""
    from sklearn.metrics import classification_report

    truths, guesses = [r[0] for r in rows], [r[1].intent for r in rows]
    labels = sorted(set(truths))
    report = classification_report(
        truths, guesses, labels=labels, output_dict=True, zero_division=0
    )
    beneath = sum(t == g.beneath for t, g, _ in rows)
    return {
        "intents": {label: report[label] for label in labels},
        "macro_f1": report["macro avg"]["f1-score"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "accuracy": sum(t == g for t, g in zip(truths, guesses, strict=True)) / len(rows),
        "accuracy_fallback_undone": beneath / len(rows),
        "order_intents": order_accuracy(rows),
        "support": len(rows),
        "fallbacks": sum(g.intent == FALLBACK for _, g, _ in rows),
        "false_destructive": {intent: false_reads(rows, intent) for intent in DESTRUCTIVE},
        "confusions": confusions(rows),
        "predictions": [
            {
                "text": text,
                "true": truth,
                "predicted": guess.intent,
                "beneath": guess.beneath,
                "confidence": round(guess.confidence, 4),
                "runner_up": round(guess.runner_up, 4),
            }
            for truth, guess, text in rows
        ],
    }


def build_report(texts, truths, languages, predictions, mode: dict) -> dict:
    """Group the predictions by language and score each language."""
    rows: dict[str, list] = defaultdict(list)
    for text, truth, language, guess in zip(texts, truths, languages, predictions, strict=True):
        rows[language].append((truth, guess, text))
    return {**mode, "languages": {lang: score_language(rows[lang]) for lang in sorted(rows)}}


def floor_failures(report: dict) -> list[str]:
    """What keeps the report below the floor (empty when it holds)."""
    failures = []
    for language, result in report["languages"].items():
        order = result["order_intents"]
        if order["accuracy"] < ORDER_FLOOR:
            failures.append(
                f"{language}: order intents {order['correct']}/{order['support']} = "
                f"{order['accuracy']:.1%} < {ORDER_FLOOR:.0%}"
            )
        for intent, found in result["false_destructive"].items():
            for read in found:
                failures.append(
                    f"{language}: read as {intent} ({read['confidence']:.2f}) but is "
                    f"{read['true']}: {read['text']!r}"
                )
    return failures


def cell(text: str) -> str:
    return f"`{text}`".replace("|", "\\|")


def render_markdown(report: dict) -> str:
    """The report as Markdown tables, one section per language."""
    if report["mode"] == "heldout":
        lines = [
            "# NLU held-out report",
            "",
            f"Model: {report['model']}. Held-out sets: tests/nlu/heldout_*.yml (never trained on). "
            "Scored as the assistant acts: a fallback is `nlu_fallback`.",
        ]
    else:
        epochs = report["epochs_override"] or "as in config.yml"
        lines = [
            "# NLU cross-validation report",
            "",
            f"{report['folds']} stratified folds over data/nlu, seed {SEED}, epochs: {epochs}.",
        ]
    for language, result in report["languages"].items():
        order = result["order_intents"]
        lines += [
            "",
            f"## {language}",
            "",
            f"order intents **{order['accuracy']:.1%}** ({order['correct']}/{order['support']}), "
            f"accuracy {result['accuracy']:.3f} (fallback undone "
            f"{result['accuracy_fallback_undone']:.3f}), macro F1 {result['macro_f1']:.3f}, "
            f"weighted F1 {result['weighted_f1']:.3f}, {result['support']} examples, "
            f"fallback fired on {result['fallbacks']}",
            "",
        ]
        for intent, found in result["false_destructive"].items():
            lines.append(f"- read as `{intent}` without asking for it: **{len(found)}**")
            lines += [f"  - {cell(r['text'])} ({r['true']}, {r['confidence']:.2f})" for r in found]
        lines += [
            "",
            "| intent | precision | recall | F1 | support |",
            "|---|---:|---:|---:|---:|",
        ]
        for intent, s in result["intents"].items():
            lines.append(
                f"| {intent} | {s['precision']:.3f} | {s['recall']:.3f} "
                f"| {s['f1-score']:.3f} | {s['support']:.0f} |"
            )
        lines += ["", "| true -> predicted | count | examples |", "|---|---:|---|"]
        for c in result["confusions"]:
            shown = " / ".join(cell(text) for text in c["examples"][:4])
            lines.append(f"| {c['true']} -> {c['predicted']} | {c['count']} | {shown} |")
    return "\n".join(lines) + "\n"


def heldout(args) -> tuple[dict, int]:
    """Score the held-out sets; (report, exit code)."""
    from rasa.shared.nlu.training_data.loading import load_data

    training, _, shared = load_examples(DATA)
    train_texts = [ex.get("text") for ex in [*training, *shared.intent_examples]]
    texts, truths, languages = [], [], []
    for path in sorted(HELDOUT.glob("heldout_*.yml")):
        data = load_data(str(path))
        texts += [ex.get("text") for ex in data.intent_examples]
        truths += [ex.get("intent") for ex in data.intent_examples]
        languages += [language_of(path) or path.stem] * len(data.intent_examples)
    if not texts:
        print(f"error: no held-out examples in {HELDOUT}/heldout_*.yml", file=sys.stderr)
        return {}, 2
    leaked = leaks(texts, train_texts)
    if leaked:
        print("error: held-out texts that are also training texts:", file=sys.stderr)
        for text in leaked:
            print(f"  {text!r}", file=sys.stderr)
        return {}, 1
    model = Path(args.model)
    with tempfile.TemporaryDirectory(prefix="nlu-report-") as tmp:
        if args.config or args.train or (model == MODEL and model_is_stale(model)):
            print("training a fresh NLU-only model on data/ with config.yml", flush=True)
            config = Path(args.config or ROOT / "config.yml")
            name = f"fresh NLU-only model trained on data/ with {config.name}"
            model_file = train_on(training, shared, write_config(Path(tmp), config), Path(tmp))
        else:
            name = str(model.relative_to(ROOT) if model.is_relative_to(ROOT) else model)
            model_file = str(model)
        predictions = asyncio.run(predict(model_file, texts))
    return build_report(
        texts, truths, languages, predictions, {"mode": "heldout", "model": name}
    ), 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(MODEL), help="model to score (default: %(default)s)")
    parser.add_argument("--train", action="store_true", help="train a fresh NLU-only model first")
    parser.add_argument("--config", help="train a fresh NLU-only model with this config")
    parser.add_argument("--out", default=str(OUT), help="report folder (default: %(default)s)")
    parser.add_argument("--floor", action="store_true", help="exit 1 below the floor of issue 16")
    parser.add_argument("--cross-validate", action="store_true", help="the older fold report")
    parser.add_argument("--folds", type=int, default=3, help="folds for --cross-validate")
    args = parser.parse_args()
    # The model names our own pipeline components (bot/nlu/), also when run by path.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if args.folds < 2:
        print("error: --folds must be at least 2", file=sys.stderr)
        return 2
    if not DATA.is_dir():
        print(f"error: NLU data folder not found: {DATA}", file=sys.stderr)
        return 2
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    if args.cross_validate:
        examples, languages, shared = load_examples(DATA)
        if not examples:
            print(f"error: no *_nl.yml or *_en.yml examples in {DATA}", file=sys.stderr)
            return 2
        predictions = cross_validate(examples, languages, shared, args.folds)
        mode = {
            "mode": "cross-validation",
            "folds": args.folds,
            "epochs_override": os.environ.get("NLU_REPORT_EPOCHS") or None,
        }
        texts = [ex.get("text") for ex in examples]
        truths = [ex.get("intent") for ex in examples]
        report = build_report(texts, truths, languages, predictions, mode)
    else:
        report, code = heldout(args)
        if code:
            return code
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    markdown = render_markdown(report)
    (out / "report.md").write_text(markdown)
    print("\n" + markdown)
    print(f"written: {out / 'report.json'} and {out / 'report.md'}")
    if args.floor:
        failures = floor_failures(report)
        for failure in failures:
            print(f"below the floor: {failure}", file=sys.stderr)
        if failures:
            return 1
        print(
            "the floor holds: order intents >= 95% per language, no false cancel_order or opt_out"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
