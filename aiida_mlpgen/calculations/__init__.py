"""CalcJobs of aiida-mlpgen, one module per external code."""
