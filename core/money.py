"""Money in minor units per currency, as Stripe counts them: most have 100, some none, a few 1000."""

from decimal import Decimal

# Stripe's zero-decimal currencies: an amount of 1500 JPY is sent as 1500.
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}


def decimals(currency: str) -> int:
    code = (currency or "").lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount as a person types it (12.50) in minor units (1250); refuses fractions the currency lacks."""
    scaled = Decimal(amount) * (10 ** decimals(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency.upper()} has no amounts smaller than {Decimal(1).scaleb(-decimals(currency))}.")
    return int(scaled)


def to_major(amount: int, currency: str) -> str:
    """Minor units as a plain number a person reads or types back: 1250 usd -> "12.50", 1500 jpy -> "1500"."""
    places = decimals(currency)
    return f"{Decimal(int(amount)).scaleb(-places):.{places}f}"


def format_money(amount: int, currency: str) -> str:
    places = decimals(currency)
    return f"{Decimal(int(amount)).scaleb(-places):,.{places}f} {(currency or '').upper()}".strip()
