"""``MlpFitParser``: what every fit parser shares — metrics, predictions, report, plots."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import ExitCode
from aiida.parsers import Parser

from aiida_mlpgen.report.metrics import compute_metrics
from aiida_mlpgen.report.plots import write_plots
from aiida_mlpgen.report.text import report


class MlpFitParser(Parser):
    """Subclasses implement :meth:`parse_fit`, returning (potential, predictions, header) or an exit code."""

    POTENTIAL_TYPE = None

    def parse(self, **kwargs):
        try:
            retrieved = self.retrieved
        except Exception:  # noqa: BLE001 - aiida raises NotExistent
            return self.exit_codes.ERROR_NO_RETRIEVED_FOLDER
        result = self.parse_fit(retrieved)
        if isinstance(result, ExitCode):
            return result
        potential, predictions, header, exit_code = result
        metrics = compute_metrics(predictions)
        self.out('potential', potential)
        self.out('metrics', orm.Dict(metrics))
        self.out('predictions', self._predictions_node(predictions))
        text = report(self.POTENTIAL_TYPE, metrics, potential.lammps_lines(), 'the `potential` output node '
                      '(`mlpgen report PK DIR` writes it with potential.mod)', header)
        self.out('report', orm.SinglefileData(io.BytesIO(text.encode()), filename='report.txt'))
        with tempfile.TemporaryDirectory() as directory:
            write_plots(predictions, directory)
            plots = orm.FolderData()
            for path in sorted(Path(directory).iterdir()):
                plots.base.repository.put_object_from_file(str(path), path.name)
        self.out('plots', plots)
        return exit_code

    @staticmethod
    def _predictions_node(predictions: dict) -> orm.ArrayData:
        node = orm.ArrayData()
        for quantity, values in predictions.items():
            for key, array in values.items():
                array = np.asarray(array)
                node.set_array(f'{quantity}_{key}', array.astype(str) if array.dtype.kind in 'OU' else array)
        return node
