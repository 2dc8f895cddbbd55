"""fetch_git against real repositories served over file://, http:// and https://."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from argosy.errors import ArtifactNotFound, RepositoryError, StorageError
from argosy.storage.sources import GitSource, fetch_git
from tests.fixtures.gitserver import GitServer, Repo, git
from tests.fixtures.httpserver import TlsMaterial, free_port


@pytest.fixture(autouse=True)
def _isolated_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """fetch_git inherits the environment: keep the developer's git config out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(scope="module")
def demo(git_server: GitServer) -> Repo:
    """main: initial -> v2 (tip); feature branch; tag v1.0 on the initial commit."""
    repo = git_server.make_repo(
        "demo",
        {"README.md": "v1\n", "data/a.txt": "a\n"},
        branches={"feature": {"feature.txt": "feature\n"}},
        tags={"v1.0": "initial"},
    )
    repo.commits["main"] = git_server.commit("demo", {"README.md": "v2\n"})
    repo.commits["change"] = git_server.commit("demo", {"change.txt": "c\n"}, ref="refs/changes/42")
    return repo


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def head(dest: Path) -> str:
    return git("rev-parse", "HEAD", cwd=dest)


def commit_count(dest: Path) -> int:
    return int(git("rev-list", "--count", "HEAD", cwd=dest))


@pytest.fixture(params=["file", "http"])
def url(request: pytest.FixtureRequest, demo: Repo) -> str:
    return demo.file_url if request.param == "file" else demo.http_url


# --------------------------------------------------------------------------- revisions


def test_default_branch(url: str, demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=url), dest)
    assert (dest / "README.md").read_text() == "v2\n"
    assert (dest / "data" / "a.txt").read_text() == "a\n"
    assert head(dest) == demo.commits["main"]
    assert [p.name for p in tmp_path.iterdir()] == ["src"]  # no temporary directory left behind


def test_branch_revision(url: str, demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=url, revision="feature"), dest)
    assert (dest / "feature.txt").read_text() == "feature\n"
    assert head(dest) == demo.commits["feature"]
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=dest) == "HEAD"  # detached, as in Argo


def test_tag_revision(url: str, demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=url, revision="v1.0"), dest)
    assert (dest / "README.md").read_text() == "v1\n"
    assert head(dest) == demo.commits["initial"]


@pytest.mark.parametrize("depth", [None, 1])
def test_commit_sha_revision(url: str, demo: Repo, tmp_path: Path, depth: int | None) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=url, revision=demo.commits["initial"], depth=depth), dest)
    assert head(dest) == demo.commits["initial"]
    assert (dest / "README.md").read_text() == "v1\n"
    if depth:
        assert git("rev-parse", "--is-shallow-repository", cwd=dest) == "true"
        assert commit_count(dest) == 1


def test_short_sha_and_rev_expression(demo: Repo, tmp_path: Path) -> None:
    fetch_git(GitSource(repo=demo.http_url, revision=demo.commits["initial"][:10]), tmp_path / "a")
    assert head(tmp_path / "a") == demo.commits["initial"]
    fetch_git(GitSource(repo=demo.http_url, revision="main~1"), tmp_path / "b")
    assert head(tmp_path / "b") == demo.commits["initial"]


def test_shallow_clone(url: str, demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=url, depth=1), dest)
    assert commit_count(dest) == 1
    assert head(dest) == demo.commits["main"]
    # like go-git, a shallow clone still knows every branch
    assert "origin/feature" in git("branch", "-r", cwd=dest)


def test_shallow_clone_with_branch_revision(demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=demo.http_url, depth=1, revision="feature"), dest)
    assert head(dest) == demo.commits["feature"]
    assert commit_count(dest) == 1


def test_single_branch(url: str, demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=url, single_branch=True, branch="feature"), dest)
    assert head(dest) == demo.commits["feature"]
    assert git("branch", "-r", "--format=%(refname:short)", cwd=dest).split() == ["origin/feature"]


def test_single_branch_revision_outside_branch_is_fetched(demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=demo.http_url, single_branch=True, branch="feature", revision="v1.0"), dest)
    assert head(dest) == demo.commits["initial"]


