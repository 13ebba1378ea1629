"""Numerics aiida-mlpgen owns (no AiiDA imports here)."""
