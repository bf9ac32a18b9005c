"""`make nlu-report`: cross-validated intent F1 per intent and per language.

Splits the Dutch (`*_nl.yml`) and English (`*_en.yml`) examples in data/nlu
into stratified folds (on intent + language; repeated texts stay in one fold),
trains an NLU-only model per fold with config.yml, and scores the held-out
examples the way `rasa test nlu` does (a FallbackClassifier prediction is
reverted to the intent beneath it; how often it fired is reported). Other
files (regexes, shared examples) are in every training fold and never tested.
NLU_REPORT_EPOCHS overrides the epochs for a quick run. Writes
results/nlu-report/report.json and report.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from rasa.core.agent import Agent
from rasa.model_training import train_nlu
from rasa.nlu.classifiers.fallback_classifier import undo_fallback_prediction
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_yaml_file, write_yaml
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.log_utils import configure_structlog
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedGroupKFold

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "nlu"
OUT = ROOT / "results" / "nlu-report"
LANGUAGES = {"_nl.yml": "Dutch", "_en.yml": "English"}
SEED = 42
FALLBACK = "nlu_fallback"


def load_examples(folder: Path) -> tuple[list, list[str], TrainingData]:
    """Read every file with Rasa's reader: (examples, their languages, shared data)."""
    examples, languages, shared = [], [], TrainingData()
    for path in sorted(folder.glob("*.yml")):
        data = load_data(str(path))
        language = next((lang for end, lang in LANGUAGES.items() if path.name.endswith(end)), None)
        if language is None:
            shared = shared.merge(data)
            continue
        examples += data.intent_examples
        languages += [language] * len(data.intent_examples)
    return examples, languages, shared


def write_config(folder: Path) -> str:
    """Copy config.yml, with the epochs from NLU_REPORT_EPOCHS when it is set."""
    epochs = os.environ.get("NLU_REPORT_EPOCHS")
    if not epochs:
        return str(ROOT / "config.yml")
    config = read_yaml_file(ROOT / "config.yml")
    for component in config["pipeline"]:
        if "epochs" in component:
            component["epochs"] = int(epochs)
    write_yaml(config, folder / "config.yml")
    return str(folder / "config.yml")


def train_fold(train: list, shared: TrainingData, config: str, folder: Path) -> str:
    """Write the fold's training data as Rasa YAML and train an NLU-only model on it."""
    data_dir = folder / "data"
    data_dir.mkdir()
    RasaYAMLWriter().dump(data_dir / "nlu.yml", shared.merge(TrainingData(train)))
    model = train_nlu(config, str(data_dir), str(folder / "models"), fixed_model_name="fold")
    if model is None:
        raise RuntimeError("training produced no model")
    return model


async def predict(model: str, texts: list[str]) -> list[tuple[str, bool]]:
    """Parse each text with the trained model: (intent, whether the fallback fired)."""
    agent = Agent.load(model)
    predictions = []
    for text in texts:
        result = await agent.parse_message(text)
        fell_back = result["intent"]["name"] == FALLBACK
        if fell_back:
            result = undo_fallback_prediction(result)
        predictions.append((result["intent"]["name"], fell_back))
    return predictions


def cross_validate(examples: list, languages: list[str], shared: TrainingData, folds: int):
    """Train and test every fold; return the prediction for every example.

    Stratified on intent + language; a text that occurs more than once (such as
    "ok" in both languages) stays in one fold, so no test text is also trained on.
    """
    strata = [f"{ex.get('intent')}|{lang}" for ex, lang in zip(examples, languages, strict=True)]
    groups = [ex.get("text").strip().lower() for ex in examples]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    predictions: list = [None] * len(examples)
    for number, (train, test) in enumerate(splitter.split(examples, strata, groups), start=1):
        print(f"fold {number}/{folds}: training on {len(train)}, testing {len(test)}", flush=True)
        with tempfile.TemporaryDirectory(prefix="nlu-report-") as tmp:
            config = write_config(Path(tmp))
            model = train_fold([examples[i] for i in train], shared, config, Path(tmp))
            texts = [examples[i].get("text") for i in test]
            for index, prediction in zip(test, asyncio.run(predict(model, texts)), strict=True):
                predictions[index] = prediction
        print(f"fold {number}/{folds}: done", flush=True)
    return predictions


