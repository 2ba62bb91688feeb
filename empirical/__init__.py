"""Everything measured: data, networks, training, samplers, Jacobians and metrics (JAX for networks)."""
