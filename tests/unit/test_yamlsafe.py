import pytest

from mevops.config.yamlsafe import MAX_NODES, load_yaml, parse_yaml
from mevops.errors import MevopsError


def test_lines_of_every_key():
    doc = parse_yaml("a:\n  b: 1\n  c:\n    - x\n    - y\nd: 2\n", "f.yml")
    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}, "d": 2}
    assert doc.lines[("a", "b")] == 2
    assert doc.lines[("a", "c", 1)] == 5
    assert doc.line_of(("a", "missing", "deeper")) == 1
    assert doc.line_of(("d",)) == 6


def test_keys_stay_text_and_dates_stay_text():
    doc = parse_yaml("on: 1\n1: x\nwhen: 2024-01-01\n", "f.yml")
    assert doc.data == {"on": 1, "1": "x", "when": "2024-01-01"}


def test_merge_keys_and_small_aliases_work():
    doc = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "f.yml")
    assert doc.data["use"] == {"x": 1, "y": 3}


def error(text, **kw):
    with pytest.raises(MevopsError) as info:
        parse_yaml(text, "f.yml", **kw)
    assert len(info.value.problems) == 1
    return str(info.value.problems[0])


def test_refusals_name_file_and_line():
    assert error("a: 1\nb:\n  c: 1\n  c: 2\n") == "f.yml:4: b.c: duplicate key (first defined on line 3)"
    assert error("x: !!binary aGVsbG8=\n").startswith("f.yml:1: x: tag")
    assert error("a:\n  b: 1\n\tc: 2\n") == "f.yml:3: yaml: tab used for indentation; YAML needs spaces"
    assert error(b"a: \xff\xfe\n") == "f.yml:1: yaml: not UTF-8 text (binary file?)"
    assert "expected a mapping" in error("[1, 2]\n")
    assert "file is empty" in error("")
    assert "several YAML documents" in error("a: 1\n---\nb: 2\n")
    assert "keys must be plain scalars" in error("? [a, b]\n: 1\n")


def test_alias_bomb_is_stopped_early():
    levels = ["a: &a [" + ",".join(["x"] * 10) + "]"]
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(MevopsError, match="alias bomb"):
        parse_yaml("\n".join(levels) + "\n", "bomb.yml")
    assert MAX_NODES < 10**9


def test_empty_allowed_where_asked():
    assert parse_yaml("", "f.yml", allow_empty=True).data == {}
    assert parse_yaml("# only a comment\n", "f.yml", allow_empty=True).data == {}


def test_scalars_for_env_values():
    assert parse_yaml("30s", "ENV", require_mapping=False).data == "30s"
    assert parse_yaml("3", "ENV", require_mapping=False).data == 3
    assert parse_yaml("[a, b]", "ENV", require_mapping=False).data == ["a", "b"]


def test_files(tmp_path):
    with pytest.raises(MevopsError, match="file not found"):
        load_yaml(tmp_path / "missing.yml")
    with pytest.raises(MevopsError, match="is a directory"):
        load_yaml(tmp_path)
    big = tmp_path / "big.yml"
    big.write_bytes(b"a: " + b"x" * (5 * 1024 * 1024))
    with pytest.raises(MevopsError, match="larger than"):
        load_yaml(big)


def test_pyyaml_still_rejects_non_printable_characters_after_the_lazy_import():
    """yamlsafe defers compiling PyYAML's pure-Python reader regex; that reader still checks."""
    import subprocess
    import sys

    code = ("import re, mevops.config.yamlsafe, yaml\n"
            "assert re.compile.__name__ == 'compile'\n"
            "try:\n    yaml.safe_load('a: \"\\x07\"')\nexcept yaml.reader.ReaderError:\n    print('rejected')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "rejected"
