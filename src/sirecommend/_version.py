"""The package version (read by the build backend too, so it is stated once)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
