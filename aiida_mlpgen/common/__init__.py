"""Helpers shared by every layer of aiida-mlpgen (no AiiDA imports here)."""
