"""Pydantic models of Argo's spec objects (``argoproj.io/v1alpha1``) and the Kubernetes documents
users apply beside them.

Python attributes are snake_case; the wire names are Argo's camelCase (aliases), so a document
loads from YAML and dumps back (``to_dict``) to an equivalent document. Unknown fields are
rejected, as Argo's strict decoding does; deep Kubernetes objects we only pass through (affinity,
volumes, probes ...) are kept as plain dicts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "ArchiveStrategy",
    "Arguments",
    "Artifact",
    "ArtifactGC",
    "ArtifactRepositoryRef",
    "ClusterWorkflowTemplate",
    "ConfigMap",
    "Container",
    "ContainerNode",
    "ContainerSetTemplate",
    "ContinueOn",
    "CronWorkflow",
    "DAGTask",
    "DAGTemplate",
    "GitArtifact",
    "HTTPArtifact",
    "LocalArtifact",
    "Inputs",
    "LifecycleHook",
    "Memoize",
    "ObjectMeta",
    "Outputs",
    "Parameter",
    "RawArtifact",
    "ResourceTemplate",
    "RetryStrategy",
    "S3Artifact",
    "ScriptTemplate",
    "Secret",
    "SecretKeySelector",
    "Sequence",
    "SuspendTemplate",
    "Template",
    "TemplateRef",
    "ValueFrom",
    "Workflow",
    "WorkflowLevelArtifactGC",
    "WorkflowSpec",
    "WorkflowStep",
    "WorkflowTemplate",
    "WorkflowTemplateRef",
]


def _any_string(value: Any) -> Any:
    """Argo's ``AnyString``: numbers and booleans in YAML are accepted and kept as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


AnyStr = Annotated[str, BeforeValidator(_any_string)]
#: Kubernetes ``IntOrString``: kept as given (templated strings like "{{inputs.parameters.n}}" are common).
IntOrStr = int | str
Obj = dict[str, Any]


class Spec(BaseModel):
    """Base of every spec object: camelCase aliases, strict about unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        protected_namespaces=(),
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase keys, only the fields that were set."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


# ---------------------------------------------------------------------------------- metadata


class ObjectMeta(Spec):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    labels: dict[str, AnyStr] | None = None
    annotations: dict[str, AnyStr] | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None
    finalizers: list[str] | None = None
    owner_references: list[Obj] | None = None
    managed_fields: list[Obj] | None = None
    self_link: str | None = None


class TemplateMetadata(Spec):
    labels: dict[str, AnyStr] | None = None
    annotations: dict[str, AnyStr] | None = None


# ---------------------------------------------------------------------------------- secrets


class SecretKeySelector(Spec):
    name: str | None = None
    key: str
    optional: bool | None = None


class ConfigMapKeySelector(Spec):
    name: str | None = None
    key: str
    optional: bool | None = None


# ---------------------------------------------------------------------------------- parameters


class ValueFrom(Spec):
    path: str | None = None
    json_path: str | None = None
    jq_filter: str | None = None
    parameter: str | None = None
    expression: str | None = None
    default: AnyStr | None = None
    supplied: Obj | None = None
    config_map_key_ref: ConfigMapKeySelector | None = None
    event: str | None = None


class Parameter(Spec):
    name: str
    value: AnyStr | None = None
    default: AnyStr | None = None
    enum: list[AnyStr] | None = None
    description: str | None = None
    global_name: str | None = None
    value_from: ValueFrom | None = None


# ---------------------------------------------------------------------------------- artifacts


class TarStrategy(Spec):
    compression_level: int | None = None


class ZstdStrategy(Spec):
    """Argosy's addition: zstd-compressed tar (``archive: {zstd: {level: 3}}``)."""

    level: int | None = None


class ArchiveStrategy(Spec):
    tar: TarStrategy | None = None
    none: Obj | None = None
    zip: Obj | None = None
    zstd: ZstdStrategy | None = None


class PodMetadata(Spec):
    labels: dict[str, AnyStr] | None = None
    annotations: dict[str, AnyStr] | None = None


