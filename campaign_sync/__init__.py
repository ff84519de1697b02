"""campaign-sync: Kore.ai Contact Center AI campaigns as code."""

__version__ = "0.1.0"
