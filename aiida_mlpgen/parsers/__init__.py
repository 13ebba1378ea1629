"""Parsers of aiida-mlpgen, one module per CalcJob."""