GCStrategy = Literal["OnWorkflowCompletion", "OnWorkflowDeletion", "Never", ""]


class ArtifactGC(Spec):
    strategy: GCStrategy | None = None
    service_account_name: str | None = None
    pod_metadata: PodMetadata | None = None


class WorkflowLevelArtifactGC(ArtifactGC):
    force_finalizer_removal: bool | None = None
    pod_spec_patch: str | None = None


class CreateS3BucketOptions(Spec):
    object_locking: bool | None = None


class S3EncryptionOptions(Spec):
    kms_key_id: str | None = Field(default=None, alias="kmsKeyId")
    kms_encryption_context: str | None = None
    enable_encryption: bool | None = None
    server_side_customer_key_secret: SecretKeySelector | None = None


class S3Bucket(Spec):
    endpoint: str | None = None
    bucket: str | None = None
    region: str | None = None
    insecure: bool | None = None
    access_key_secret: SecretKeySelector | None = None
    secret_key_secret: SecretKeySelector | None = None
    session_token_secret: SecretKeySelector | None = None
    role_arn: str | None = Field(default=None, alias="roleARN")
    use_sdk_creds: bool | None = Field(default=None, alias="useSDKCreds")
    create_bucket_if_not_present: CreateS3BucketOptions | None = None
    encryption_options: S3EncryptionOptions | None = None
    ca_secret: SecretKeySelector | None = None
    addressing_style: str | None = None


class S3Artifact(S3Bucket):
    key: str | None = None


class S3ArtifactRepository(S3Bucket):
    key_format: str | None = None
    key_prefix: str | None = None


class GitArtifact(Spec):
    repo: str
    revision: str | None = None
    depth: int | None = None
    fetch: list[str] | None = None
    username_secret: SecretKeySelector | None = None
    password_secret: SecretKeySelector | None = None
    ssh_private_key_secret: SecretKeySelector | None = None
    insecure_ignore_host_key: bool | None = None
    insecure_skip_tls: bool | None = Field(default=None, alias="insecureSkipTLS")
    disable_submodules: bool | None = None
    single_branch: bool | None = None
    branch: str | None = None


class Header(Spec):
    name: str
    value: AnyStr


class BasicAuth(Spec):
    username_secret: SecretKeySelector | None = None
    password_secret: SecretKeySelector | None = None


class EndpointParam(Spec):
    key: str
    value: AnyStr | None = None


class OAuth2Auth(Spec):
    client_id_secret: SecretKeySelector | None = Field(default=None, alias="clientIDSecret")
    client_secret_secret: SecretKeySelector | None = None
    token_url_secret: SecretKeySelector | None = Field(default=None, alias="tokenURLSecret")
    scopes: list[str] | None = None
    endpoint_params: list[EndpointParam] | None = None


class ClientCertAuth(Spec):
    client_cert_secret: SecretKeySelector | None = None
    client_key_secret: SecretKeySelector | None = None


class HTTPAuth(Spec):
    basic_auth: BasicAuth | None = None
    oauth2: OAuth2Auth | None = Field(default=None, alias="oauth2")
    client_cert: ClientCertAuth | None = None


class HTTPArtifact(Spec):
    url: str
    headers: list[Header] | None = None
    auth: HTTPAuth | None = None


class RawArtifact(Spec):
    data: str


class LocalArtifact(Spec):
    """Argosy's addition: an object in a folder or fsspec repository (the embedded default)."""

    key: str | None = None


