"""Document-level currency: a note around a table ("Prices in USD", "Alle Preise in EUR zzgl.
MwSt.", "€ inkl. MwSt.", "CURRENCY: EUR") or the table's additional_context ("prices are in
EUR") names the currency of prices that show none themselves."""

from __future__ import annotations

import re

from .coerce import currency_in

__all__ = ["note_currency"]

# Words that make a line about prices or money (EN/DE/FR/NL/ES), accents kept and removed.
_MONEY_WORDS = re.compile(
    r"\b(?:prices?|pricing|priced|amounts?|currency|preise?|preisen|betr[äa]ge?|w[äa]hrung"
    r"|prix|montants?|devise|tarifs?|prijz?en|prijs|bedragen|valuta|munt|precios?|importes?"
    r"|moneda|divisa|inkl|incl|zzgl|excl|exkl|mwst|ust|vat|tva|btw|iva|ttc|ht|netto|brutto"
    r"|net|gross|all|alle|tous|todos|tout|in|en)\b"
    # Compounds: "Preisliste", "Prijslijst (EUR)", "Pricelist", "Stückpreise".
    r"|\w*(?:price|preis|prijs|precio)\w*",
    re.I,
)
_NAMED = {
    "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "us-dollar": "USD",
    "us dollars": "USD", "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "franken": "CHF",
    "swiss francs": "CHF", "francs suisses": "CHF",
}  # fmt: skip
_NAMED_RE = re.compile(r"\b(" + "|".join(sorted(_NAMED, key=len, reverse=True)) + r")\b", re.I)


def note_currency(text: str | None) -> str | None:
    """The currency a short note or context line states, or None. A line must be about money
    (a price, currency or tax word) and name one currency by code, sign or name."""
    if not text:
        return None
    for line in re.split(r"[\n;]|(?<=[.!?])\s+", text):
        line = line.strip()
        if not line or len(line.split()) > 24:
            continue
        code = currency_in(line)
        if code is None and (named := _NAMED_RE.search(line)):
            code = _NAMED[named.group(1).casefold()]
        if code is None:
            continue
        others = {currency_in(part) for part in re.split(r"[,/]| or | oder | ou ", line)}
        if len(others - {None, code}) > 0:
            continue  # several currencies: not a statement about one
        if _MONEY_WORDS.search(line) or re.fullmatch(r"\W*[A-Z]{3}\W*|[$€£¥]", line):
            return code
    return None