def confusions(rows: list[tuple[str, str, str]], top: int = 10) -> list[dict]:
    """The most frequent (true -> predicted) mistakes with two example texts each."""
    texts = defaultdict(list)
    for truth, guess, text in rows:
        if truth != guess:
            texts[(truth, guess)].append(text)
    counts = Counter({pair: len(found) for pair, found in texts.items()})
    return [
        {"true": t, "predicted": p, "count": n, "examples": texts[(t, p)][:2]}
        for (t, p), n in counts.most_common(top)
    ]


def score_language(rows: list[tuple[str, str, str]], fallbacks: int) -> dict:
    """Per intent precision/recall/F1/support plus macro and weighted F1 for one language."""
    truths, guesses = [r[0] for r in rows], [r[1] for r in rows]
    labels = sorted(set(truths))
    report = classification_report(
        truths, guesses, labels=labels, output_dict=True, zero_division=0
    )
    return {
        "intents": {label: report[label] for label in labels},
        "macro_f1": report["macro avg"]["f1-score"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "accuracy": sum(t == g for t, g in zip(truths, guesses, strict=True)) / len(rows),
        "support": len(rows),
        "fallbacks": fallbacks,
        "confusions": confusions(rows),
    }


def build_report(examples: list, languages: list[str], predictions: list, folds: int) -> dict:
    """Group the predictions by language and score each language."""
    rows: dict[str, list] = defaultdict(list)
    fallbacks: Counter[str] = Counter()
    for example, language, (guess, fell_back) in zip(examples, languages, predictions, strict=True):
        rows[language].append((example.get("intent"), guess, example.get("text")))
        fallbacks[language] += fell_back
    return {
        "folds": folds,
        "seed": SEED,
        "epochs_override": os.environ.get("NLU_REPORT_EPOCHS") or None,
        "languages": {lang: score_language(rows[lang], fallbacks[lang]) for lang in sorted(rows)},
    }


def render_markdown(report: dict) -> str:
    """The report as Markdown tables, one section per language."""
    epochs = report["epochs_override"] or "as in config.yml"
    lines = [
        "# NLU cross-validation report",
        "",
        f"{report['folds']} stratified folds, seed {report['seed']}, epochs: {epochs}.",
    ]
    for language, result in report["languages"].items():
        lines += [
            "",
            f"## {language}",
            "",
            f"macro F1 **{result['macro_f1']:.3f}**, weighted F1 {result['weighted_f1']:.3f}, "
            f"accuracy {result['accuracy']:.3f}, {result['support']} examples, "
            f"fallback fired on {result['fallbacks']}",
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
            shown = " / ".join(f"`{text}`".replace("|", "\\|") for text in c["examples"])
            lines.append(f"| {c['true']} -> {c['predicted']} | {c['count']} | {shown} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3, help="number of folds (default 3)")
    args = parser.parse_args()
    if args.folds < 2:
        print("error: --folds must be at least 2", file=sys.stderr)
        return 2
    if not DATA.is_dir():
        print(f"error: NLU data folder not found: {DATA}", file=sys.stderr)
        return 2
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    examples, languages, shared = load_examples(DATA)
    if not examples:
        print(f"error: no *_nl.yml or *_en.yml examples in {DATA}", file=sys.stderr)
        return 2
    predictions = cross_validate(examples, languages, shared, args.folds)
    report = build_report(examples, languages, predictions, args.folds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    markdown = render_markdown(report)
    (OUT / "report.md").write_text(markdown)
    print("\n" + markdown)
    print(f"written: {OUT / 'report.json'} and {OUT / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
