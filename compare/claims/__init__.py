"""One module per paper; each registers its claims with :func:`compare.registry.claim`."""
