"""compare.claims._common.measured_once: results kept for the control, read-only, bounded."""

import numpy as np
import pytest

from compare.claims._common import measured_once


def test_measured_once_keeps_the_last_results_only():
    calls = []

    @measured_once(kept=3)
    def measure(n):
        calls.append(n)
        return np.arange(n)

    for n in (1, 2, 3, 1, 2, 3):
        measure(n)
    assert calls == [1, 2, 3]  # the second round came from the kept results
    measure(4)  # evicts 1, the oldest
    measure(1)
    assert calls == [1, 2, 3, 4, 1]
    with pytest.raises(ValueError):
        measure(4)[0] = 7  # kept arrays are read-only


def test_measured_once_default_keeps_four():
    calls = []

    @measured_once
    def measure(n):
        calls.append(n)
        return n

    for n in (1, 2, 3, 4, 5, 1):
        measure(n)
    assert calls == [1, 2, 3, 4, 5, 1]
