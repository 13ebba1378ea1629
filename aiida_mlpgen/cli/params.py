"""``--param key=value`` options: dotted keys to nested dictionaries, values typed."""

import click


def typed(text: str):
    lowered = text.strip().lower()
    if lowered in ('true', 'false'):
        return lowered == 'true'
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_params(items) -> dict:
    """``['elements.Ta.radelem=0.5', 'fit.stress=off']`` -> nested dict."""
    result: dict = {}
    for item in items:
        if '=' not in item:
            raise click.BadParameter(f'{item!r} is not key=value', param_hint='--param')
        key, value = item.split('=', 1)
        parts = [p for p in key.strip().split('.') if p]
        if not parts:
            raise click.BadParameter(f'{item!r} has an empty key', param_hint='--param')
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise click.BadParameter(f'{key!r} nests below a value', param_hint='--param')
        target[parts[-1]] = typed(value)
    return result


def parse_choices(items) -> dict:
    """``['twojmax=6,8']`` -> ``{'twojmax': [6, 8]}`` (dotted keys stay dotted: they are search keys)."""
    result = {}
    for item in items:
        if '=' not in item:
            raise click.BadParameter(f'{item!r} is not key=value1,value2', param_hint='--choice')
        key, values = item.split('=', 1)
        choices = [typed(v) for v in values.split(',') if v.strip()]
        if not key.strip() or not choices:
            raise click.BadParameter(f'{item!r} needs a key and at least one value', param_hint='--choice')
        result[key.strip()] = choices
    return result
