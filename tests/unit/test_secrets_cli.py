"""`mevops secrets`: set/get/list/rotate on the encrypted store; a wrong key is a clear error and
leaves the file untouched; values never appear where they were not asked for."""

from __future__ import annotations

from cryptography.fernet import Fernet

STORE = "mev/config/api-keys.enc"


def test_set_get_list_rotate(run, workspace):
    secret = "sk-live-0123456789abcdef"
    r = run("-w", workspace, "secrets", "set", "relay_auth_key", "--value", secret)
    assert r.code == 0 and secret not in r.out + r.err
    assert run("-w", workspace, "secrets", "get", "relay_auth_key").out.strip() == secret
    listed = run("-w", workspace, "secrets", "list")
    assert "relay_auth_key" in listed.out and secret not in listed.out
    assert secret.encode() not in (workspace / STORE).read_bytes()
    key_path = workspace / ".secrets/master.key"
    old_key = key_path.read_bytes()
    rotated = run("-w", workspace, "secrets", "rotate")
    assert rotated.code == 0 and key_path.read_bytes() != old_key
    assert (key_path.parent / "master.key.old").read_bytes().strip() == old_key.strip()
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    assert run("-w", workspace, "secrets", "get", "relay_auth_key").out.strip() == secret
    stale = run("-w", workspace, "secrets", "list", env={"MEVOPS_SECRETS_KEY": old_key.decode().strip()})
    assert stale.code == 2 and "cannot decrypt" in stale.err


def test_wrong_key_is_refused_and_the_store_untouched(run, workspace, tmp_path):
    run("-w", workspace, "secrets", "set", "a", "--value", "value-a")
    before = (workspace / STORE).read_bytes()
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(Fernet.generate_key())
    for args in (("set", "b", "--value", "x"), ("get", "a"), ("list",), ("rotate",)):
        r = run("-w", workspace, "secrets", *args, "--key-file", wrong)
        assert r.code == 2 and "cannot decrypt" in r.err and "Traceback" not in r.err, args
        assert "value-a" not in r.err
    assert (workspace / STORE).read_bytes() == before
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    assert run("-w", workspace, "secrets", "list", "--key-file", garbage).code == 2


def test_bad_names_and_missing_secrets(run, workspace):
    assert run("-w", workspace, "secrets", "set", "../x", "--value", "v").code == 2
    missing = run("-w", workspace, "secrets", "get", "nope")
    assert missing.code == 2 and "no such secret" in missing.err
