"""Git input artifacts, with Argo's semantics (``workflow/artifacts/git/git.go``), via the git CLI.

Steps, as in Argo: clone (``depth``; ``singleBranch`` + ``branch``), fetch the ``fetch``
refspecs, check out ``revision`` detached (a branch, tag, SHA or any rev expression;
fetched from the remote first when the clone lacks it, e.g. a SHA below a shallow
clone), then update submodules recursively unless ``disableSubmodules``. ``branch`` is
only used together with ``singleBranch``, as in Argo. An empty remote repository yields
an empty clone (Argo inits one too).

Errors: every git failure is a :class:`RepositoryError` carrying git's stderr and the
repository URL, both with credentials removed. A missing repository, branch or revision
is deliberately *not* :class:`ArtifactNotFound`: Argo's git driver wraps go-git's errors
without its NotFound code, so an ``optional: true`` git input that cannot be cloned fails
the step instead of being skipped. We keep that behaviour.

Credentials: ``username``/``password`` reach git through a credential helper that reads
them from the child's environment, so they are never in argv, in the URL, in
``.git/config`` or in a credential store; other configured helpers are disabled for the
fetch. ``ssh_private_key`` goes to a 0600 temporary file used through
``GIT_SSH_COMMAND`` and removed afterwards. Git never prompts (``GIT_TERMINAL_PROMPT=0``,
no askpass, ssh ``BatchMode``), so bad credentials fail fast.

Submodules use git's own transport policy: since git 2.38.1 a submodule with a
``file://`` (or local path) URL is refused unless the user allows it in their git config.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from argosy.errors import RepositoryError, StorageError
from argosy.storage.sources.http import redact, safe_url
from argosy.storage.sources.raw import temp_sibling

__all__ = ["GitSource", "fetch_git"]

log = logging.getLogger(__name__)

_MASK = "***"
_SSH_USER_IN_URL = re.compile(r"^(ssh://)?([^/:]*?)@[^@]+$")  # Argo's GetUser
_SCP_LIKE = re.compile(r"^[^/:]+:(?!//)")
# Variables that would point git at some other repository or inject configuration.
_ENV_DROP = frozenset(
    {
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_SHALLOW_FILE",
        "GIT_GRAFT_FILE", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS", "GIT_IMPLICIT_WORK_TREE",
        "GIT_INTERNAL_SUPER_PREFIX", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
        "GIT_QUARANTINE_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "SSH_ASKPASS",
    }
)  # fmt: skip
_CRED_HELPER = (
    '!f() { test "$1" = get || exit 0; '
    'printf \'username=%s\\npassword=%s\\n\' "$ARGOSY_GIT_USERNAME" "$ARGOSY_GIT_PASSWORD"; }; f'
)
_NOISE = re.compile(r"^(Cloning into |warning: You appear to have cloned an empty repository)")


@dataclass(repr=False)
class GitSource:
    """Where a git input artifact comes from (Argo ``git``); secrets already resolved."""

    repo: str
    revision: str | None = None
    depth: int | None = None
    fetch: list[str] = field(default_factory=list)
    single_branch: bool = False
    branch: str | None = None
    disable_submodules: bool = False
    username: str | None = None
    password: str | None = None
    ssh_private_key: str | None = None
    insecure_ignore_host_key: bool = False
    insecure_skip_tls: bool = False

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if k not in ("username", "password", "ssh_private_key")}
        shown["repo"] = safe_url(self.repo)
        body = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        masked = ", ".join(
            f"{k}={_MASK!r}" for k in ("username", "password", "ssh_private_key") if getattr(self, k)
        )
        return f"GitSource({body}{', ' + masked if masked else ''})"

    def secrets(self) -> list[str]:
        """Every secret value this source holds (for redaction)."""
        return [s for s in (self.username, self.password, self.ssh_private_key) if s]


class _Git:
    """Runs git commands for one fetch with a fixed environment, config and deadline."""

    def __init__(self, src: GitSource, env: dict[str, str], config: list[str], timeout: float | None) -> None:
        self.src = src
        self.url = safe_url(src.repo)
        self.env = env
        self.config = config
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout

    def run(self, *args: str, cwd: Path, what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``git <args>`` in ``cwd``; on failure raise ``RepositoryError(f"{what}: ...")``."""
        remaining = None if self.deadline is None else max(0.1, self.deadline - time.monotonic())
        argv = ["git", *self.config, *args]
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # no controlling tty; lets us kill helpers on timeout
            )
        except FileNotFoundError:
            raise RepositoryError("git executable not found on PATH") from None
        with proc:
            try:
                out, err = proc.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise RepositoryError(f"{what}: timed out after {self.timeout:g}s") from None
        result = subprocess.CompletedProcess(argv, proc.returncode, out, err)
        if check and proc.returncode != 0:
            raise RepositoryError(f"{what}: {self.detail(err, proc.returncode)}")
        return result

    def detail(self, stderr: str, code: int) -> str:
        lines = [ln.strip() for ln in redact(stderr, self.src.secrets()).splitlines()]
        text = "; ".join(ln for ln in lines if ln and not _NOISE.match(ln))
        return (text[:2000] + "...") if len(text) > 2000 else (text or f"git exited with status {code}")

    def rev_parse(self, rev: str, cwd: Path) -> str | None:
        res = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=cwd, what="", check=False)
        return res.stdout.strip() if res.returncode == 0 else None


