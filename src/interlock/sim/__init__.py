"""Simulation: runaway and desk-flow drivers, harness helpers. Never imported by production code."""
