"""pytest: the pages' examples run as doctests; the Sphinx configuration is not a test."""

collect_ignore = ["conf.py"]