def _validate(src: GitSource) -> None:
    if not src.repo:
        raise StorageError("git artifact has no repo")
    if src.single_branch and not src.branch:
        raise StorageError("single branch mode without a branch specified")
    for label, value in (
        ("revision", src.revision),
        ("branch", src.branch),
        *(("fetch", f) for f in src.fetch),
    ):
        if value and (value.startswith("-") or any(c in value for c in "\0\n\r")):
            raise StorageError(f"invalid git {label} {value!r}")
    if src.depth is not None and src.depth < 0:
        raise StorageError(f"invalid git depth {src.depth}")
    if any("\n" in s or "\0" in s for s in (src.username or "", src.password or "")):
        raise StorageError("git username and password must not contain newlines")


def _is_ssh(repo: str) -> bool:
    return repo.startswith("ssh://") or repo.startswith("git+ssh://") or bool(_SCP_LIKE.match(repo))


@contextlib.contextmanager
def _environment(src: GitSource) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Yield the child environment and ``-c`` options; remove the temporary SSH key after."""
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", LC_ALL="C", LANGUAGE="C")
    env.setdefault("GIT_HTTP_LOW_SPEED_LIMIT", "1")  # abort transfers stalled for 2 minutes
    env.setdefault("GIT_HTTP_LOW_SPEED_TIME", "120")
    config = ["-c", "advice.detachedHead=false"]
    if src.insecure_skip_tls:
        config += ["-c", "http.sslVerify=false"]
    if src.username or src.password:
        config += ["-c", "credential.helper=", "-c", f"credential.helper={_CRED_HELPER}"]
        env["ARGOSY_GIT_USERNAME"] = src.username or ""
        env["ARGOSY_GIT_PASSWORD"] = src.password or ""
    keydir: str | None = None
    try:
        if src.ssh_private_key or src.insecure_ignore_host_key:
            ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30"]
            if src.ssh_private_key:
                keydir = tempfile.mkdtemp(prefix="argosy-ssh-")
                keyfile = os.path.join(keydir, "id")
                key = src.ssh_private_key.replace("\r\n", "\n").strip() + "\n"  # ssh needs the newline
                fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(key)
                ssh += ["-i", keyfile, "-o", "IdentitiesOnly=yes"]
                if _is_ssh(src.repo) and not _SSH_USER_IN_URL.match(src.repo):
                    ssh += ["-o", "User=git"]  # Argo's default SSH user
            if src.insecure_ignore_host_key:
                ssh += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
            env["GIT_SSH_COMMAND"] = shlex.join(ssh)
            env["GIT_SSH_VARIANT"] = "ssh"
        yield env, config
    finally:
        if keydir:
            shutil.rmtree(keydir, ignore_errors=True)


def fetch_git(src: GitSource, dest: Path, *, timeout: float | None = None) -> None:
    """Clone ``src`` into the directory ``dest`` (which must not exist, or be empty).

    The clone is built in a hidden temporary directory next to ``dest`` and renamed into
    place, so ``dest`` never holds a partial checkout. ``timeout`` bounds the whole fetch.
    """
    _validate(src)
    dest = Path(os.path.abspath(dest))
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise StorageError(f"cannot clone into {dest}: it already exists and is not an empty directory")
    work = temp_sibling(dest, ".git-tmp")
    try:
        try:
            work.mkdir(mode=0o700)
        except OSError as e:
            raise StorageError(f"cannot clone into {dest}: {e.strerror or e}") from None
        with _environment(src) as (env, config):
            git = _Git(src, env, config, timeout)
            _clone(git, src, work / "repo")
        try:
            os.replace(work / "repo", dest)
        except OSError as e:
            raise StorageError(
                f"cannot move the clone of {safe_url(src.repo)} to {dest}: {e.strerror or e}"
            ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _clone(git: _Git, src: GitSource, repo: Path) -> None:
    url, depth = git.url, src.depth or 0
    args = ["clone", "--quiet", "--no-recurse-submodules"]
    if depth:
        args += ["--depth", str(depth)]
    if src.single_branch:
        args += ["--single-branch", "--branch", src.branch or ""]
    elif depth:
        args.append("--no-single-branch")  # go-git's shallow clones keep every branch
    if src.revision:
        args.append("--no-checkout")
    git.run(*args, "--", src.repo, str(repo), cwd=repo.parent, what=f'failed to clone "{url}"')

    if (
        git.rev_parse("HEAD", repo) is None
        and not git.run("for-each-ref", "--count=1", cwd=repo, what="failed to list refs").stdout.strip()
    ):
        log.info("cloned an empty repository from %s", url)
        return

    depth_args = ["--depth", str(depth)] if depth else []
    if src.fetch:
        git.run(
            "fetch", "--quiet", "--update-head-ok", *depth_args, "origin", *src.fetch,
            cwd=repo, what=f"failed to fetch {src.fetch} from \"{url}\"",
        )  # fmt: skip

    if src.revision:
        rev = src.revision
        sha = git.rev_parse(rev, repo) or git.rev_parse(f"refs/remotes/origin/{rev}", repo)
        if sha is None:
            log.debug("revision %s not in the clone; fetching it from %s", rev, url)
            res = git.run("fetch", "--quiet", *depth_args, "origin", rev, cwd=repo, what="", check=False)
            sha = git.rev_parse("FETCH_HEAD", repo) if res.returncode == 0 else None
            if sha is None:
                why = git.detail(res.stderr, res.returncode) if res.returncode else "not a commit"
                raise RepositoryError(f'failed to resolve revision "{rev}" in "{url}": {why}')
        git.run("checkout", "--quiet", "--detach", sha, cwd=repo, what=f'failed to checkout "{sha}"')

    if not src.disable_submodules and (repo / ".gitmodules").exists():
        git.run(
            "submodule", "--quiet", "update", "--init", "--recursive", "--force",
            cwd=repo, what=f'failed to update submodules of "{url}"',
        )  # fmt: skip
