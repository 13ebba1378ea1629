"""``BaseRestartWorkChain`` wrappers of the fit CalcJobs, with handlers for the usual failures.

- out of memory (exit 110): fewer MPI ranks; then, for ACE, a smaller batch;
- out of walltime (exit 120): NNP continues from the last epoch's weights (restart_folder),
  ACE from its last interim potential (initial_potential); SNAP, a direct solve, gets twice
  the walltime;
- process killed by a signal (exit 306): NNP and ACE continue as after a walltime, SNAP reruns;
- job cancelled (305) or files not writable (307): not resubmitted; the work chain ends with the
  same exit code, so a job someone cancelled stays cancelled;
- NaN (exit 410/411): NNP restarts with a more cautious Kalman filter (epsilon × 10, eta / 10);
  SNAP switches to the RIDGE solver (then regularises ten times more).
"""

from __future__ import annotations

import re

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, calcfunction, process_handler, while_

from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
from aiida_mlpgen.calculations.n2p2 import NnpCalculation
from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation
from aiida_mlpgen.calculations.parameters import snap as snap_parameters

OUT_OF_MEMORY = 110
OUT_OF_WALLTIME = 120
INTERRUPTED = ('ERROR_SCHEDULER_OUT_OF_WALLTIME', 'ERROR_PROCESS_KILLED')


def interrupted(process_class) -> list:
    """Exit codes of a fit that stopped before its end with what it did so far retrieved."""
    return [process_class.exit_codes[name] for name in INTERRUPTED]


NAN = (410, 411)


