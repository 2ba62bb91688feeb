r"""A trained network as a JAX point score, for the compiled samplers of :mod:`empirical.langevin`.

:class:`empirical.models.ScoreModel` evaluates a network on NumPy batches; a ``lax.scan`` needs a
traceable ``score(x, sigma)`` for ONE point. Convention: VE, the network a denoiser
:math:`D(x;\sigma)` with score :math:`s = (D - x)/\sigma^2` (Tweedie). The network computes in
float32; the state of a float64 chain stays float64.

For the EDM denoiser :math:`D = c_{skip}x + c_{out}F(c_{in}x, c_{noise})` the hat score
:math:`\hat s = \sigma^2 s = D - x = (c_{skip} - 1)x + c_{out}F` is formed in the chain's
precision from the float32 output F, so the cancellation in D − x (a float32 rounding of |x|,
i.e. a raw-score error of order 1e-7/σ²) does not occur; other networks go through ``denoise``
(or ``scaled_score``) in float32.
"""

from __future__ import annotations

import jax.numpy as jnp

from empirical.models import EDMDenoiser, edm_preconditioning

__all__ = ["network_point_score"]


def network_point_score(model):
    """The raw score ``s(x, sigma)`` of a trained :class:`~empirical.models.ScoreModel`, for ONE
    point x (d,) and a scalar σ, JAX-traceable, returning the dtype of ``x``.

    Reuse the returned function: :func:`empirical.langevin.langevin` caches its compiled program
    per function object.
    """
    network = model.network

    if isinstance(network, EDMDenoiser):

        def score(x, sigma):
            c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma, network.sigma_data)
            inp = jnp.append(c_in * x, c_noise).astype(jnp.float32)
            f = network.net(inp).astype(x.dtype)
            return ((c_skip - 1.0) * x + c_out * f) / sigma**2

        return score

    own = getattr(network, "scaled_score", None)

    def score(x, sigma):
        x32, s32 = x.astype(jnp.float32), jnp.asarray(sigma, jnp.float32)
        if own is not None:
            return own(x32, s32).astype(x.dtype) / sigma
        return (network.denoise(x32, s32).astype(x.dtype) - x) / sigma**2

    return score