class Artifact(Spec):
    name: str
    path: str | None = None
    mode: int | None = None
    from_: str | None = Field(default=None, alias="from")
    from_expression: str | None = None
    archive_logs: bool | None = None
    archive: ArchiveStrategy | None = None
    optional: bool | None = None
    sub_path: str | None = None
    global_name: str | None = None
    recurse_mode: bool | None = None
    deleted: bool | None = None
    artifact_gc: ArtifactGC | None = Field(default=None, alias="artifactGC")
    s3: S3Artifact | None = None
    git: GitArtifact | None = None
    http: HTTPArtifact | None = None
    raw: RawArtifact | None = None
    local: LocalArtifact | None = None
    gcs: Obj | None = None
    oss: Obj | None = None
    azure: Obj | None = None
    hdfs: Obj | None = None
    artifactory: Obj | None = None
    plugin: Obj | None = None
    # Argosy beyond Argo: what the artifact carries (File, Directory, or a user kind like Dataset),
    # and, once saved, how many bytes were stored and their digest ("sha256:<hex>").
    type: str | None = None
    format: str | None = None
    size: int | None = None
    digest: str | None = None


class ArtifactLocation(Spec):
    """Where a template's outputs go when its artifacts give no location of their own."""

    archive_logs: bool | None = None
    s3: S3Artifact | None = None
    git: GitArtifact | None = None
    http: HTTPArtifact | None = None
    raw: RawArtifact | None = None
    local: LocalArtifact | None = None
    gcs: Obj | None = None
    oss: Obj | None = None
    azure: Obj | None = None
    hdfs: Obj | None = None
    artifactory: Obj | None = None
    plugin: Obj | None = None


class ArtifactRepositoryRef(Spec):
    config_map: str | None = None
    key: str | None = None


# ---------------------------------------------------------------------------------- io


class Inputs(Spec):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None


class Outputs(Spec):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None
    result: str | None = None
    exit_code: str | None = None


class Arguments(Spec):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None


# ---------------------------------------------------------------------------------- containers


class EnvVar(Spec):
    name: str
    value: AnyStr | None = None
    value_from: Obj | None = None


class Container(Spec):
    """A Kubernetes container (``corev1.Container``); nested Kubernetes objects stay dicts."""

    name: str | None = None
    image: str | None = None
    command: list[AnyStr] | None = None
    args: list[AnyStr] | None = None
    working_dir: str | None = None
    ports: list[Obj] | None = None
    env_from: list[Obj] | None = None
    env: list[EnvVar] | None = None
    resources: Obj | None = None
    resize_policy: list[Obj] | None = None
    restart_policy: str | None = None
    volume_mounts: list[Obj] | None = None
    volume_devices: list[Obj] | None = None
    liveness_probe: Obj | None = None
    readiness_probe: Obj | None = None
    startup_probe: Obj | None = None
    lifecycle: Obj | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None
    image_pull_policy: str | None = None
    security_context: Obj | None = None
    stdin: bool | None = None
    stdin_once: bool | None = None
    tty: bool | None = None


class UserContainer(Container):
    """A sidecar or init container."""

    mirror_volume_mounts: bool | None = None


class ScriptTemplate(Container):
    source: str


class ContainerNode(Container):
    dependencies: list[str] | None = None


class ContainerSetRetryStrategy(Spec):
    duration: str | None = None
    retries: IntOrStr


class ContainerSetTemplate(Spec):
    containers: list[ContainerNode]
    volume_mounts: list[Obj] | None = None
    retry_strategy: ContainerSetRetryStrategy | None = None


class ManifestFrom(Spec):
    artifact: Artifact


class ResourceTemplate(Spec):
    action: str
    merge_strategy: str | None = None
    manifest: str | None = None
    manifest_from: ManifestFrom | None = None
    set_owner_reference: bool | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    flags: list[str] | None = None


class SuspendTemplate(Spec):
    duration: AnyStr | None = None


class HTTPTemplate(Spec):
    method: str | None = None
    url: str
    headers: list[Obj] | None = None
    timeout_seconds: int | None = None
    success_condition: str | None = None
    body: str | None = None
    body_from: Obj | None = None
    insecure_skip_verify: bool | None = None


# ---------------------------------------------------------------------------------- control


class Backoff(Spec):
    duration: AnyStr | None = None
    factor: IntOrStr | None = None
    max_duration: AnyStr | None = None
    cap: AnyStr | None = None


class RetryAffinity(Spec):
    node_anti_affinity: Obj | None = None


