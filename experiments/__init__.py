"""Thin entry points: each module parses flags and calls an importable run(config, outdir)."""
