"""Everything measured: data, networks, training, samplers, Jacobians and metrics (JAX for networks).

``from empirical import diagnose`` gives :func:`empirical.diagnose.diagnose`, the one-call
diagnostics of a user's own score field (importing it loads neither JAX nor matplotlib).
"""

from empirical.diagnose import Diagnosis, diagnose

__all__ = ["Diagnosis", "diagnose"]
