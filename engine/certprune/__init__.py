"""CertPrune engine: train, prune, verify and export ReLU networks."""

__version__ = "0.1.0"
