"""Checks shared by the parameter modules: numbers with bounds, flags, choices."""

from __future__ import annotations

import copy
import math


class ParameterError(ValueError):
    """Parameters that cannot make a fit; raised before anything runs."""


def number(value, name, low=None, high=None, low_open=False, high_open=False, integer=False):
    """``value`` as a float (int with ``integer``) within the bounds, else ParameterError naming ``name``."""
    if isinstance(value, bool):
        raise ParameterError(f'{name} must be a number, got {value!r}')
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f'{name} must be a number, got {value!r}') from None
    if not math.isfinite(result):
        raise ParameterError(f'{name} must be finite, got {value!r}')
    if integer and not result.is_integer():
        raise ParameterError(f'{name} must be an integer, got {value!r}')
    if low is not None and (result < low or (low_open and result == low)):
        raise ParameterError(f'{name} must be {">" if low_open else ">="} {low}, got {value!r}')
    if high is not None and (result > high or (high_open and result == high)):
        raise ParameterError(f'{name} must be {"<" if high_open else "<="} {high}, got {value!r}')
    return int(result) if integer else result


def single_line(value, name='parameters') -> None:
    """Refuse strings with line breaks or NUL anywhere in ``value``: written into an input file
    (FitSNAP's ini, input.nn, pacemaker's YAML) a newline would add keywords of its own."""
    if isinstance(value, dict):
        for key, item in value.items():
            single_line(key, f'{name} key')
            single_line(item, f'{name}.{key}' if name != 'parameters' else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            single_line(item, f'{name}[{i}]')
    elif isinstance(value, str) and any(c in value for c in '\n\r\0\x0b\x0c'):
        raise ParameterError(f'{name} must be a single line of text (no newline or NUL), got {value!r}')


def flag(value, name) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'on'):
        return True
    if text in ('false', '0', 'no', 'off'):
        return False
    raise ParameterError(f'{name} must be true or false, got {value!r}')


def choice(value, name, choices) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ParameterError(f'unknown {name} {value!r}; use one of {", ".join(choices)}')
    return text


def merge(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` merged in, nested dictionaries key by key (copies, inputs untouched)."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
