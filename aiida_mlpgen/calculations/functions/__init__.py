"""Calculation functions: training-set operations recorded in the provenance graph."""
