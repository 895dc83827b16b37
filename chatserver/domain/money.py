"""Amounts in minor units shown the way each of our languages writes money (the widget uses Intl)."""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not a hundredth
_EXPONENT = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_SYMBOL = {"EUR": "€", "USD": "$", "GBP": "£", "PLN": "zł", "RUB": "₽", "UAH": "₴"}
# English puts the sign in front (€12.50, PLN 12.50); Russian and Polish after the number (12,50 €)
_PREFIX_SYMBOLS = {"EUR", "USD", "GBP"}
NBSP = "\u00a0"


def _digits(amount_minor: int, exponent: int) -> tuple[str, str]:
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    return str(whole), str(fraction).zfill(exponent) if exponent else ""


def _group(whole: str, separator: str, min_digits: int) -> str:
    if len(whole) < min_digits:
        return whole
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return separator.join([whole, *groups])


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    exponent = _EXPONENT.get(currency, 2)
    whole, fraction = _digits(amount_minor, exponent)
    sign = "-" if amount_minor < 0 else ""
    if locale == "en":
        number = _group(whole, ",", 4) + (f".{fraction}" if fraction else "")
        if currency in _PREFIX_SYMBOLS:
            return f"{sign}{_SYMBOL[currency]}{number}"
        return f"{sign}{currency}{NBSP}{number}"
    # Polish leaves four-digit amounts ungrouped; Russian groups from four digits
    number = _group(whole, NBSP, 5 if locale == "pl" else 4) + (f",{fraction}" if fraction else "")
    return f"{sign}{number}{NBSP}{_SYMBOL.get(currency, currency)}"
