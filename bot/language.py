"""Which language a customer writes in: Dutch or English.

A small word-list vote, fast enough to run on every message. Short or
ambiguous messages ("10001", "3511 AB", "ok") return None, so the
conversation keeps the language it had.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿ']+")

DUTCH = frozenset(
    """
    ik je jij u uw mijn mn me mij we wij jullie het de een en is zijn was waren wat waar
    wanneer waarom wrm hoe hoezo welke wie bestelling bestellingen bestelnummer bestelnr
    bestel pakket pakketje levering bezorgd bezorging bezorgen geleverd leveren ophalen
    afhalen gewijzigd veranderd verandering vertraging vertraagd status datum postcode
    adres graag alsjeblieft alstublieft aub bedankt dank dankje dankjewel hallo hoi hey
    goedemorgen goedemiddag goedenavond doei dag tot ziens niet nee ja jawel klopt prima
    oke nog al ook maar want dus als dan bij van voor naar met op aan om te er heb heeft
    hebben kan kun kunt kunnen wil wilt zou moet mag gaat komt komen nu vandaag morgen
    gisteren week medewerker mens iemand spreken bellen waarom graag hoi ff even zo geen
    weet niks niets volgen of in oké okee
    """.split()
)

ENGLISH = frozenset(
    """
    i my me mine you your we our the a an and is are was were be been what where when
    why how which who whats wheres order orders ordered parcel package delivery
    delivered deliver shipping shipped pickup pick changed change modified late delay
    delayed status date address please pls plz thanks thank thx ty hello hi hey morning
    evening bye goodbye not no yes yeah yep correct fine okay still also but because so
    if then at of for to with on in it its it's this that have has had can could would
    will should may do does did get got want need know today tomorrow yesterday week
    person human agent someone talk speak call u ur wanna gonna track what's where's
    """.split()
)

# Words that look the same in both languages carry no vote.
_SHARED = DUTCH & ENGLISH
_DUTCH_ONLY = DUTCH - _SHARED
_ENGLISH_ONLY = ENGLISH - _SHARED


def detect_language(text: str | None) -> str | None:
    """'nl', 'en', or None when the text does not say."""
    if not text:
        return None
    words = _WORD.findall(text.lower()[:2000])
    dutch = sum(1 for word in words if word in _DUTCH_ONLY)
    english = sum(1 for word in words if word in _ENGLISH_ONLY)
    if dutch == english:
        return None
    return "nl" if dutch > english else "en"


def choose_language(
    text: str | None, previous: str | None, preferred: str | None, default: str
) -> str:
    """The language to answer in: what the customer writes, else what we had."""
    return detect_language(text) or previous or preferred or default
