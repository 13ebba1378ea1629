"""WorkChains of aiida-mlpgen."""
