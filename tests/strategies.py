"""Hypothesis strategies, kept in one module (as attrs does)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

# Anything a JSON body, a CSV cell or a careless caller could hand us.
junk: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

amount_text = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2).map(str)
positive_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=4)
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120)
