import pytest

from mevops.config.layering import Layered, apply_env, env_layer
from mevops.config.yamlsafe import parse_yaml
from mevops.errors import MevopsError


def layered(*docs):
    result = Layered()
    for name, text, *mount in docs:
        result.apply_doc(parse_yaml(text, name), tuple(mount[0]) if mount else ())
    return result


def test_helm_merge_rule_with_origins():
    base = "g:\n  keep: 1\n  scalar: 2\n  table:\n    a: 1\n    b: 2\n  items: [1, 2, 3]\n  gone: yes\n"
    over = "g:\n  scalar: 20\n  table:\n    b: 22\n    c: 33\n  items: [9]\n  gone: null\n"
    merged = layered(("base.yml", base), ("over.yml", over))
    assert merged.data == {"g": {"keep": 1, "scalar": 20, "table": {"a": 1, "b": 22, "c": 33}, "items": [9]}}
    origin = lambda *p: str(merged.origin_of(p))  # noqa: E731
    assert origin("g", "keep") == "base.yml:2"
    assert origin("g", "scalar") == "over.yml:2"
    assert origin("g", "table", "a") == "base.yml:5"
    assert origin("g", "table", "c") == "over.yml:5"
    assert origin("g", "items") == "over.yml:6"
    assert ("g", "items", 2) not in merged.origins  # the replaced list's items are gone
    assert ("g", "gone") not in merged.origins


def test_mount_points():
    merged = layered(("a.yml", "x: 1\n"), ("risk.yml", "limit: 5\n", ("risk_limits",)))
    assert merged.data == {"x": 1, "risk_limits": {"limit": 5}}
    assert str(merged.origin_of(("risk_limits", "limit"))) == "risk.yml:1"


def test_scalar_replaced_by_mapping_and_back():
    merged = layered(("a.yml", "k: 1\n"), ("b.yml", "k:\n  x: 1\n"), ("c.yml", "k: 3\n"))
    assert merged.data == {"k": 3}
    assert ("k", "x") not in merged.origins


def test_environment_variables_are_the_top_layer():
    merged = layered(("a.yml", "global:\n  networking:\n    rpc_timeout: 30s\n    retry_attempts: 3\n"))
    apply_env(merged, {
        "MEVOPS_GLOBAL__NETWORKING__RPC_TIMEOUT": "10s",
        "MEVOPS_GLOBAL__NETWORKING__RETRY_ATTEMPTS": "null",
        "MEVOPS_ROOT": "/not/config",
        "MEVOPS_CHAINS__BSC__NETWORKS": "[mainnet, local]",
        "OTHER__THING": "x",
    })
    assert merged.data == {"global": {"networking": {"rpc_timeout": "10s"}}, "chains": {"bsc": {"networks": ["mainnet", "local"]}}}
    assert str(merged.origin_of(("global", "networking", "rpc_timeout"))) == "MEVOPS_GLOBAL__NETWORKING__RPC_TIMEOUT"


def test_bad_environment_variables():
    with pytest.raises(MevopsError, match="empty key segment"):
        env_layer({"MEVOPS_GLOBAL____X": "1"})
    with pytest.raises(MevopsError, match="MEVOPS_A__B: yaml"):
        env_layer({"MEVOPS_A__B": "[unclosed"})