class FitBaseWorkChain(BaseRestartWorkChain):
    """Run a fit CalcJob and restart it after failures that a change of settings can cure."""

    _process_class = None
    _potential_type = None  #: name in aiida_mlpgen.potential_types

    @classmethod
    def get_builder_from_protocol(
        cls,
        training_set,
        protocol: str | None = None,
        code=None,
        overrides: dict | None = None,
        options: dict | None = None,
    ):
        """A builder of one fit with the type's protocol (parameters and ``metadata.options``;
        ``protocol`` None: its default), ``overrides`` and ``options`` merged on top, and the
        embedded code of the type unless ``code`` is given."""
        from aiida_mlpgen import potential_types
        from aiida_mlpgen.calculations.parameters.checks import merge

        builder = cls.get_builder()
        builder.fit.training_set = training_set
        builder.fit.parameters = orm.Dict(potential_types.protocol_parameters(cls._potential_type, protocol, overrides))
        builder.fit.code = (
            code if code is not None else orm.load_code(potential_types.get(cls._potential_type).code_label)
        )
        builder.fit.metadata.options = merge(
            potential_types.protocol_options(cls._potential_type, protocol), options or {}
        )
        return builder

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(cls._process_class, namespace='fit')
        spec.expose_outputs(cls._process_class)
        spec.outline(cls.setup, while_(cls.should_run_process)(cls.run_process, cls.inspect_process), cls.results)
        spec.exit_code(300, 'ERROR_UNRECOVERABLE_FAILURE', message='The fit failed in a way no handler can cure.')
        spec.exit_code(305, 'ERROR_JOB_CANCELLED', message="The fit's job was cancelled; it is not resubmitted.")
        spec.exit_code(
            307,
            'ERROR_DISK_WRITE',
            message='The fit could not write its files on the computer (disk full, quota): free space and run again.',
        )

    def setup(self):
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(self._process_class, 'fit'))

    # ---- helpers -------------------------------------------------------------------------------
    def _parameters(self) -> dict:
        return self.ctx.inputs.parameters.get_dict() if 'parameters' in self.ctx.inputs else {}

    def _set_parameters(self, parameters: dict) -> None:
        self.ctx.inputs.parameters = orm.Dict(parameters)

    def _options(self) -> dict:
        metadata = self.ctx.inputs.setdefault('metadata', {})
        return metadata.setdefault('options', {})

    def _double_walltime(self, node, why: str):
        """Rerun as it was with twice the walltime (when there is nothing to continue from);
        a killed process is rerun with the walltime it had."""
        if node.exit_status != OUT_OF_WALLTIME:
            self.report(f'{node.process_label}<{node.pk}> was killed ({node.exit_message}): rerun as it was')
            return ProcessHandlerReport(do_break=True)
        seconds = int(node.get_option('max_wallclock_seconds') or 3600)
        self._options()['max_wallclock_seconds'] = 2 * seconds
        self.report(f'{node.process_label}<{node.pk}> {why}: rerun with {2 * seconds} s')
        return ProcessHandlerReport(do_break=True)

    @staticmethod
    def _stopped(node) -> str:
        return 'hit its walltime' if node.exit_status == OUT_OF_WALLTIME else 'was killed'

    @process_handler(
        priority=700,
        exit_codes=[FitsnapCalculation.exit_codes.ERROR_JOB_CANCELLED, FitsnapCalculation.exit_codes.ERROR_DISK_WRITE],
    )
    def handle_cancelled_or_disk(self, node):
        """A cancelled job stays cancelled; a full disk needs a person: end with the same code."""
        code = 'ERROR_JOB_CANCELLED' if node.exit_status == 305 else 'ERROR_DISK_WRITE'
        self.report(f'{node.process_label}<{node.pk}> failed [{node.exit_status}] {node.exit_message}: not resubmitted')
        return ProcessHandlerReport(do_break=True, exit_code=self.exit_codes[code])

    @process_handler(priority=600, exit_codes=[PacemakerCalculation.exit_codes.ERROR_SCHEDULER_OUT_OF_MEMORY])
    def handle_out_of_memory(self, node):
        """Halve the MPI ranks per machine; when there is one, halve ACE's batch size."""
        resources = dict(node.get_option('resources') or {})
        ranks = int(resources.get('num_mpiprocs_per_machine') or 1)
        if ranks > 1:
            resources['num_mpiprocs_per_machine'] = ranks // 2
            self._options()['resources'] = resources
            self.report(f'{node.process_label}<{node.pk}> ran out of memory: {ranks} -> {ranks // 2} MPI ranks')
            return ProcessHandlerReport(do_break=True)
        parameters = self._parameters()
        if self._process_class is PacemakerCalculation:
            batch = int(parameters.get('batch_size', 100))
            if batch > 1:
                parameters['batch_size'] = max(batch // 2, 1)
                self._set_parameters(parameters)
                self.report(f'{node.process_label}<{node.pk}> ran out of memory: batch size {batch} -> {batch // 2}')
                return ProcessHandlerReport(do_break=True)
        self.report(f'{node.process_label}<{node.pk}> ran out of memory with one rank: ask for a larger machine')
        return ProcessHandlerReport(do_break=True, exit_code=self.exit_codes.ERROR_UNRECOVERABLE_FAILURE)


class FitsnapBaseWorkChain(FitBaseWorkChain):
    _process_class = FitsnapCalculation
    _potential_type = 'snap'

    @process_handler(priority=500, exit_codes=interrupted(FitsnapCalculation))
    def handle_walltime(self, node):
        return self._double_walltime(node, 'hit its walltime')

    @process_handler(
        priority=400,
        exit_codes=[
            FitsnapCalculation.exit_codes.ERROR_NAN_COEFFICIENTS,
            FitsnapCalculation.exit_codes.ERROR_SINGULAR_FIT,
        ],
    )
    def handle_nan(self, node):
        parameters = self._parameters()
        options = dict(parameters.get('solver_options') or {})
        default = snap_parameters.DEFAULTS['solver_options']['alpha']
        if str(parameters.get('solver', 'SVD')).upper() != 'RIDGE':  # regularise: RIDGE, 100 x the default
            parameters['solver'], options['alpha'] = 'RIDGE', 100 * default
        else:  # regularised already: ten times more
            options['alpha'] = 10 * float(options.get('alpha', default))
        parameters['solver_options'] = options
        self._set_parameters(parameters)
        self.report(
            f'{node.process_label}<{node.pk}> gave non-finite/singular coefficients: RIDGE, alpha {options["alpha"]:g}'
        )
        return ProcessHandlerReport(do_break=True)


class PacemakerBaseWorkChain(FitBaseWorkChain):
    _process_class = PacemakerCalculation
    _potential_type = 'ace'

    @process_handler(priority=500, exit_codes=interrupted(PacemakerCalculation))
    def handle_walltime(self, node):
        retrieved = node.outputs.retrieved if 'retrieved' in node.outputs else None
        interim = sorted(
            n
            for n in (retrieved.base.repository.list_object_names() if retrieved else [])
            if re.fullmatch(r'interim_potential_\d+\.yaml', n)
        )
        if not interim:
            return self._double_walltime(node, 'hit its walltime before an interim potential')
        self.ctx.inputs.initial_potential = ace_from_interim(retrieved, orm.Str(interim[-1]))
        parameters = self._parameters()
        parameters['initial_potential_mode'] = 'continue'
        self._set_parameters(parameters)
        self.report(f'{node.process_label}<{node.pk}> {self._stopped(node)}: continue from {interim[-1]}')
        return ProcessHandlerReport(do_break=True)


class N2p2BaseWorkChain(FitBaseWorkChain):
    _process_class = NnpCalculation
    _potential_type = 'nnp'

    @process_handler(priority=500, exit_codes=interrupted(NnpCalculation))
    def handle_walltime(self, node):
        retrieved = node.outputs.retrieved
        epochs = _completed_epochs(retrieved)
        if epochs is None:
            return self._double_walltime(node, 'hit its walltime before the first epoch')
        parameters = self._parameters()
        total = int(parameters.get('epochs', 20))
        parameters['epochs'] = max(total - epochs, 1)
        self._set_parameters(parameters)
        self.ctx.inputs.restart_folder = nnp_restart_folder(retrieved, orm.Int(epochs))
        self.report(
            f'{node.process_label}<{node.pk}> {self._stopped(node)} after epoch {epochs}: continue from its '
            f'weights for {parameters["epochs"]} more epochs'
        )
        return ProcessHandlerReport(do_break=True)

    @process_handler(
        priority=400,
        exit_codes=[NnpCalculation.exit_codes.ERROR_NAN_LOSS, NnpCalculation.exit_codes.ERROR_NAN_COEFFICIENTS],
    )
    def handle_nan(self, node):
        parameters = self._parameters()
        kalman = dict(parameters.get('kalman') or {})
        kalman['epsilon'] = 10 * float(kalman.get('epsilon', 0.01))
        kalman['eta'] = float(kalman.get('eta', 0.01)) / 10
        parameters['kalman'] = kalman
        self._set_parameters(parameters)
        self.report(
            f'{node.process_label}<{node.pk}> diverged (NaN): Kalman epsilon {kalman["epsilon"]:g}, '
            f'eta {kalman["eta"]:g}'
        )
        return ProcessHandlerReport(do_break=True)


def _completed_epochs(retrieved) -> int | None:
    epochs = [
        int(m.group(1))
        for n in retrieved.base.repository.list_object_names()
        if (m := re.fullmatch(r'weights\.\d{3}\.(\d{6})\.out', n))
    ]
    return max(epochs) if epochs and max(epochs) > 0 else None


@calcfunction
def nnp_restart_folder(retrieved: orm.FolderData, epoch: orm.Int) -> orm.FolderData:
    """input.nn, scaling.data, the split record and the weights of ``epoch`` (as weights.ZZZ.data)."""
    folder = orm.FolderData()
    repository = retrieved.base.repository
    for name in ('input.nn', 'scaling.data', 'mlpgen-split.json'):
        if name in repository.list_object_names():
            folder.base.repository.put_object_from_bytes(repository.get_object_content(name, mode='rb'), name)
    suffix = f'.{epoch.value:06d}.out'
    for name in repository.list_object_names():
        if name.startswith('weights.') and name.endswith(suffix):
            folder.base.repository.put_object_from_bytes(
                repository.get_object_content(name, mode='rb'), name[: -len(suffix)] + '.data'
            )
    return folder


@calcfunction
def ace_from_interim(retrieved: orm.FolderData, name: orm.Str):
    """The interim pacemaker potential of an interrupted fit, as an AcePotentialData."""
    import tempfile
    from pathlib import Path

    from aiida_mlpgen.data.potentials import AcePotentialData

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / 'interim.yaml'
        path.write_bytes(retrieved.base.repository.get_object_content(name.value, mode='rb'))
        return AcePotentialData.from_yaml(path)
