"""How a customer sounds: calm, upset or angry, from their own words.

A word list and the shape of the message (shouting, a row of exclamation
marks), in Dutch and English. An angry customer goes to a person; an upset one
gets the assistant's answer with an apology first, and the mood goes along
with any handoff so the person knows before reading.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿ']+")

# Strong words: one is enough to hand over.
ANGRY = frozenset(
    """
    belachelijk schandalig waardeloos waardeloze bagger klote kut godverdomme verdomme
    tering oplichters oplichting oplichter bedrog bedriegers lachertje wanprestatie
    woedend razend diep kwaad walgelijk schande
    ridiculous disgraceful disgusting useless pathetic scam scammers fraud furious outraged
    unacceptable appalling terrible horrible worst joke bullshit crap damn hell
    """.split()
)

# Words of a customer who is not happy: an apology, not yet a person.
UPSET = frozenset(
    """
    boos teleurgesteld teleurstellend balen jammer vervelend irritant geïrriteerd
    zat klaar frustrerend gefrustreerd onacceptabel alweer weer opnieuw nogsteeds
    upset disappointed disappointing annoyed annoying frustrated frustrating again still
    fed tired sick unhappy
    """.split()
)

# Whole phrases that mean "I've had it".
_ANGRY_PHRASES = (
    "ik ben het zat",
    "ik ben er klaar mee",
    "nooit meer",
    "ik wil mijn geld terug",
    "dit slaat nergens op",
    "fed up",
    "never again",
    "i want my money back",
    "sick of",
)


def mood_of(text: str | None) -> str:
    """'angry', 'upset' or 'calm'."""
    if not text or text.startswith("/"):
        return "calm"  # a button's payload says nothing about the mood
    lowered = text.lower()
    words = set(_WORD.findall(lowered[:2000]))
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    exclaiming = "!!!" in text
    if words & ANGRY or any(phrase in lowered for phrase in _ANGRY_PHRASES):
        return "angry"
    if (shouting or exclaiming) and words & UPSET:
        return "angry"
    if words & UPSET or shouting or exclaiming:
        return "upset"
    return "calm"