def test_single_branch_without_branch(demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(StorageError) as exc:
        fetch_git(GitSource(repo=demo.http_url, single_branch=True), tmp_path / "src")
    assert str(exc.value) == "single branch mode without a branch specified"
    assert list(tmp_path.iterdir()) == []


def test_fetch_refspec(url: str, demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    src = GitSource(
        repo=url,
        fetch=["+refs/changes/*:refs/remotes/origin/changes/*"],
        revision="origin/changes/42",
    )
    fetch_git(src, dest)
    assert head(dest) == demo.commits["change"]
    assert (dest / "change.txt").read_text() == "c\n"
    assert git("rev-parse", "refs/remotes/origin/changes/42", cwd=dest) == demo.commits["change"]


def test_fetch_refspec_without_revision_keeps_default_checkout(demo: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=demo.http_url, fetch=["refs/changes/42:refs/heads/change"]), dest)
    assert head(dest) == demo.commits["main"]
    assert git("rev-parse", "refs/heads/change", cwd=dest) == demo.commits["change"]


# --------------------------------------------------------------------------- submodules


@pytest.fixture(scope="module")
def superproject(git_server: GitServer) -> Repo:
    leaf = git_server.make_repo("leaf", {"leaf.txt": "leaf\n"})
    mid = git_server.make_repo("mid", {"mid.txt": "mid\n"}, submodules={"deps/leaf": leaf.http_url})
    return git_server.make_repo("super", {"main.txt": "super\n"}, submodules={"vendor/mid": mid.http_url})


@pytest.mark.parametrize("transport", ["file", "http"])
def test_submodules_updated_recursively(superproject: Repo, tmp_path: Path, transport: str) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=superproject.file_url if transport == "file" else superproject.http_url), dest)
    assert (dest / "vendor" / "mid" / "mid.txt").read_text() == "mid\n"
    assert (dest / "vendor" / "mid" / "deps" / "leaf" / "leaf.txt").read_text() == "leaf\n"


def test_submodules_disabled(superproject: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=superproject.http_url, disable_submodules=True), dest)
    assert (dest / "main.txt").exists()
    assert (dest / "vendor" / "mid").is_dir()
    assert list((dest / "vendor" / "mid").iterdir()) == []


def test_submodules_with_revision(superproject: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=superproject.http_url, revision=superproject.commits["initial"]), dest)
    assert (dest / "vendor" / "mid" / "deps" / "leaf" / "leaf.txt").exists()


# --------------------------------------------------------------------------- credentials


@pytest.fixture(scope="module")
def private(git_server: GitServer) -> Repo:
    return git_server.make_repo("private/secret", {"secret.txt": "classified\n"})


