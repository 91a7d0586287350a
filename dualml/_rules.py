"""The rule table as the compiled module sees it (names of the functions)."""
from .dual import BINARY, DERIVATIVE_RULES, UNARY, UNARY_PARAM

__all__ = ["UNARY", "UNARY_PARAM", "BINARY", "DERIVATIVE_RULES"]
