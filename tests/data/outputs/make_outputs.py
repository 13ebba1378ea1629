"""How the stored outputs beside this script were made (rerun after a change of what a
CalcJob retrieves): each fit of ``tests/test_parsers.py``'s training set runs once through
AiiDA with the real code, and its ``retrieved`` folder is copied here (``NAME``); files of the
CalcJob's ``retrieve_temporary_list`` are copied from its remote folder (``NAME.temporary``).

    python tests/data/outputs/make_outputs.py     # needs an AiiDA profile (a temporary one is made)
"""

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))


def main():
    os.environ.setdefault('AIIDA_PATH', tempfile.mkdtemp(prefix='mlpgen-outputs-'))
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.embedded import setup
    from tests.test_parsers import FITS, training_set

    setup()
    data = training_set()
    for name, (calc_class, code, parameters) in FITS.items():
        results, node = run_get_node(
            calc_class(), training_set=data, code=orm.load_code(code), parameters=orm.Dict(parameters)
        )
        assert node.is_finished_ok, node.exit_message
        target = HERE / name
        target.mkdir(exist_ok=True)
        for old in target.iterdir():
            old.unlink()
        retrieved = node.outputs.retrieved
        for item in retrieved.base.repository.list_object_names():
            if not item.startswith('_scheduler'):
                (target / item).write_bytes(retrieved.base.repository.get_object_content(item, mode='rb'))
        temporary = HERE / f'{name}.temporary'
        patterns = getattr(calc_class(), 'RETRIEVE_TEMPORARY', ())
        if patterns:
            temporary.mkdir(exist_ok=True)
            for old in temporary.iterdir():
                old.unlink()
            remote = Path(node.outputs.remote_folder.get_remote_path())
            for pattern in patterns:
                for path in remote.glob(pattern):
                    (temporary / path.name).write_bytes(path.read_bytes())
        print(name, sorted(p.name for p in target.iterdir()))


if __name__ == '__main__':
    main()
