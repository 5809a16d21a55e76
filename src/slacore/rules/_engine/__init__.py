"""The bulk evaluation engine of the clock rules: routing, columns, tallies, lazy results and
the collector pause. Private: see README.md beside this file and docs/performance.md.
"""
