"""Is there a credential a cloud provider will find? Checked before Terraform runs, so that a target
without one is a clear exit 2 rather than a provider error half-way through a plan."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

HINTS = {
    "aws": "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`",
    "gcp": "set GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`",
    "azure": "set ARM_CLIENT_ID with ARM_CLIENT_SECRET (or ARM_USE_OIDC/ARM_USE_MSI), or run `az login`",
}


def _aws(env: Mapping[str, str], home: Path) -> bool:
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return True
    if any(env.get(k) for k in ("AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")):
        return True
    files = [env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws/credentials",
             env.get("AWS_CONFIG_FILE") or home / ".aws/config"]
    return any(Path(f).is_file() for f in files)


def _gcp(env: Mapping[str, str], home: Path) -> bool:
    if env.get("GOOGLE_CREDENTIALS") or env.get("GOOGLE_OAUTH_ACCESS_TOKEN"):
        return True
    if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return Path(env["GOOGLE_APPLICATION_CREDENTIALS"]).is_file()
    config = Path(env.get("CLOUDSDK_CONFIG") or home / ".config/gcloud")
    return (config / "application_default_credentials.json").is_file()


def _azure(env: Mapping[str, str], home: Path) -> bool:
    if env.get("ARM_CLIENT_ID") and any(env.get(k) for k in ("ARM_CLIENT_SECRET", "ARM_CLIENT_CERTIFICATE_PATH",
                                                             "ARM_USE_OIDC", "ARM_OIDC_TOKEN")):
        return True
    if (env.get("ARM_USE_MSI") or "").lower() == "true":
        return True
    config = Path(env.get("AZURE_CONFIG_DIR") or home / ".azure")
    return (config / "msal_token_cache.json").is_file() or (config / "accessTokens.json").is_file()


_CHECKS = {"aws": _aws, "gcp": _gcp, "azure": _azure}


def missing_credentials(target: str, env: Mapping[str, str] | None = None, home: Path | None = None) -> str | None:
    """None when ``target`` needs no credentials or one is there; else how to provide one."""
    check = _CHECKS.get(target)
    if check is None:
        return None
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home()) if home is None else home
    return None if check(env, home) else f"no {target} credentials found: {HINTS[target]}"
