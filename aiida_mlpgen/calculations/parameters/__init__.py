"""Fit parameters of each potential type: defaults, validation, input files."""