class RetryStrategy(Spec):
    limit: IntOrStr | None = None
    retry_policy: str | None = None
    backoff: Backoff | None = None
    affinity: RetryAffinity | None = None
    expression: str | None = None


class ContinueOn(Spec):
    error: bool | None = None
    failed: bool | None = None


class Sequence(Spec):
    count: IntOrStr | None = None
    start: IntOrStr | None = None
    end: IntOrStr | None = None
    format: str | None = None


class TemplateRef(Spec):
    name: str
    template: str
    cluster_scope: bool | None = None


class LifecycleHook(Spec):
    template: str | None = None
    arguments: Arguments | None = None
    template_ref: TemplateRef | None = None
    expression: str | None = None


class MemoizeCache(Spec):
    config_map: Obj


class Memoize(Spec):
    key: str
    cache: MemoizeCache
    max_age: str | None = None


class _Invocation(Spec):
    """Fields shared by a steps' step and a DAG's task: what to run and how often."""

    name: str
    template: str | None = None
    inline: Template | None = None
    arguments: Arguments | None = None
    template_ref: TemplateRef | None = None
    with_items: list[Any] | None = None
    with_param: str | None = None
    with_sequence: Sequence | None = None
    when: str | None = None
    continue_on: ContinueOn | None = None
    on_exit: str | None = None
    hooks: dict[str, LifecycleHook] | None = None


class WorkflowStep(_Invocation):
    pass


class DAGTask(_Invocation):
    dependencies: list[str] | None = None
    depends: str | None = None


class DAGTemplate(Spec):
    target: str | None = None
    tasks: list[DAGTask]
    fail_fast: bool | None = None


class Synchronization(Spec):
    mutex: Obj | None = None
    semaphore: Obj | None = None
    mutexes: list[Obj] | None = None
    semaphores: list[Obj] | None = None


class Template(Spec):
    name: str | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    node_selector: dict[str, str] | None = None
    affinity: Obj | None = None
    metadata: TemplateMetadata | None = None
    daemon: bool | None = None
    steps: list[list[WorkflowStep]] | None = None
    container: Container | None = None
    container_set: ContainerSetTemplate | None = None
    script: ScriptTemplate | None = None
    resource: ResourceTemplate | None = None
    dag: DAGTemplate | None = None
    suspend: SuspendTemplate | None = None
    data: Obj | None = None
    http: HTTPTemplate | None = None
    plugin: Obj | None = None
    volumes: list[Obj] | None = None
    init_containers: list[UserContainer] | None = None
    sidecars: list[UserContainer] | None = None
    archive_location: ArtifactLocation | None = None
    active_deadline_seconds: IntOrStr | None = None
    retry_strategy: RetryStrategy | None = None
    parallelism: IntOrStr | None = None
    fail_fast: bool | None = None
    tolerations: list[Obj] | None = None
    scheduler_name: str | None = None
    priority_class_name: str | None = None
    priority: int | None = None
    service_account_name: str | None = None
    automount_service_account_token: bool | None = None
    executor: Obj | None = None
    host_aliases: list[Obj] | None = None
    security_context: Obj | None = None
    pod_spec_patch: str | None = None
    metrics: Obj | None = None
    synchronization: Synchronization | None = None
    memoize: Memoize | None = None
    timeout: AnyStr | None = None
    annotations: dict[str, str] | None = None


class TTLStrategy(Spec):
    seconds_after_completion: int | None = None
    seconds_after_success: int | None = None
    seconds_after_failure: int | None = None


class PodGC(Spec):
    strategy: str | None = None
    label_selector: Obj | None = None
    delete_delay_duration: str | None = None


class WorkflowTemplateRef(Spec):
    name: str
    cluster_scope: bool | None = None


class WorkflowMetadata(Spec):
    labels: dict[str, AnyStr] | None = None
    annotations: dict[str, AnyStr] | None = None
    labels_from: dict[str, Obj] | None = None


