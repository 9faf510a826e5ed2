"""Experiments: one claim of the paper per module, each with an importable ``main(args)``."""
