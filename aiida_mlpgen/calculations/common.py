"""What every CalcJob of aiida-mlpgen does the same way: option defaults, one code run."""

from __future__ import annotations

from aiida.common import CalcInfo, CodeInfo


def default_options(spec, parser_name: str, output_file: str) -> None:
    """Serial, one machine, our parser and the code's standard output file, unless set."""
    options = spec.inputs['metadata']['options']
    options['parser_name'].default = parser_name
    options['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
    options['withmpi'].default = False
    options['output_filename'].default = output_file


def output_exit_codes(spec) -> None:
    """Exit codes 300-302 of every CalcJob here: no retrieved folder, an output file missing,
    an output file unreadable (all invalidate the cache)."""
    spec.exit_code(300, 'ERROR_NO_RETRIEVED_FOLDER', message='The retrieved folder is missing.', invalidates_cache=True)
    spec.exit_code(
        301, 'ERROR_OUTPUT_MISSING', message='An expected output file is missing: {files}.', invalidates_cache=True
    )
    spec.exit_code(
        302, 'ERROR_OUTPUT_UNREADABLE', message='An output file could not be read: {error}.', invalidates_cache=True
    )


def single_run(
    calc, arguments: list[str], stdout: str, retrieve: list[str], local_copy_list=(), exclude=()
) -> CalcInfo:
    """One run of ``calc``'s code with ``arguments`` (stdout to ``stdout``), MPI as the options say."""
    codeinfo = CodeInfo()
    codeinfo.code_uuid = calc.inputs.code.uuid
    codeinfo.cmdline_params = list(arguments)
    codeinfo.stdout_name = stdout
    codeinfo.withmpi = calc.inputs.metadata.options.withmpi
    calcinfo = CalcInfo()
    calcinfo.codes_info = [codeinfo]
    calcinfo.local_copy_list = list(local_copy_list)
    calcinfo.retrieve_list = [stdout, *retrieve]
    calcinfo.provenance_exclude_list = list(exclude)
    return calcinfo