class WorkflowSpec(Spec):
    templates: list[Template] | None = None
    entrypoint: str | None = None
    arguments: Arguments | None = None
    service_account_name: str | None = None
    automount_service_account_token: bool | None = None
    executor: Obj | None = None
    volumes: list[Obj] | None = None
    volume_claim_templates: list[Obj] | None = None
    parallelism: int | None = None
    artifact_repository_ref: ArtifactRepositoryRef | None = None
    suspend: bool | None = None
    node_selector: dict[str, str] | None = None
    affinity: Obj | None = None
    tolerations: list[Obj] | None = None
    image_pull_secrets: list[Obj] | None = None
    host_network: bool | None = None
    dns_policy: str | None = None
    dns_config: Obj | None = None
    on_exit: str | None = None
    ttl_strategy: TTLStrategy | None = None
    active_deadline_seconds: int | None = None
    priority: int | None = None
    scheduler_name: str | None = None
    pod_gc: PodGC | None = Field(default=None, alias="podGC")
    pod_priority_class_name: str | None = None
    pod_priority: int | None = None
    host_aliases: list[Obj] | None = None
    security_context: Obj | None = None
    pod_spec_patch: str | None = None
    pod_disruption_budget: Obj | None = None
    metrics: Obj | None = None
    shutdown: str | None = None
    workflow_template_ref: WorkflowTemplateRef | None = None
    synchronization: Synchronization | None = None
    volume_claim_gc: Obj | None = Field(default=None, alias="volumeClaimGC")
    retry_strategy: RetryStrategy | None = None
    pod_metadata: PodMetadata | None = None
    template_defaults: Template | None = None
    archive_logs: bool | None = None
    hooks: dict[str, LifecycleHook] | None = None
    workflow_metadata: WorkflowMetadata | None = None
    artifact_gc: WorkflowLevelArtifactGC | None = Field(default=None, alias="artifactGC")


# ---------------------------------------------------------------------------------- documents


class _Document(Spec):
    api_version: str = "argoproj.io/v1alpha1"
    kind: str
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @property
    def display_name(self) -> str:
        """The name lint and errors use: ``name``, else ``generateName``."""
        return self.metadata.name or self.metadata.generate_name or ""


class Workflow(_Document):
    kind: Literal["Workflow"] = "Workflow"
    spec: WorkflowSpec = Field(default_factory=WorkflowSpec)
    status: Obj | None = None


class WorkflowTemplate(_Document):
    kind: Literal["WorkflowTemplate"] = "WorkflowTemplate"
    spec: WorkflowSpec = Field(default_factory=WorkflowSpec)


class ClusterWorkflowTemplate(_Document):
    kind: Literal["ClusterWorkflowTemplate"] = "ClusterWorkflowTemplate"
    spec: WorkflowSpec = Field(default_factory=WorkflowSpec)


class StopStrategy(Spec):
    expression: str | None = None
    condition: str | None = None


class CronWorkflowSpec(Spec):
    workflow_spec: WorkflowSpec
    schedule: str | None = None
    schedules: list[str] | None = None
    timezone: str | None = None
    concurrency_policy: str | None = None
    starting_deadline_seconds: int | None = None
    successful_jobs_history_limit: int | None = None
    failed_jobs_history_limit: int | None = None
    suspend: bool | None = None
    when: str | None = None
    stop_strategy: StopStrategy | None = None
    workflow_metadata: ObjectMeta | None = None


class CronWorkflow(_Document):
    kind: Literal["CronWorkflow"] = "CronWorkflow"
    spec: CronWorkflowSpec
    status: Obj | None = None


class ConfigMap(_Document):
    api_version: str = "v1"
    kind: Literal["ConfigMap"] = "ConfigMap"
    data: dict[str, AnyStr] | None = None
    binary_data: dict[str, str] | None = None
    immutable: bool | None = None


class Secret(_Document):
    api_version: str = "v1"
    kind: Literal["Secret"] = "Secret"
    data: dict[str, str] | None = None
    string_data: dict[str, AnyStr] | None = None
    type: str | None = None
    immutable: bool | None = None


_Invocation.model_rebuild()
WorkflowStep.model_rebuild()
DAGTask.model_rebuild()
