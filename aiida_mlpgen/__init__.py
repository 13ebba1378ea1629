"""aiida-mlpgen: machine-learned interatomic potentials from DFT data, with AiiDA provenance."""

__version__ = '0.1.0'
