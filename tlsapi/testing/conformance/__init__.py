"""The conformance suite (being written)."""

import pytest

_MODULES = ("_support", "fixtures")
# Plain asserts in these modules must report their values as test modules'
# do; registering must happen before they are imported.
pytest.register_assert_rewrite(*(f"{__name__}.{name}" for name in _MODULES))
