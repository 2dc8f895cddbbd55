"""Artifacts for the engine: which repository, which key, and moving the bytes of one pod.

Repository resolution follows Argo: ``spec.artifactRepositoryRef`` -> ConfigMap
``artifact-repositories`` (default key from its annotation) -> the controller config's
``artifactRepository`` -> Argosy's embedded default, a folder under ``ARGOSY_HOME``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from argosy.errors import ArtifactNotFound, RepositoryError, StorageError
from argosy.pipeline.config import ControllerConfig
from argosy.pipeline.executors.base import PodRequest
from argosy.pipeline.model import Artifact, LocalArtifact, S3Artifact, SecretKeySelector

__all__ = ["DEFAULT_KEY_FORMAT", "ArtifactManager", "Repository", "resolve_repository"]

DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}"
REPOSITORIES_CONFIG_MAP = "artifact-repositories"
DEFAULT_REPO_ANNOTATION = "workflows.argoproj.io/default-artifact-repository"


@dataclass
class Repository:
    """A resolved artifact repository: its spec (Argo's shape) and where it came from."""

    spec: dict[str, Any]
    source: str  # e.g. "configmap artifact-repositories#my-key", "controller config", "default"

    @property
    def kind(self) -> str:
        for k in ("s3", "local", "fsspec", "gcs", "azure", "oss", "hdfs", "artifactory"):
            if k in self.spec:
                return k
        return "local"

    @property
    def key_format(self) -> str:
        body = self.spec.get(self.kind) or {}
        if body.get("keyFormat"):
            return str(body["keyFormat"])
        if body.get("keyPrefix"):
            return f"{str(body['keyPrefix']).rstrip('/')}/{DEFAULT_KEY_FORMAT}"
        return DEFAULT_KEY_FORMAT


def resolve_repository(store: Any, config: ControllerConfig, namespace: str | None, ref: dict[str, Any] | None = None) -> Repository:
    """Argo's lookup order; a missing explicit ref is an error, as in Argo."""
    cm_name = (ref or {}).get("configMap") or REPOSITORIES_CONFIG_MAP
    doc = store.get_document("ConfigMap", cm_name, namespace) or store.get_document("ConfigMap", cm_name, None)
    if doc is not None:
        key = (ref or {}).get("key") or ((doc.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_REPO_ANNOTATION)
        data = doc.get("data") or {}
        if key and key in data:
            try:
                spec = yaml.safe_load(data[key]) or {}
            except yaml.YAMLError as exc:
                raise RepositoryError(f"ConfigMap {cm_name} key {key}: invalid YAML: {exc}") from None
            return Repository(spec, f"configmap {cm_name}#{key}")
    if ref:
        raise RepositoryError(f'failed to find any artifact repository for artifact repository ref "{ref}"')
    if config.artifact_repository:
        return Repository(dict(config.artifact_repository), "controller config")
    return Repository({"local": {"path": str(store.artifacts_dir)}}, "default")


class ArtifactManager:
    """Implements the executor's ArtifactService for one repository."""

    def __init__(self, store: Any, repository: Repository, namespace: str | None = None) -> None:
        self.store = store
        self.repository = repository
        self.namespace = namespace
        self._drivers: dict[str, Any] = {}

    @classmethod
    def from_config(cls, store: Any, config: ControllerConfig, namespace: str | None = None, ref: dict[str, Any] | None = None) -> ArtifactManager:
        return cls(store, resolve_repository(store, config, namespace, ref), namespace)

    @property
    def key_format(self) -> str:
        return self.repository.key_format

    # ------------------------------------------------------------------ secrets and drivers

    def secret(self, sel: SecretKeySelector | dict[str, Any] | None) -> str | None:
        if sel is None:
            return None
        name = sel.name if isinstance(sel, SecretKeySelector) else sel.get("name")
        key = sel.key if isinstance(sel, SecretKeySelector) else sel.get("key")
        doc = self.store.get_document("Secret", name or "", self.namespace) or self.store.get_document("Secret", name or "", None)
        if doc is None:
            raise RepositoryError(f"secret '{name}' not found (apply it with `argosy apply -f`)")
        if key in (doc.get("stringData") or {}):
            return str(doc["stringData"][key])
        raw = (doc.get("data") or {}).get(key)
        if raw is None:
            raise RepositoryError(f"secret '{name}' has no key '{key}'")
        try:
            return base64.b64decode(raw).decode()
        except (ValueError, UnicodeDecodeError):
            raise RepositoryError(f"secret '{name}' key '{key}' is not valid base64 text") from None

    def _s3_driver(self, bucket_spec: dict[str, Any]) -> Any:
        from argosy.storage.drivers.s3 import S3Config, S3Driver

        cache_key = repr(sorted((k, repr(v)) for k, v in bucket_spec.items() if k != "key"))
        if cache_key in self._drivers:
            return self._drivers[cache_key]
        enc = bucket_spec.get("encryptionOptions") or {}
        cfg = S3Config(
            endpoint=bucket_spec.get("endpoint") or "",
            bucket=bucket_spec.get("bucket") or "",
            region=bucket_spec.get("region") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            insecure=bool(bucket_spec.get("insecure")),
            access_key=self.secret(bucket_spec.get("accessKeySecret")),
            secret_key=self.secret(bucket_spec.get("secretKeySecret")),
            session_token=self.secret(bucket_spec.get("sessionTokenSecret")),
            role_arn=bucket_spec.get("roleARN"),
            use_sdk_creds=bool(bucket_spec.get("useSDKCreds")),
            addressing_style=bucket_spec.get("addressingStyle") or None,
            create_bucket_if_not_present=bucket_spec.get("createBucketIfNotPresent") is not None,
            kms_key_id=enc.get("kmsKeyId"),
            enable_encryption=bool(enc.get("enableEncryption")),
        )
        driver = S3Driver(cfg)
        self._drivers[cache_key] = driver
        return driver

    def repository_driver(self) -> Any:
        kind = self.repository.kind
        body = self.repository.spec.get(kind) or {}
        if kind == "s3":
            return self._s3_driver(body)
        if kind == "local":
            from argosy.storage.drivers.local import LocalDriver

            key = "local"
            if key not in self._drivers:
                self._drivers[key] = LocalDriver(Path(body.get("path") or self.store.artifacts_dir))
            return self._drivers[key]
        if kind == "fsspec":
            from argosy.storage.drivers.fsspec import FsspecDriver

            key = f"fsspec:{body.get('url')}"
            if key not in self._drivers:
                self._drivers[key] = FsspecDriver(str(body.get("url")), **(body.get("options") or {}))
            return self._drivers[key]
        raise RepositoryError(f"artifact repository type '{kind}' ({self.repository.source}) is not supported by Argosy; use s3, local or fsspec")

    def driver_for(self, art: Artifact) -> tuple[Any, str]:
        """The driver and key of an artifact's location (key-only locations use the repository)."""
        if art.s3 is not None:
            spec = art.s3.model_dump(by_alias=True, exclude_none=True)
            key = spec.pop("key", None)
            if not spec.get("bucket"):
                repo = self.repository.spec.get("s3")
                if repo is None:
                    if self.repository.kind != "s3" and key:
                        return self.repository_driver(), key
                    raise RepositoryError(f"artifact '{art.name}' has an s3 key but no bucket, and the artifact repository is not S3")
                spec = {**{k: v for k, v in repo.items() if k not in ("keyFormat", "keyPrefix")}, **spec}
            if not key:
                raise StorageError(f"artifact '{art.name}' has no s3 key")
            return self._s3_driver(spec), key
        if art.local is not None and art.local.key:
            return self.repository_driver(), art.local.key
        raise StorageError(f"artifact '{art.name}' has no repository location")

    # ------------------------------------------------------------------ ArtifactService

    def load_input(self, art: Artifact, dest: Path) -> bool:
        from argosy.storage.archives import archive_format_from_spec
        from argosy.storage.transfer import load_artifact

        try:
            if art.raw is not None:
                from argosy.storage.sources import fetch_raw

                fetch_raw(art.raw.data, dest)
                return True
            if art.git is not None:
                return self._load_git(art, dest)
            if art.http is not None:
                return self._load_http(art, dest)
            if art.s3 is None and art.local is None:
                return False
            driver, key = self.driver_for(art)
            fmt = archive_format_from_spec(art.archive.to_dict()) if art.archive is not None else None
            load_artifact(driver, key, dest, fmt)
            return True
        except ArtifactNotFound:
            if art.optional:
                return False
            raise

    def _load_git(self, art: Artifact, dest: Path) -> bool:
        from argosy.storage.sources import GitSource, fetch_git

        g = art.git
        assert g is not None
        src = GitSource(
            repo=g.repo,
            revision=g.revision,
            depth=g.depth,
            fetch=list(g.fetch or []),
            single_branch=bool(g.single_branch),
            branch=g.branch,
            disable_submodules=bool(g.disable_submodules),
            username=self.secret(g.username_secret),
            password=self.secret(g.password_secret),
            ssh_private_key=self.secret(g.ssh_private_key_secret),
            insecure_ignore_host_key=bool(g.insecure_ignore_host_key),
            insecure_skip_tls=bool(g.insecure_skip_tls),
        )
        if dest.exists() and dest.is_dir() and not any(dest.iterdir()):
            dest.rmdir()
        fetch_git(src, dest)
        return True

    def _load_http(self, art: Artifact, dest: Path) -> bool:
        from argosy.storage.archives import archive_format_from_spec, unpack
        from argosy.storage.sources import BasicAuth, ClientCert, HttpSource, OAuth2, fetch_http

        h = art.http
        assert h is not None
        auth = h.auth
        basic = oauth = cert = None
        if auth is not None and auth.basic_auth is not None:
            basic = BasicAuth(self.secret(auth.basic_auth.username_secret) or "", self.secret(auth.basic_auth.password_secret) or "")
        if auth is not None and auth.oauth2 is not None:
            o = auth.oauth2
            oauth = OAuth2(
                client_id=self.secret(o.client_id_secret) or "",
                client_secret=self.secret(o.client_secret_secret) or "",
                token_url=self.secret(o.token_url_secret) or "",
                scopes=list(o.scopes or []),
                endpoint_params=[(p.key, p.value or "") for p in o.endpoint_params or []],
            )
        if auth is not None and auth.client_cert is not None:
            cert = ClientCert(self.secret(auth.client_cert.client_cert_secret) or "", self.secret(auth.client_cert.client_key_secret) or "")
        src = HttpSource(url=h.url, headers=[(x.name, x.value) for x in h.headers or []], basic_auth=basic, oauth2=oauth, client_cert=cert)
        tmp = dest.parent / f".{dest.name}.download"
        fetch_http(src, tmp)
        try:
            fmt = archive_format_from_spec(art.archive.to_dict()) if art.archive is not None else None
            if fmt is not None and fmt.kind == "none":
                os.replace(tmp, dest)
                return True
            with tmp.open("rb") as fh:
                unpack(fh, dest, fmt)
        finally:
            if tmp.exists():
                tmp.unlink()
        return True

    def save_output(self, art: Artifact, src: Path, key_prefix: str, pod: PodRequest) -> Artifact | None:
        from argosy.storage.archives import archive_format_from_spec, object_name
        from argosy.storage.transfer import save_artifact

        if art.git is not None:
            raise StorageError("git output artifacts unsupported")
        if art.raw is not None:
            raise StorageError("Raw output artifacts unsupported")
        fmt = archive_format_from_spec(art.archive.to_dict() if art.archive is not None else None)
        if art.type == "File" and src.is_dir():
            raise StorageError(f"output artifact '{art.name}' is declared type File but {art.path} is a directory")
        if art.type == "Directory" and not src.is_dir():
            raise StorageError(f"output artifact '{art.name}' is declared type Directory but {art.path} is not a directory")
        out = art.model_copy(deep=True)
        if art.s3 is not None and art.s3.key:
            driver, key = self.driver_for(art)
        else:
            key = f"{key_prefix.rstrip('/')}/{object_name(art.name, Path(art.path or src.name).name, fmt)}"
            if self.repository.kind == "s3":
                out.s3 = (art.s3 or S3Artifact()).model_copy(update={"key": key})
                driver, key = self.driver_for(out)
            else:
                driver = self.repository_driver()
                out.local = LocalArtifact(key=key)
        saved = save_artifact(driver, key, src, fmt)
        out.size = saved.size
        out.digest = f"sha256:{saved.sha256}"
        return out

    def save_log(self, log: Path, key_prefix: str, pod: PodRequest) -> Artifact | None:
        from argosy.storage.archives import ArchiveFormat
        from argosy.storage.transfer import save_artifact

        key = f"{key_prefix.rstrip('/')}/main.log"
        art = Artifact(name="main-logs")
        if self.repository.kind == "s3":
            art.s3 = S3Artifact(key=key)
            driver, key = self.driver_for(art)
        else:
            driver = self.repository_driver()
            art.local = LocalArtifact(key=key)
        saved = save_artifact(driver, key, log, ArchiveFormat("none"))
        art.size = saved.size
        art.digest = f"sha256:{saved.sha256}"
        return art
