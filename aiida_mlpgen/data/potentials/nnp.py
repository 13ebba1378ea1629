"""``NnpPotentialData``: a Behler–Parrinello NNP in n2p2's files (input.nn, scaling.data, weights.ZZZ.data)."""

from __future__ import annotations

from pathlib import Path

from ase.data import atomic_numbers

from .base import PotentialData, PotentialError

__all__ = ('NnpPotentialData',)

#: Å -> Bohr and eV -> Hartree, the factors for potentials trained in atomic units.
BOHR_PER_ANGSTROM = 1.8897261246257702
HARTREE_PER_EV = 0.03674932217565499


class NnpPotentialData(PotentialData):
    """An n2p2 potential for LAMMPS ``pair_style hdnnp`` (package ML-HDNNP) and our evaluator.

    ``cflength`` and ``cfenergy`` are LAMMPS's conversion factors from Å and eV into the
    potential's own units (1, 1 for potentials trained in Å/eV; 1.8897…, 0.0367… for
    Bohr/Hartree ones). ``epoch`` records which training epoch the weights come from.
    """

    POTENTIAL_TYPE = 'nnp'
    SETTINGS = 'input.nn'
    SCALING = 'scaling.data'

    def __init__(
        self,
        files: dict[str, bytes] | None = None,
        cflength: float = 1.0,
        cfenergy: float = 1.0,
        epoch: int | None = None,
        **kwargs,
    ):
        from aiida_mlpgen.engines.nnp.model import Potential
        from aiida_mlpgen.engines.nnp.settings import NnpInputError, Settings

        if not files:
            raise PotentialError('NnpPotentialData needs input.nn, scaling.data and weights.ZZZ.data')
        if not (cflength > 0 and cfenergy > 0):
            raise PotentialError(f'cflength and cfenergy must be > 0, got {cflength}, {cfenergy}')
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            for name, content in files.items():
                (Path(folder) / name).write_bytes(content)
            try:
                settings = Settings.read(Path(folder) / self.SETTINGS)
                expected = {self.SETTINGS, self.SCALING, *(_weights_name(e) for e in settings.elements)}
                missing = expected - set(files)
                if missing:
                    raise PotentialError(f'n2p2 potential is missing {sorted(missing)}')
                potential = Potential.load(folder)  # checks scaling rows and weight counts
            except NnpInputError as error:
                raise PotentialError(str(error)) from error
        super().__init__(**kwargs)
        kept = {name: files[name] for name in sorted(expected)}
        cutoff = potential.cutoff / cflength  # Å
        elements = settings.elements
        style = (
            f'hdnnp {cutoff:.10g} dir {{dir}} showew no showewsum 0 resetew yes maxew 1000000 '
            f'cflength {cflength!r} cfenergy {cfenergy!r}'
        )
        terms = [{'style': style, 'coeffs': [f'* * {" ".join(elements)}']}]
        self._set_potential(kept, elements, cutoff, terms, ['ML-HDNNP'])
        self.base.attributes.set('cflength', float(cflength))
        self.base.attributes.set('cfenergy', float(cfenergy))
        self.base.attributes.set('epoch', epoch)
        self.base.attributes.set('symmetry_functions', {e: len(potential.setup.functions[e]) for e in elements})
        self.base.attributes.set('network', {e: potential.networks[e].layout for e in elements})

    @classmethod
    def from_paths(cls, paths, cflength: float = 1.0, cfenergy: float = 1.0, epoch: int | None = None):
        (directory,) = cls._expect_paths(paths, 1, True, 'one directory (n2p2: input.nn, scaling.data, weights)')
        return cls.from_n2p2(directory, cflength=cflength, cfenergy=cfenergy, epoch=epoch)

    @classmethod
    def from_n2p2(cls, directory, cflength: float = 1.0, cfenergy: float = 1.0, epoch: int | None = None, **kwargs):
        """From an n2p2 folder: input.nn, scaling.data and weights.ZZZ.data (or, with
        ``epoch``, the weights.ZZZ.EEEEEE.out nnp-train wrote at that epoch)."""
        from aiida_mlpgen.engines.nnp.settings import NnpInputError, Settings

        directory = Path(directory)
        try:
            settings = Settings.read(directory / cls.SETTINGS)
        except NnpInputError as error:
            raise PotentialError(str(error)) from error
        files = {}
        for name in (cls.SETTINGS, cls.SCALING):
            if not (directory / name).is_file():
                raise PotentialError(f'{directory}: no {name}')
            files[name] = (directory / name).read_bytes()
        for element in settings.elements:
            source = directory / (_weights_name(element) if epoch is None else _epoch_name(element, epoch))
            if not source.is_file():
                raise PotentialError(f'{directory}: no {source.name} for {element}')
            files[_weights_name(element)] = source.read_bytes()
        return cls(files, cflength=cflength, cfenergy=cfenergy, epoch=epoch, **kwargs)

    cflength = property(lambda self: self.base.attributes.get('cflength'))
    cfenergy = property(lambda self: self.base.attributes.get('cfenergy'))
    epoch = property(lambda self: self.base.attributes.get('epoch'))

    def write_n2p2(self, directory) -> Path:
        return self.write_files(directory)

    def get_model(self):
        """The engine's :class:`~aiida_mlpgen.engines.nnp.model.Potential` (potential units)."""
        import tempfile

        from aiida_mlpgen.engines.nnp.model import Potential

        with tempfile.TemporaryDirectory() as folder:
            return Potential.load(self.write_n2p2(folder))

    def ase_spec(self, prefix: str = '') -> dict:
        """Our n2p2-compatible evaluator (energy, forces, stress in eV, Å) on the n2p2 files."""
        if prefix:
            raise PotentialError('n2p2 files keep their names: an NNP cannot be the Δ-part of an overlay')
        return {'kind': 'n2p2', 'cflength': self.cflength, 'cfenergy': self.cfenergy}


def _weights_name(element: str) -> str:
    return f'weights.{atomic_numbers[element]:03d}.data'


def _epoch_name(element: str, epoch: int) -> str:
    return f'weights.{atomic_numbers[element]:03d}.{epoch:06d}.out'