def test_private_repo_with_credentials(git_server: GitServer, private: Repo, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(
        GitSource(repo=private.http_url, username=git_server.username, password=git_server.password), dest
    )
    assert (dest / "secret.txt").read_text() == "classified\n"
    config = (dest / ".git" / "config").read_text()
    assert git_server.password not in config
    assert git_server.username not in config
    assert git("remote", "get-url", "origin", cwd=dest) == private.http_url


def test_private_repo_wrong_password_fails_fast(git_server: GitServer, private: Repo, tmp_path: Path) -> None:
    password = "wrong-Secret-Value-123"
    started = time.monotonic()
    with pytest.raises(RepositoryError) as exc:
        fetch_git(
            GitSource(repo=private.http_url, username=git_server.username, password=password), tmp_path / "s"
        )
    assert time.monotonic() - started < 20
    message = str(exc.value)
    assert "Authentication failed" in message
    assert private.http_url.rstrip("/") in message
    assert password not in message
    assert git_server.username not in message
    assert not isinstance(exc.value, ArtifactNotFound)
    assert list(tmp_path.iterdir()) == []


def test_private_repo_without_credentials_does_not_prompt(private: Repo, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="failed to clone"):
        fetch_git(GitSource(repo=private.http_url), tmp_path / "s", timeout=30)


def test_credentials_in_repo_url_are_not_reported(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.url.replace("http://", "http://someone:Url-Pa55word@") + "/private/missing.git"
    with pytest.raises(RepositoryError) as exc:
        fetch_git(GitSource(repo=url), tmp_path / "s")
    assert "Url-Pa55word" not in str(exc.value)
    assert "someone" not in str(exc.value)


def test_ssh_key_is_used_and_removed(tmp_path: Path) -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90LWEtcmVhbC1rZXk=\n-----END OPENSSH PRIVATE KEY-----"
    before = set(Path(tempfile.gettempdir()).glob("argosy-ssh-*"))
    src = GitSource(
        repo=f"ssh://127.0.0.1:{free_port()}/repo.git", ssh_private_key=key, insecure_ignore_host_key=True
    )
    with pytest.raises(RepositoryError) as exc:
        fetch_git(src, tmp_path / "s", timeout=60)
    assert "bm90LWEtcmVhbC1rZXk" not in str(exc.value)
    assert set(Path(tempfile.gettempdir()).glob("argosy-ssh-*")) == before


def test_repr_hides_secrets() -> None:
    src = GitSource(
        repo="https://u:tok3n@example.com/r.git", username="alice", password="hunter2", ssh_private_key="K"
    )
    text = repr(src)
    assert "hunter2" not in text and "alice" not in text and "tok3n" not in text and "'K'" not in text
    assert "password='***'" in text


# --------------------------------------------------------------------------- TLS


def test_https_needs_trusted_certificate(git_server: GitServer, demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="(?i)certificate"):
        fetch_git(GitSource(repo=git_server.https_url_for("demo")), tmp_path / "a")
    fetch_git(GitSource(repo=git_server.https_url_for("demo"), insecure_skip_tls=True), tmp_path / "b")
    assert head(tmp_path / "b") == demo.commits["main"]
    assert "sslverify" not in (tmp_path / "b" / ".git" / "config").read_text().lower()


def test_https_private_repo_with_trusted_ca(
    git_server: GitServer,
    private: Repo,
    tls_material: TlsMaterial,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_SSL_CAINFO", str(tls_material.ca_file))
    src = GitSource(
        repo=git_server.https_url_for("private/secret"),
        username=git_server.username,
        password=git_server.password,
    )
    fetch_git(src, tmp_path / "s")
    assert (tmp_path / "s" / "secret.txt").read_text() == "classified\n"


# --------------------------------------------------------------------------- failures


def test_missing_repository_is_a_repository_error(git_server: GitServer, tmp_path: Path) -> None:
    # Argo's git driver never reports NotFound, so optional git inputs are not skipped
    for url in (git_server.http_url_for("nope"), (tmp_path / "nope.git").as_uri()):
        with pytest.raises(RepositoryError) as exc:
            fetch_git(GitSource(repo=url), tmp_path / "s")
        assert not isinstance(exc.value, ArtifactNotFound)
        assert f'failed to clone "{url}"' in str(exc.value)


def test_missing_revision(demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match='failed to resolve revision "no-such-branch"') as exc:
        fetch_git(GitSource(repo=demo.http_url, revision="no-such-branch"), tmp_path / "s")
    assert not isinstance(exc.value, ArtifactNotFound)
    assert list(tmp_path.iterdir()) == []


def test_missing_single_branch(demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="no-such-branch"):
        fetch_git(GitSource(repo=demo.http_url, single_branch=True, branch="no-such-branch"), tmp_path / "s")


def test_bad_fetch_refspec(demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="failed to fetch"):
        fetch_git(GitSource(repo=demo.http_url, fetch=["refs/does/not:refs/exist"]), tmp_path / "s")


def test_option_injection_is_rejected(demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="invalid git revision"):
        fetch_git(GitSource(repo=demo.http_url, revision="--upload-pack=touch /tmp/x"), tmp_path / "s")


def test_empty_repository(git_server: GitServer, tmp_path: Path) -> None:
    empty = git_server.make_repo("empty", {})
    dest = tmp_path / "src"
    fetch_git(GitSource(repo=empty.http_url, revision="main"), dest)
    assert (dest / ".git").is_dir()
    assert [p.name for p in dest.iterdir()] == [".git"]


def test_destination_must_be_absent_or_empty(demo: Repo, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    fetch_git(GitSource(repo=demo.http_url), empty)
    assert (empty / "README.md").exists()
    with pytest.raises(StorageError, match="not an empty directory"):
        fetch_git(GitSource(repo=demo.http_url), empty)


def test_relative_destination(demo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fetch_git(GitSource(repo=demo.http_url, revision="feature"), Path("rel") / "src")
    assert (tmp_path / "rel" / "src" / "feature.txt").exists()
    assert leftovers(tmp_path / "rel") == ["src"]


def test_timeout(demo: Repo, tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="timed out"):
        fetch_git(GitSource(repo=demo.http_url), tmp_path / "s", timeout=0.001)
    assert list(tmp_path.iterdir()) == []
