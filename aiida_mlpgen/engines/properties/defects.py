"""Point defects: relaxed vacancy formation energy in a supercell."""

from __future__ import annotations

from ase.optimize import BFGS


def relax_positions(atoms, fmax: float = 1e-3, steps: int = 500) -> None:
    BFGS(atoms, logfile=None).run(fmax=fmax, steps=steps)


def vacancy_formation_energy(atoms, calculator, repeat=(3, 3, 3), fmax: float = 1e-3) -> float:
    """E_f = E(N-1, relaxed) − (N−1)/N · E(N, perfect), eV, in ``atoms`` × ``repeat``."""
    perfect = atoms.repeat(repeat)
    perfect.calc = calculator
    e_perfect = perfect.get_potential_energy()
    n = len(perfect)
    defect = perfect.copy()
    del defect[0]
    defect.calc = calculator
    relax_positions(defect, fmax)
    return float(defect.get_potential_energy() - (n - 1) / n * e_perfect)
