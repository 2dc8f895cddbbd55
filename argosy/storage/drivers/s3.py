"""S3 / MinIO / S3-compatible artifact repository (boto3), with Argo's configuration surface.

Transfers are shaped by measured facts (``/work/shared/research/perf.md`` §3):

* Uploads stream.  Objects below one part go up in a single PUT; larger or unknown-size streams
  use multipart with parts uploaded by a bounded pool while the next part is read, from a fixed
  set of reusable part buffers: ``part_size × (parts in flight + 1)``, capped by a total budget
  (default 64 MiB) that all of the driver's concurrent uploads share (a flat directory saves
  several files at once).  The default part size is the budget over ``threads + 1`` (5-16 MiB); with
  an explicit part size the budget bounds the parts in flight instead (never fewer than one
  uploading while one fills).  Only an object too big for 10,000 parts of that size grows its
  parts past the budget (two buffers then).  Any failure aborts the multipart upload: no partial
  object ever appears at the key.
* Downloads are ONE streaming GET (ranged GETs cost ~0.5 s each on moto and gain nothing on one
  core); a connection dropped mid-body resumes with a ranged GET pinned to the object's ETag.
* Transient failures (5xx, SlowDown, RequestTimeout, InternalError, connection errors, timeouts)
  are retried here with exponential backoff and jitter (Argo: 5 attempts, 1 s, ×1.6, jitter 0.5);
  botocore's own retries are off so attempts do not multiply.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final, TypeVar
from urllib.parse import urlsplit

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.config import Config

from argosy.errors import ArtifactNotFound, RepositoryError, StorageError

from .base import ArtifactDriver, BufferReader, ObjectInfo, check_key, check_prefix, check_size, fill

__all__ = ["S3Config", "S3Driver"]

log = logging.getLogger(__name__)

MIB: Final = 1 << 20
ENV_PART_SIZE: Final = "ARGOSY_S3_PART_SIZE_MIB"
ENV_THREADS: Final = "ARGOSY_S3_UPLOAD_THREADS"
ENV_BUFFER: Final = "ARGOSY_S3_BUFFER_MIB"
_MAX_PARTS: Final = 10_000
_DELETE_BATCH: Final = 1000  # S3 DeleteObjects limit
_TRANSIENT_CODES: Final = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "SlowDown", "ServiceUnavailable", "InternalError",
     "Throttling", "ThrottlingException", "RequestThrottled", "PriorRequestNotComplete"}
)
_DENIED_CODES: Final = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
     "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem", "InvalidSecurity", "403", "Forbidden"}
)
_NETWORK_ERRORS: Final = (
    botocore.exceptions.HTTPClientError,  # connection refused/closed, connect and read timeouts
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
    ConnectionError,
    TimeoutError,
)

T = TypeVar("T")
_SESSION: boto3.session.Session | None = None
_SESSION_LOCK = threading.Lock()
_OPTIONAL_TEXT: Final = ("endpoint", "region", "access_key", "secret_key", "session_token", "role_arn",
                         "sts_endpoint", "addressing_style", "ca_bundle", "kms_key_id", "sse_customer_key")


@dataclass(frozen=True)
class S3Config:
    """An S3 repository with secrets already resolved (Argo's ``S3Bucket`` fields).

    ``endpoint`` is ``host:port`` or a URL (empty ⇒ AWS); ``insecure`` selects http for a bare
    ``host:port``.  Credentials: ``access_key``/``secret_key`` (+ ``session_token``), else the
    boto3 default chain (``use_sdk_creds``, IRSA, instance roles); ``role_arn`` is then assumed via
    STS (``sts_endpoint``; defaults to the S3 endpoint for non-AWS servers, as MinIO serves STS
    there).  ``addressing_style``: ``path``, ``virtual`` (``virtual-hosted``), or empty for auto:
    virtual on AWS, path elsewhere (what minio-go, Argo's client, does).  ``buffer_mib`` is the
    memory budget for the part buffers of all the driver's uploads together
    (``$ARGOSY_S3_BUFFER_MIB``, else 64, at least 10); ``threads`` defaults to
    ``$ARGOSY_S3_UPLOAD_THREADS`` (else 4, range 1-64) and ``part_size_mib`` to
    ``$ARGOSY_S3_PART_SIZE_MIB`` (range 5-5120), else to what the budget allows for
    ``threads + 1`` buffers (whole MiB, 5-16: 12 MiB by default).  Parts in flight are capped so
    their buffers stay within the budget (see the module docstring).  Secret fields never appear
    in ``repr``.
    """

    bucket: str
    endpoint: str = ""
    region: str = ""
    insecure: bool = False
    access_key: str | None = field(default="", repr=False)
    secret_key: str | None = field(default="", repr=False)
    session_token: str | None = field(default="", repr=False)
    role_arn: str | None = ""
    role_session_name: str = "argosy"
    sts_endpoint: str | None = ""
    use_sdk_creds: bool = False
    addressing_style: str | None = ""
    ca_bundle: str | None = ""
    create_bucket_if_not_present: bool = False
    object_locking: bool = False
    enable_encryption: bool = False
    kms_key_id: str | None = ""
    kms_encryption_context: Mapping[str, str] | None = None
    sse_customer_key: str | None = field(default="", repr=False)
    part_size_mib: int | None = None
    threads: int | None = None
    buffer_mib: int | None = None
    retry_attempts: int = 5
    retry_base_delay: float = 1.0
    retry_factor: float = 1.6
    retry_jitter: float = 0.5
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in _OPTIONAL_TEXT:  # callers pass resolved-but-absent secrets as None
            if getattr(self, name) is None:
                object.__setattr__(self, name, "")
        if not self.bucket:
            raise RepositoryError("S3 repository has no bucket")
        if self.kms_key_id and self.sse_customer_key:
            raise RepositoryError("serverSideCustomerKeySecret and kmsKeyId cannot be set together")
        if self.addressing_style not in ("", "auto", "path", "virtual", "virtual-hosted"):
            raise RepositoryError(
                f"S3 addressingStyle must be 'path' or 'virtual-hosted', got {self.addressing_style!r}"
            )
        if self.retry_attempts < 1:
            raise RepositoryError(f"S3 retry attempts must be at least 1, got {self.retry_attempts}")
        self.part_size()

    def part_size(self) -> int:
        """Multipart part size in bytes (explicit field, else environment, else the budget's share)."""
        share = self.buffer_budget() // MIB // (self.upload_threads() + 1)
        value = _setting(self.part_size_mib, ENV_PART_SIZE, min(max(share, 5), 16), "S3 part size (MiB)")
        if not 5 <= value <= 5120:
            raise RepositoryError(f"S3 part size must be 5-5120 MiB, got {value} MiB")
        return value * MIB

    def upload_threads(self) -> int:
        """Parallel part uploads (explicit field, else environment, else 4)."""
        value = _setting(self.threads, ENV_THREADS, 4, "S3 upload threads")
        if not 1 <= value <= 64:
            raise RepositoryError(f"S3 upload threads must be 1-64, got {value}")
        return value

    def buffer_budget(self) -> int:
        """Part-buffer memory of the driver's uploads together, in bytes (field, else environment, else 64 MiB)."""
        value = _setting(self.buffer_mib, ENV_BUFFER, 64, "S3 part buffer budget (MiB)")
        if value < 10:
            raise RepositoryError(
                f"S3 part buffer budget must be at least 10 MiB (two 5 MiB parts), got {value} MiB"
            )
        return value * MIB


def _setting(explicit: int | None, env: str, default: int, what: str) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RepositoryError(f"{what}: ${env} must be an integer, got {raw!r}") from None


def _endpoint_url(config: S3Config) -> str | None:
    endpoint = config.endpoint.strip().rstrip("/")
    if not endpoint:
        return None
    if "://" in endpoint:
        return endpoint
    return ("http://" if config.insecure else "https://") + endpoint


def _is_aws(url: str | None) -> bool:
    return url is None or (urlsplit(url).hostname or "").endswith("amazonaws.com")


class _BufferPool:
    """Part buffers for all of one driver's uploads, within one byte budget.

    Shared because a flat directory (``archive: none``) saves up to ``max_concurrency`` files at
    once: with a budget per upload, eight 40 MiB files peaked at 452 MB.  An upload waits only for
    its *first* buffer; it takes more only when they are free (``block=False``) and otherwise
    reuses its own once a part is sent, so no upload waits while holding memory another one needs.
    A request bigger than the budget is admitted with at most one other buffer of its size.  Freed
    buffers of the usual size are kept for reuse (fresh 16 MiB allocations page-fault at ~1 GB/s).
    """

    def __init__(self, size: int, keep: int, budget: int) -> None:
        self.size = size
        self._keep = keep
        self._budget = budget
        self._free: builtins.list[bytearray] = []
        self._out = 0  # bytes handed out
        self._cached = 0  # bytes kept in ``_free``
        self._cond = threading.Condition()

    def get(self, size: int, block: bool = True) -> bytearray | None:
        """A buffer of ``size`` bytes, waiting for room if ``block``; else None when there is none."""
        with self._cond:
            while True:
                if size == self.size and self._free:
                    self._cached -= size
                    self._out += size
                    return self._free.pop()
                limit = max(self._budget, 2 * size)
                while self._free and self._out + self._cached + size > limit:
                    self._cached -= len(self._free.pop())
                if not self._out or self._out + size <= limit:
                    self._out += size
                    return bytearray(size)
                if not block:
                    return None
                self._cond.wait()

    def put(self, buf: bytearray) -> None:
        with self._cond:
            self._out -= len(buf)
            if len(buf) == self.size and len(self._free) < self._keep \
                    and self._out + self._cached + len(buf) <= self._budget:
                self._free.append(buf)
                self._cached += len(buf)
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._free.clear()
            self._cached = 0


class S3Driver(ArtifactDriver):
    """Artifacts as objects in one bucket; see the module docstring for transfer behaviour."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.bucket = config.bucket
        self.part_size = config.part_size()
        self.threads = config.upload_threads()
        self.buffer_budget = config.buffer_budget()
        self.max_concurrency = self.threads * 2
        self.endpoint_url = _endpoint_url(config)
        self._endpoint_text = self.endpoint_url or f"AWS S3 ({config.region or 'default region'})"
        self._secrets = tuple(s for s in (config.secret_key, config.session_token, config.sse_customer_key) if s)
        self._buffers = _BufferPool(self.part_size, keep=self._in_flight(self.part_size) + 1,
                                    budget=self.buffer_budget)
        self._bucket_created = not config.create_bucket_if_not_present
        self._bucket_seen = False
        self._lock = threading.Lock()
        self._sse_c: dict[str, str] = {}
        self._sse_put: dict[str, str] = {}
        if config.sse_customer_key:
            self._sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": config.sse_customer_key}
            self._sse_put = dict(self._sse_c)
        elif config.kms_key_id:
            self._sse_put = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": config.kms_key_id}
            if config.kms_encryption_context:
                ctx = json.dumps(dict(config.kms_encryption_context), sort_keys=True).encode()
                self._sse_put["SSEKMSEncryptionContext"] = base64.b64encode(ctx).decode()
        elif config.enable_encryption:
            self._sse_put = {"ServerSideEncryption": "AES256"}
        self.client = self._make_client()

    # -- client ----------------------------------------------------------------------------------

    def _make_client(self) -> Any:
        cfg = self.config
        region = cfg.region or ("us-east-1" if not _is_aws(self.endpoint_url) else None)
        style = {"": None, "auto": None, "path": "path", "virtual": "virtual", "virtual-hosted": "virtual"}[
            cfg.addressing_style or ""
        ] or ("auto" if _is_aws(self.endpoint_url) else "path")
        boto_config = Config(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": style},
            retries={"total_max_attempts": 1},
            connect_timeout=cfg.connect_timeout,
            read_timeout=cfg.read_timeout,
            max_pool_connections=self.threads * 2 + 4,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            user_agent_extra="argosy",
        )
        keys: dict[str, str] = {}
        if cfg.access_key or cfg.secret_key:
            keys = {"aws_access_key_id": cfg.access_key or "", "aws_secret_access_key": cfg.secret_key or ""}
            if cfg.session_token:
                keys["aws_session_token"] = cfg.session_token
        verify: str | bool | None = cfg.ca_bundle or None
        if cfg.role_arn:
            session = self._assume_role_session(boto3.session.Session(**keys), region, boto_config)
            return session.client("s3", endpoint_url=self.endpoint_url, use_ssl=not cfg.insecure, verify=verify,
                                  config=boto_config)
        with _SESSION_LOCK:  # one shared session: loading the service model again costs ~0.2 s per client
            global _SESSION
            if _SESSION is None:
                _SESSION = boto3.session.Session()
            return _SESSION.client("s3", endpoint_url=self.endpoint_url, use_ssl=not cfg.insecure, verify=verify,
                                   config=boto_config, **keys)

    def _assume_role_session(self, base: boto3.session.Session, region: str | None, boto_config: Config) -> Any:
        """Credentials from STS AssumeRole that refresh themselves before they expire."""
        cfg = self.config
        sts_url = cfg.sts_endpoint or (None if _is_aws(self.endpoint_url) else self.endpoint_url)
        sts = base.client("sts", endpoint_url=sts_url, region_name=region or "us-east-1",
                          verify=cfg.ca_bundle or None, config=boto_config)

        def fetch() -> dict[str, str]:
            creds = self._call("assume role", None, lambda: sts.assume_role(
                RoleArn=cfg.role_arn, RoleSessionName=cfg.role_session_name)["Credentials"])
            return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                    "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

        refreshable = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role")

        class _Provider(botocore.credentials.CredentialProvider):
            METHOD = "argosy-assume-role"
            CANONICAL_NAME = "custom-argosy-assume-role"

            def load(self) -> Any:
                return refreshable

        core = botocore.session.get_session()
        core.get_component("credential_provider").insert_before("env", _Provider())
        return boto3.session.Session(botocore_session=core)

    # -- errors and retries ----------------------------------------------------------------------

    def _call(self, op: str, key: str | None, fn: Callable[[], T]) -> T:
        """Run one request, retrying transient failures; map the final failure to one clear error."""
        attempt = 0
        cfg = self.config
        while True:
            try:
                return fn()
            except StorageError:
                raise
            except Exception as exc:
                attempt += 1
                if attempt >= cfg.retry_attempts or not _transient(exc):
                    raise self._error(exc, op, key) from exc
                delay = min(cfg.retry_base_delay * cfg.retry_factor ** (attempt - 1), 30.0)
                delay *= 1 + cfg.retry_jitter * random.random()
                log.warning("S3 %s of %s failed (%s); retry %d/%d in %.1fs", op, self._where(key),
                            self._scrub(_short(exc)), attempt, cfg.retry_attempts - 1, delay)
                time.sleep(delay)

    def _where(self, key: str | None) -> str:
        return f"s3://{self.bucket}/{key}" if key else f"bucket '{self.bucket}'"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, exc: BaseException, op: str, key: str | None) -> StorageError:
        at = f"at endpoint {self._endpoint_text}"
        where = self._where(key)
        err: StorageError
        if isinstance(exc, botocore.exceptions.ClientError):
            code, status, message = _client_error(exc)
            if code == "NoSuchBucket":
                err = RepositoryError(f"bucket '{self.bucket}' does not exist {at}")
            elif code in ("NoSuchKey", "NotFound", "404") or status == 404:
                err = ArtifactNotFound(f"artifact not found: {where} {at}")
            elif code in _DENIED_CODES or status == 403:
                err = RepositoryError(f"access denied to {where} {at} ({code}): check the credentials")
            else:
                err = StorageError(f"S3 {op} of {where} {at} failed: {code}: {message}")
        elif isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)):
            err = RepositoryError(f"cannot reach S3 endpoint {self._endpoint_text} ({op} of {where}): {_short(exc)}")
        elif isinstance(exc, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
            err = RepositoryError(
                f"no usable S3 credentials for {self.describe()}: set accessKey/secretKey, roleARN or useSDKCreds"
            )
        elif isinstance(exc, _NETWORK_ERRORS):
            err = StorageError(f"S3 {op} of {where} {at} failed: network error: {_short(exc)}")
        else:
            err = StorageError(f"S3 {op} of {where} {at} failed: {_short(exc)}")
        err.args = (self._scrub(str(err.args[0])),)
        return err

    # -- writing ---------------------------------------------------------------------------------

    def _ensure_bucket(self) -> None:
        """``createBucketIfNotPresent``: create once per driver; "already exists" is fine (as Argo)."""
        if self._bucket_created:
            return
        with self._lock:
            if self._bucket_created:
                return
            kwargs: dict[str, Any] = {}
            region = self.config.region
            if region and region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            if self.config.object_locking:
                kwargs["ObjectLockEnabledForBucket"] = True

            def create() -> None:
                try:
                    self.client.create_bucket(Bucket=self.bucket, **kwargs)
                except botocore.exceptions.ClientError as exc:
                    if _client_error(exc)[0] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

            self._call("create bucket", None, create)
            self._bucket_created = self._bucket_seen = True

    def put_stream(self, key: str, reader: BinaryIO, size: int | None = None) -> ObjectInfo:
        key = check_key(key)
        self._ensure_bucket()
        part_size = self.part_size
        if size is not None and size > part_size * _MAX_PARTS:
            part_size = math.ceil(size / _MAX_PARTS / MIB) * MIB
        first_len = part_size if size is None else min(size, part_size)
        buf = self._buffers.get(first_len)
        assert buf is not None  # a blocking get always returns
        multipart = False
        try:
            n = fill(reader, memoryview(buf)[:first_len])
            multipart = n == part_size
            if not multipart:  # the whole stream fits in one request
                if size is not None and n == size and fill(reader, memoryview(bytearray(1))):
                    check_size(size + 1, size)
                check_size(n, size)
                view = memoryview(buf)[:n]
                self._call("upload", key, lambda: self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=BufferReader(view), ContentLength=n, **self._sse_put))
                return ObjectInfo(key, n, time.time())
        finally:
            if not multipart:
                self._buffers.put(buf)
        return self._multipart(key, reader, size, part_size, buf, n)

    def _in_flight(self, part_size: int) -> int:
        """Parts uploading while the next one fills: ``threads``, fewer if the budget says so, at least 1."""
        return max(1, min(self.threads, self.buffer_budget // part_size - 1))

    def _multipart(self, key: str, reader: BinaryIO, size: int | None, part_size: int, first: bytearray,
                   first_len: int) -> ObjectInfo:
        try:
            upload_id: str = self._call("start multipart upload", key, lambda: self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, **self._sse_put)["UploadId"])
        except BaseException:
            self._buffers.put(first)
            raise
        in_flight = self._in_flight(part_size)
        pool = ThreadPoolExecutor(in_flight, thread_name_prefix="argosy-s3-part")
        pending: dict[Future[str], tuple[int, bytearray]] = {}
        etags: dict[int, str] = {}
        spare: builtins.list[bytearray] = []

        def reap(block: bool) -> None:
            done, _ = wait(pending, return_when=FIRST_COMPLETED) if block else (
                [f for f in pending if f.done()], None)
            for fut in done:
                number, used = pending.pop(fut)
                spare.append(used)
                etags[number] = fut.result()

        try:
            buf, n, number, total = first, first_len, 1, 0
            while True:
                pending[pool.submit(self._upload_part, key, upload_id, number, memoryview(buf)[:n])] = (number, buf)
                total += n
                if n < part_size:
                    break
                if len(pending) > in_flight:  # the next buffer may fill while `in_flight` parts upload
                    reap(block=True)
                else:
                    reap(block=False)
                if not spare and (more := self._buffers.get(part_size, block=False)) is not None:
                    spare.append(more)
                if not spare:  # the budget is taken (other uploads): wait for one of our own parts
                    reap(block=True)
                buf = spare.pop()
                n = fill(reader, memoryview(buf)[:part_size])
                if not n:
                    spare.append(buf)
                    break
                number += 1
                if number > _MAX_PARTS:
                    raise StorageError(
                        f"upload of {self._where(key)} exceeds {_MAX_PARTS} parts of {part_size // MIB} MiB; "
                        f"raise ${ENV_PART_SIZE}"
                    )
            while pending:
                reap(block=True)
            check_size(total, size)
            parts = [{"PartNumber": i, "ETag": etags[i]} for i in sorted(etags)]
            self._call("complete multipart upload", key, lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}))
            return ObjectInfo(key, total, time.time())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            self._abort(key, upload_id)
            raise
        finally:
            pool.shutdown(wait=True)
            for _, used in pending.values():
                spare.append(used)
            for used in spare:
                self._buffers.put(used)

    def _upload_part(self, key: str, upload_id: str, number: int, view: memoryview) -> str:
        response = self._call(f"upload of part {number}", key, lambda: self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=BufferReader(view),
            ContentLength=len(view), **self._sse_c))
        return str(response["ETag"])

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._call("abort multipart upload", key, lambda: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id))
        except StorageError as exc:  # the parts stay invisible; a lifecycle rule can reap them
            log.warning("could not abort the multipart upload of %s: %s", self._where(key), exc)

    def make_dir(self, key: str) -> None:
        marker = check_key(key).rstrip("/") + "/"
        self._ensure_bucket()
        self._call("create directory marker", marker, lambda: self.client.put_object(
            Bucket=self.bucket, Key=marker, Body=b"", **self._sse_put))

    # -- reading ---------------------------------------------------------------------------------

    def open_read(self, key: str) -> BinaryIO:
        key = check_key(key)
        response = self._get(key, None, None)
        reader: Any = _S3Reader(self, key, response)
        return reader  # type: ignore[no-any-return]

    def _get(self, key: str, start: int | None, etag: str | None) -> Any:
        extra: dict[str, str] = dict(self._sse_c)
        if start is not None:
            extra["Range"] = f"bytes={start}-"
        if etag is not None:
            extra["IfMatch"] = etag
        response = self._call("download", key, lambda: self.client.get_object(Bucket=self.bucket, Key=key, **extra))
        self._bucket_seen = True
        return response

    def exists(self, key: str) -> bool:
        key = check_key(key)
        try:
            self._call("check", key, lambda: self.client.head_object(Bucket=self.bucket, Key=key, **self._sse_c))
        except ArtifactNotFound:
            self._check_bucket()  # HEAD answers a bare 404 for a missing bucket too
            return False
        self._bucket_seen = True
        return True

    def _check_bucket(self) -> None:
        if self._bucket_seen:
            return
        try:
            self._call("check", None, lambda: self.client.head_bucket(Bucket=self.bucket))
        except ArtifactNotFound:
            raise RepositoryError(f"bucket '{self.bucket}' does not exist at endpoint {self._endpoint_text}") from None
        self._bucket_seen = True

    def is_dir(self, key: str) -> bool:
        prefix = check_key(key).rstrip("/") + "/"
        page = self._call("list", key, lambda: self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1))
        self._bucket_seen = True
        return bool(page.get("KeyCount") or page.get("Contents"))

    def _pages(self, prefix: str, delimiter: str | None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        while True:
            page: dict[str, Any] = self._call("list", prefix or None, lambda: self.client.list_objects_v2(**kwargs))
            self._bucket_seen = True
            yield page
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def list(self, prefix: str = "", recursive: bool = True, *, include_dirs: bool = False) -> Iterator[ObjectInfo]:
        norm = prefix.strip("/")
        s3prefix = norm + "/" if norm else ""
        for page in self._pages(s3prefix, None if recursive else "/"):
            for common in page.get("CommonPrefixes", ()):
                yield ObjectInfo(common["Prefix"].rstrip("/"), 0, 0.0, is_dir=True)
            for obj in page.get("Contents", ()):
                key: str = obj["Key"]
                mtime = obj["LastModified"].timestamp()
                if key.endswith("/"):  # a directory marker
                    if include_dirs and key != s3prefix:
                        yield ObjectInfo(key.rstrip("/"), 0, mtime, is_dir=True)
                    continue
                yield ObjectInfo(key, int(obj["Size"]), mtime)

    # -- deleting --------------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        key = check_key(key)
        self._call("delete", key, lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    def delete_many(self, keys: Iterable[str]) -> int:
        count = 0
        batch: builtins.list[str] = []
        for key in keys:
            batch.append(check_key(key))
            if len(batch) == _DELETE_BATCH:
                count += self._delete_batch(batch)
                batch = []
        if batch:
            count += self._delete_batch(batch)
        return count

    def _delete_batch(self, keys: builtins.list[str]) -> int:
        objects = [{"Key": k} for k in keys]
        response = self._call("delete", keys[0], lambda: self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}))
        errors = [e for e in response.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
        if errors:
            first = errors[0]
            cls = RepositoryError if first.get("Code") in _DENIED_CODES else StorageError
            raise cls(self._scrub(
                f"could not delete {len(errors)} of {len(keys)} objects from {self.describe()}; first: "
                f"{first.get('Key')!r}: {first.get('Code')}: {first.get('Message')}"
            ))
        return len(keys)

    def delete_prefix(self, prefix: str) -> int:
        s3prefix = check_prefix(prefix) + "/"
        count = 0
        for page in self._pages(s3prefix, None):
            keys = [obj["Key"] for obj in page.get("Contents", ())]
            if keys:
                count += self._delete_batch(keys)
        return count

    # -- naming ----------------------------------------------------------------------------------

    def describe(self) -> str:
        host = urlsplit(self.endpoint_url).netloc if self.endpoint_url else "aws"
        return f"s3://{self.bucket}@{host}"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{check_key(key)}"

    def close(self) -> None:
        self._buffers.clear()
        with contextlib.suppress(Exception):
            self.client.close()


class _S3Reader(io.RawIOBase):
    """The body of one GET; a connection dropped mid-body resumes at the same offset (If-Match ETag)."""

    def __init__(self, driver: S3Driver, key: str, response: Any) -> None:
        self._driver = driver
        self._key = key
        self._body = response["Body"]
        self._etag: str | None = response.get("ETag")
        self._length = int(response.get("ContentLength") or 0)
        self._pos = 0
        self._resumes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if not len(view):
            return 0
        while True:
            try:
                n = int(self._body.readinto(view) or 0)
            except _NETWORK_ERRORS as exc:
                self._resume(exc)
                continue
            if n == 0 and self._pos < self._length:
                self._resume(ConnectionError("the connection closed before the end of the body"))
                continue
            self._pos += n
            return n

    def _resume(self, exc: BaseException) -> None:
        self._resumes += 1
        if self._resumes >= self._driver.config.retry_attempts:
            raise self._driver._error(exc, "download", self._key) from exc
        log.warning("S3 download of %s interrupted at byte %d (%s); resuming", self._key, self._pos, _short(exc))
        with contextlib.suppress(Exception):
            self._body.close()
        self._body = self._driver._get(self._key, self._pos, self._etag)["Body"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()
        super().close()


def _client_error(exc: botocore.exceptions.ClientError) -> tuple[str, int, str]:
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return str(error.get("Code") or status), status, str(error.get("Message") or "")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, botocore.exceptions.ClientError):
        code, status, _ = _client_error(exc)
        return code in _TRANSIENT_CODES or status >= 500 or status == 429
    return isinstance(exc, _NETWORK_ERRORS)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
