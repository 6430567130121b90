"""The lifter's research scripts (tables, rows, recipe, diagnostics, ablations), run as modules:
``python -m lifter_research.scripts.lifter_tables --help``. ``benchmarks/`` measures the product."""
