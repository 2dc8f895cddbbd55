"""YAML output that reads like hand-written Argo YAML: key order kept, multi-line strings
(scripts, manifests) as ``|`` blocks."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["dump_yaml"]


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


#: keys written after their siblings, so a spec reads settings first, then its templates
_LAST = ("templates",)


def _ordered(data: Any) -> Any:
    if isinstance(data, dict):
        keys = [k for k in data if k not in _LAST] + [k for k in _LAST if k in data]
        return {k: _ordered(data[k]) for k in keys}
    if isinstance(data, list):
        return [_ordered(v) for v in data]
    return data


def dump_yaml(data: Any) -> str:
    """``data`` as block YAML: keys in their given order except ``templates`` last."""
    return yaml.dump(_ordered(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
