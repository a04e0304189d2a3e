"""The one rounding rule for every figure a person reads: pages, charts, CSV/XLSX and PDF.

Before this rule the same cell read 12% on one page and 13% on another (Python's ``round`` and
``"%.0f"`` round a half to the even neighbour, on the binary value), and a colour was chosen from
the unrounded mean, so two cells printed 3.4 could differ. Now every figure is rounded once, here:

- Half away from zero, as taught at school: 12.5 → 13, 3.45 → 3.5, −0.25 → −0.3. The value is
  first read at nine decimals, so that binary noise (3.4499999999999997 for 3.45) does not decide.
- Means, standard deviations, changes and interval ends to one decimal (``MEAN_DECIMALS``),
  percentages to whole percent (``PERCENT_DECIMALS``), coefficients (alpha, omega, ICC,
  correlations, effect sizes) to two decimals (``COEFFICIENT_DECIMALS``).
- A rounded zero has no sign: "0.0", never "−0.0".
- Written for people (pages and PDF, not CSV/XLSX data): a true minus sign (U+2212), a decimal
  comma in Dutch and a point in English, and in Dutch a no-break space before the percent sign
  ("67 %"; English "67%"): ``formatted(..., minus_sign=True)`` and ``formatted_percent``.
- Percentages that split one whole (the answers of a scale, 1 to 5) are rounded with the
  largest-remainder method, so that a row adds up to exactly 100 (``shares_of_100``). Percentages
  that do not split a whole (favourable, don't know, ticked) are rounded one by one.

Colours are chosen from the rounded value (``reports.colours``), so equal figures look equal.
See docs/colours.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

MEAN_DECIMALS = 1
PERCENT_DECIMALS = 0
COEFFICIENT_DECIMALS = 2
_NOISE = Decimal("1e-9")
#: The minus sign people read (U+2212); a hyphen-minus stays in data files.
MINUS_SIGN = "\u2212"
#: Between a number and "%" in Dutch, so that "67 %" never breaks over two lines.
NO_BREAK_SPACE = "\u00a0"


def _decimal(value: float, digits: int) -> Decimal:
    exact = Decimal(repr(float(value))).quantize(_NOISE, rounding=ROUND_HALF_EVEN)
    result = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return result.copy_abs() if result.is_zero() else result


def rounded(value: float | None, digits: int = MEAN_DECIMALS) -> float | None:
    """``value`` rounded half away from zero to ``digits`` decimals; None and NaN stay None."""
    if value is None or value != value:
        return None
    return float(_decimal(value, digits))


def whole_percent(value: float | None) -> int | None:
    """A percentage (0–100) as pages show it."""
    shown = rounded(value, PERCENT_DECIMALS)
    return None if shown is None else int(shown)


def formatted(
    value: float,
    digits: int = MEAN_DECIMALS,
    *,
    decimal_comma: bool = False,
    minus_sign: bool = False,
    plus_sign: bool = False,
) -> str:
    """``value`` rounded by the rule and written with ``digits`` decimals (a comma in Dutch).

    ``minus_sign`` writes a negative value with U+2212 (for people, not for data files);
    ``plus_sign`` writes "+" before a positive value (a change). A value that rounds to zero
    has neither sign."""
    exact = _decimal(value, digits)
    text = f"{exact:f}"
    if minus_sign:
        text = text.replace("-", MINUS_SIGN)
    if plus_sign and exact > 0:
        text = f"+{text}"
    return text.replace(".", ",") if decimal_comma else text


def percent_sign(dutch: bool) -> str:
    """What follows a share: "67 %" with a no-break space in Dutch, "67%" in English."""
    return f"{NO_BREAK_SPACE}%" if dutch else "%"


def formatted_percent(value: float, digits: int = PERCENT_DECIMALS, *, dutch: bool) -> str:
    """A percentage as people read it: "67 %" (no-break space) in Dutch, "67%" in English."""
    return formatted(value, digits, decimal_comma=dutch, minus_sign=True) + percent_sign(dutch)


def shares_of_100(counts: Sequence[int]) -> list[int]:
    """Whole percentages of ``counts`` that add up to exactly 100 (0 for every count if none).

    Each share is first cut to its whole part; the points still missing go, one each, to the
    shares with the largest remainders (ties: the earlier answer). A share therefore never
    differs by more than 1 from its own rounding."""
    total = sum(counts)
    if not total:
        return [0] * len(counts)
    exact = [100 * Decimal(count) / total for count in counts]
    shares = [int(share) for share in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[: 100 - sum(shares)]:
        shares[index] += 1
    return shares
