"""The potential-type registry: the three built-in types, and a fourth added through the
registry alone (its own name, protocol file, code and search keys; FitSNAP's CalcJob stands
in for its code) that ``mlpgen fit`` and the generator then run."""

import re
import textwrap

import pytest

from aiida_mlpgen import potential_types
from aiida_mlpgen.embedded import cached_processes, codes

pytestmark = [pytest.mark.slow]

PROTOCOL = """\
default_protocol: quick
protocols:
  quick:
    description: 'A stand-in type: SNAP 2J=2 through FitSNAP.'
    parameters: {twojmax: 2, fit: {energy: 100.0, forces: 1.0, stress: 'off'}}
    options:
      resources: {num_machines: 1, num_mpiprocs_per_machine: 1}
      max_wallclock_seconds: 600
"""

#: Registers the fourth type in the interpreter of ``mlpgen``, then runs the command line.
REGISTER = textwrap.dedent("""\
    import sys
    from aiida_mlpgen import potential_types
    potential_types.register(potential_types.PotentialType(
        name='linear', title='Linear', summary='Fit a stand-in linear potential.',
        calculation='aiida_mlpgen.calculations.fitsnap:FitsnapCalculation',
        restart='aiida_mlpgen.workflows.restart:FitsnapBaseWorkChain',
        calculation_entry_point='mlpgen.fitsnap', code='linear', executable='mlpgen-fitsnap',
        code_description='a stand-in code', citations=('A. Stand-in, J. Tests 1, 1 (2026)',),
        protocol_file=sys.argv.pop(1), validation_engine='lammps', parameter_help='Linear parameter.',
        search_keys=lambda elements: ['rcutfac']))
    from aiida_mlpgen.cli import cmd_root
    cmd_root(prog_name='mlpgen')
""")


def test_built_in_types_and_their_protocols():
    assert set(potential_types.names()) >= {'snap', 'ace', 'nnp'}
    for kind in potential_types.all_types():
        content = kind.protocols()
        assert content['default_protocol'] in content['protocols']
        for name, protocol in content['protocols'].items():
            assert protocol['description'] and protocol['options']['resources']['num_machines'] == 1
            parameters = potential_types.protocol_parameters(kind.name, name)
            kind.calculation_class().PARAMETERS.normalize(parameters, ['Mo'])  # valid for the CalcJob
        assert kind.restart_class()._process_class is kind.calculation_class()
        assert kind.citations and kind.validation_engine in ('lammps', 'ase')
    assert [c.label for c in codes()][:3] == [t.code for t in potential_types.all_types()][:3]
    assert 'aiida.calculations:mlpgen.fitsnap' in cached_processes()
    # one merge rule for every type: nested keys merge, top-level keys replace
    assert potential_types.protocol_parameters('snap', 'fast', {'fit': {'stress': 'off'}})['fit'] == {
        'energy': 100.0,
        'forces': 1.0,
        'stress': 'off',
    }
    with pytest.raises(ValueError, match='unknown potential type'):
        potential_types.get('gap')
    with pytest.raises(ValueError, match="unknown protocol 'sloppy'"):
        potential_types.protocol_parameters('nnp', 'sloppy')


def test_restart_work_chains_build_from_protocols(fitsnap_code_any, ta_small):
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.workflows.restart import PacemakerBaseWorkChain

    builder = PacemakerBaseWorkChain.get_builder_from_protocol(
        TrainingSetData.from_file(ta_small),
        'fast',
        code=fitsnap_code_any,
        overrides={'max_iterations': 60},
        options={'withmpi': False},
    )
    assert builder.fit.parameters['number_of_functions'] == 30 and builder.fit.parameters['max_iterations'] == 60
    assert builder.fit.parameters['min_iterations'] == 50
    assert builder.fit.metadata.options['max_wallclock_seconds'] == 3600
    assert builder.fit.metadata.options['withmpi'] is False


@pytest.fixture
def fitsnap_code_any():
    import sys
    from pathlib import Path

    from .conftest import local_code

    return local_code('fitsnap-any', Path(sys.executable).parent / 'mlpgen-fitsnap')


def test_a_fourth_type_through_the_registry_alone(mlpgen_cli, ta_small, tmp_path):
    """`mlpgen fit linear` exists once the type is registered; it runs the generator with the
    type's own protocol file, on the code the embedded setup made for it."""
    protocol = tmp_path / 'linear.yaml'
    protocol.write_text(PROTOCOL)
    script = tmp_path / 'mlpgen_with_linear.py'
    script.write_text(REGISTER)
    mlpgen_cli('import', ta_small, '--label', 'ta')
    set_up = mlpgen_cli(script, protocol, 'setup', program='python').stdout  # adds what is missing: its code
    assert re.search(r'code linear@localhost.*mlpgen-fitsnap', set_up)
    helped = mlpgen_cli(script, protocol, 'fit', '--help', program='python').stdout
    assert re.search(r'^\s+linear\s+Fit a stand-in linear potential', helped, re.M)
    out = mlpgen_cli(
        script, protocol, 'fit', 'linear', 'ta', '--protocol', 'quick', '--output', 'linear_out', program='python'
    ).stdout
    assert 'Protocol quick: A stand-in type: SNAP 2J=2 through FitSNAP.' in out
    assert 'Linear fit of TrainingSetData' in out and 'with linear@localhost' in out
    assert re.search(r'^twojmax / rcutfac: 2 / 4\.67637$', out, re.M)  # the type's protocol reached the fit
    pk = re.search(r'Process MlpGeneratorWorkChain<(\d+)>', out).group(1)
    query = (
        f'from aiida import load_profile, orm; load_profile(); n = orm.load_node({pk}); '
        'print(n.inputs.potential_type.value, n.inputs.code.label, n.is_finished_ok)'
    )
    shown = mlpgen_cli('-c', query, program='python').stdout.split()
    assert shown == ['linear', 'linear', 'True']
    unknown = mlpgen_cli('fit', 'linear', 'ta', check=False)  # not registered in a plain `mlpgen`
    assert unknown.returncode != 0 and "No such command 'linear'" in unknown.stderr
