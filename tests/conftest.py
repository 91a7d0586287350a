"""Test configuration.

Hypothesis runs derandomized by default, so CI is reproducible: the same
examples every run.  To explore new random examples locally:
``HYPOTHESIS_PROFILE=explore pytest tests/test_rules.py``.
"""
import os

from hypothesis import settings

settings.register_profile("reproducible", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))
