"""``mevops infra``: drive the rendered ``infrastructure/`` tree.

- ``terraform``  plan, apply, output and destroy one target (``local``, ``aws``, ``gcp``, ``azure``)
  of ``infrastructure/deployment/terraform/targets/`` through python-terraform, the state kept in
  the workspace (``infrastructure/state/<env>/<target>/``, git-ignored).
- ``ansible``    run ``infrastructure/deployment/ansible/site.yml`` through ansible-runner,
  streaming each task's result.
- ``kustomize`` and ``kubernetes``  build ``infrastructure/deployment/kubernetes/overlays/<env>``
  and server-side apply it with the official client.

Each module imports its driver lazily; a missing tool or library is a user error (exit 2).
"""

from mevops.errors import CheckFailed


class InfraFailed(CheckFailed):
    """Terraform, Ansible or the Kubernetes API ran and failed: exit 1, with what to do next."""
