"""Shared test helper for JSON encoders: two encoders agree, byte for byte and on NaN.

Test modules import it from here, never from one another (STYLE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def assert_encodes_alike(
    encode: Callable[[Any], bytes], reference: Callable[[Any], bytes], value: Any
) -> None:
    """``encode`` writes what ``reference`` writes, and refuses (NaN) what it refuses."""
    try:
        expected = reference(value)
    except ValueError:
        with pytest.raises(ValueError, match="not JSON compliant"):
            encode(value)
    else:
        assert encode(value) == expected
