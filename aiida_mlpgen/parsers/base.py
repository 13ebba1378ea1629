"""``MlpFitParser``: what every fit parser shares — metrics, predictions, report, plots."""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import ExitCode
from aiida.parsers import Parser

from aiida_mlpgen.report.metrics import compute_metrics
from aiida_mlpgen.report.plots import learning_curve, write_plots
from aiida_mlpgen.report.text import report


class MlpFitParser(Parser):
    """Subclasses implement :meth:`parse_fit`, returning (potential, predictions, header) or an exit code."""

    POTENTIAL_TYPE = None

    def parse(self, **kwargs):
        try:
            retrieved = self.retrieved
        except Exception:  # noqa: BLE001 - aiida raises NotExistent
            return self.exit_codes.ERROR_NO_RETRIEVED_FOLDER
        failure = self._resource_failure(retrieved)
        if failure is not None:
            return failure
        try:
            result = self.parse_fit(retrieved)
        except UnicodeDecodeError as error:  # a text output file holding bytes: corrupt
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=f'an output file is not text ({error})')
        if isinstance(result, ExitCode):
            return result
        potential, predictions, header, exit_code = result[:4]
        curve = result[4] if len(result) > 4 else None
        metrics = compute_metrics(predictions)
        self.out('potential', potential)
        self.out('metrics', orm.Dict(metrics))
        self.out('predictions', self._predictions_node(predictions))
        text = report(
            self.POTENTIAL_TYPE,
            metrics,
            potential.lammps_lines(),
            'the `potential` output node (`mlpgen report PK DIR` writes it with potential.mod)',
            header,
        )
        self.out('report', orm.SinglefileData(io.BytesIO(text.encode()), filename='report.txt'))
        with tempfile.TemporaryDirectory() as directory:
            write_plots(predictions, directory)
            if curve is not None:
                self.out('learning_curve', self._curve_node(curve))
                self.plot_learning_curve(curve, directory)
            plots = orm.FolderData()
            for path in sorted(Path(directory).iterdir()):
                plots.base.repository.put_object_from_file(str(path), path.name)
        self.out('plots', plots)
        return exit_code

    #: Text of the scheduler's or the code's output that means the job ran out of memory / time.
    MEMORY_SIGNS = ('MemoryError', 'Out Of Memory', 'out of memory', 'oom-kill', 'OUT_OF_MEMORY')
    WALLTIME_SIGNS = ('DUE TO TIME LIMIT', 'TIMEOUT', 'walltime exceeded')
    #: ... that someone cancelled the job (SLURM's slurmstepd line; PBS/SGE deletion notes).
    CANCEL_SIGNS = (re.compile(r'\*\*\* JOB \S+ ON \S+ CANCELLED AT [^*]*\*\*\*'), re.compile(r'job deleted', re.I))
    #: ... that files could not be written (ENOSPC, EDQUOT, EFBIG; bash's note on SIGXFSZ).
    DISK_SIGNS = (
        re.compile(
            r'[^\n]*(?:No space left on device|Disk quota exceeded|File too large|'
            r'File size limit exceeded|\[Errno (?:28|122|27)\])[^\n]*'
        ),
    )
    #: ... that the code was killed by a signal (bash's job-control note in the job's stderr).
    KILL_SIGNS = (re.compile(r'line \d+: +\d+ (Killed|Terminated|Aborted|Segmentation fault)\b.*'),)

    def _resource_failure(self, retrieved):
        """The exit code of a job that did not end by itself: out of memory or walltime
        (SLURM writes "CANCELLED ... DUE TO TIME LIMIT", the kernel "oom-kill"), cancelled,
        unable to write its files, or its code killed — read from the job's stderr/stdout."""
        names = set(retrieved.base.repository.list_object_names())
        output = self.node.get_option('output_filename')
        text = ''
        for name in ('_scheduler-stderr.txt', '_scheduler-stdout.txt', output):
            if name and name in names:
                text += retrieved.base.repository.get_object_content(name, mode='rb')[-20000:].decode(errors='replace')
        if any(sign in text for sign in self.MEMORY_SIGNS):
            return self.exit_codes.ERROR_SCHEDULER_OUT_OF_MEMORY
        if any(sign in text for sign in self.WALLTIME_SIGNS):
            return self.exit_codes.ERROR_SCHEDULER_OUT_OF_WALLTIME
        for signs, code in (
            (self.CANCEL_SIGNS, 'ERROR_JOB_CANCELLED'),
            (self.DISK_SIGNS, 'ERROR_DISK_WRITE'),
            (self.KILL_SIGNS, 'ERROR_PROCESS_KILLED'),
        ):
            found = next((m for sign in signs if (m := sign.search(text))), None)
            if found is not None and code in self.exit_codes:
                return getattr(self.exit_codes, code).format(detail=' '.join(found.group(0).split()))
        return None

    def common_header(self, potential) -> dict:
        """Report lines every fit shares: the training set, the elements, the parameters given."""
        training_set = self.node.inputs.training_set
        parameters = self.node.inputs.parameters.get_dict() if 'parameters' in self.node.inputs else {}
        return {
            'training set': f'TrainingSetData<{training_set.pk}> ({training_set.n_structures} structures)',
            'elements': ' '.join(potential.elements),
            'parameters': json.dumps(parameters, sort_keys=True) if parameters else 'defaults',
        }

    def plot_learning_curve(self, curve: dict, directory) -> None:
        learning_curve(
            {f'{k} loss': v for k, v in curve.items()},
            Path(directory) / 'learning-curve.png',
            best=_best_iteration(curve),
        )

    @staticmethod
    def _curve_node(curve: dict) -> orm.ArrayData:
        node = orm.ArrayData()
        for label, (x, y) in curve.items():
            node.set_array(f'{label}_iteration', np.asarray(x, int))
            node.set_array(f'{label}_loss', np.asarray(y, float))
        return node

    @staticmethod
    def _predictions_node(predictions: dict) -> orm.ArrayData:
        node = orm.ArrayData()
        for quantity, values in predictions.items():
            for key, array in values.items():
                array = np.asarray(array)
                node.set_array(f'{quantity}_{key}', array.astype(str) if array.dtype.kind in 'OU' else array)
        return node


def _best_iteration(curve: dict):
    x, y = curve.get('validation', ([], []))
    return int(np.asarray(x)[int(np.argmin(y))]) if len(x) else None
