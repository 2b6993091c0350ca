"""One typed settings object, read from LONGDOC_* environment variables (nested with "__").

Settings are built once at the edge (CLI, app factory, Celery app) and passed in; nothing reads the
environment anywhere else. Secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LimitSettings(BaseModel):
    max_upload_bytes: int = Field(512 * 1024 * 1024, description="Largest accepted upload (413 above it).")
    max_extracted_chars: int = Field(200_000_000, description="Extraction stops with an error above this.")
    max_pdf_pages: int = Field(20_000, description="PDFs with more pages are refused.")
    max_archive_ratio: int = Field(200, description="Largest decompressed/compressed ratio for .gz/.docx.")
    max_decompressed_bytes: int = Field(4 * 1024**3, description="Largest decompressed size of an archive.")
    max_archive_members: int = Field(10_000, description="Most files one archive (.zip/.tar) may hold.")
    max_archive_member_bytes: int = Field(
        2 * 1024**3, description="Largest decompressed size of one file inside an archive."
    )
    max_archive_depth: int = Field(
        1, description="Compressed files inside an archive are opened this deep (0: skipped); never archives."
    )
    extract_timeout_s: float = Field(300.0, description="Wall-clock limit for extracting one document.")
    in_process_text_max_bytes: int = Field(
        8 * 1024 * 1024,
        description="Plain text/log uploads up to this size are decoded without a subprocess.",
    )
    extract_memory_mb: int = Field(2048, description="Address-space limit of the extraction subprocess.")
    max_question_chars: int = Field(20_000, description="Longest accepted question.")
    max_documents_per_job: int = Field(200, description="Most documents one job may name.")
    max_json_body_bytes: int = Field(1024 * 1024, description="Largest JSON request body.")


class ModelSettings(BaseModel):
    provider_base_url: str | None = Field(
        None,
        description="OpenAI-compatible base URL, e.g. https://api.minimax.io/v1. Unset = offline engine.",
    )
    api_key: SecretStr | None = Field(None, description="Bearer key of the provider. Never logged.")
    default_model: str = Field("MiniMax-M1", description="Model used when a job names none.")
    catalog_path: Path | None = Field(
        None, description="Extra model catalog (TOML) merged over the built-in one."
    )
    connect_timeout_s: float = 10.0
    read_timeout_s: float = Field(300.0, description="Longest silence between two streamed chunks.")
    total_deadline_s: float = Field(1800.0, description="Total time budget of one model call incl. retries.")
    max_attempts: int = Field(4, description="Attempts per model call (1 = no retry).")
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    default_max_output_tokens: int = Field(8192, description="Output budget reserved when a job sets none.")
    tokenizer_path: Path | None = Field(None, description="A tokenizer.json for exact token counts.")
    tokenizer_name: str | None = Field(
        None, description="Hugging Face tokenizer to fetch by name (needs internet or the HF cache)."
    )
    tokenize_endpoint: str | None = Field(
        None, description="The model server's POST /tokenize URL (vLLM or llama.cpp) for exact counts."
    )
    rate_limit: bool = Field(True, description="Share the catalog's rpm/tpm quotas across workers via Redis.")


class WorkerSettings(BaseModel):
    concurrency: int = 2
    soft_time_limit_s: int = Field(2400, description="Job tasks get SoftTimeLimitExceeded after this.")
    hard_time_limit_s: int = Field(2700, description="Job task processes are killed after this.")
    visibility_timeout_s: int = Field(
        7200, description="Redis redelivery timeout; must exceed the hard limit plus queueing time."
    )
    max_job_attempts: int = Field(3, description="Deliveries of one job before it is failed (poison guard).")
    job_lock_ttl_s: int = Field(
        60,
        description="Lease of the per-job lock, renewed while the job runs: a killed worker's job can be "
        "retried this long after its death. Keep it well below the visibility timeout.",
    )
    soft_shutdown_timeout_s: float = Field(
        30.0, description="On shutdown, running jobs get this long before their messages are requeued."
    )
    max_tasks_per_child: int = 100
    stale_job_s: int = Field(
        900,
        description="A job queued, or running without a live lease, this long is republished by beat's sweep "
        "(its queue message was lost).",
    )


AuthMode = Literal["auto", "keys", "off"]


class AuthSettings(BaseModel):
    mode: AuthMode = Field(
        "auto",
        description=(
            "keys: every request needs an API key; off: open (local use only); "
            "auto: open as tenant 'default' until the first key is created, then keys."
        ),
    )
    client_key: SecretStr | None = Field(
        None, description="API key the CLI client commands (upload, ask, job...) send. Never logged."
    )


class TenantLimits(BaseModel):
    """Limits applied to each tenant. Values in `TenantSettings.overrides` replace these per tenant."""

    model_config = ConfigDict(extra="forbid")

    max_upload_bytes: int = Field(
        0, ge=0, description="Largest upload per file for a tenant; 0 = limits.max_upload_bytes."
    )
    max_stored_bytes: int = Field(
        20 * 1024**3, ge=0, description="Sum of a tenant's document sizes (413 quota_exceeded above it)."
    )
    max_concurrent_jobs: int = Field(20, ge=1, description="Queued plus running jobs per tenant (429).")
    requests_per_minute: int = Field(6000, ge=1, description="Authenticated API requests per tenant (429).")


class TenantLimitOverride(BaseModel):
    """Per-tenant replacement values; unset fields keep the defaults."""

    model_config = ConfigDict(extra="forbid")

    max_upload_bytes: int | None = Field(None, ge=1)
    max_stored_bytes: int | None = Field(None, ge=0)
    max_concurrent_jobs: int | None = Field(None, ge=1)
    requests_per_minute: int | None = Field(None, ge=1)


class TenantSettings(BaseModel):
    limits: TenantLimits = TenantLimits()
    overrides: dict[str, TenantLimitOverride] = Field(
        default_factory=dict,
        description='Per-tenant limits as JSON, e.g. {"acme": {"max_concurrent_jobs": 5}}.',
    )

    def limits_for(self, tenant: str) -> TenantLimits:
        """The defaults with this tenant's overrides applied."""
        override = self.overrides.get(tenant)
        if override is None:
            return self.limits
        return self.limits.model_copy(update=override.model_dump(exclude_none=True))


class ReportingSettings(BaseModel):
    """Live progress, schedules (Celery beat + redbeat), reports and webhooks."""

    sse_heartbeat_s: float = Field(15.0, description="SSE keep-alive comment interval on a quiet job stream.")
    beat_max_interval_s: float = Field(
        5.0, description="Longest beat sleep: new or changed schedules are seen at most this late."
    )
    beat_lock_timeout_s: int = Field(
        30, description="redbeat's lock: a second beat process takes over this long after the first dies."
    )
    beat_lock: bool = Field(
        True, description="redbeat's lock (one ticking beat). Off only to test the per-tick guard."
    )
    schedule_check_max_s: float = Field(
        20.0, description="Beat looks at each schedule at least this often (cron: minute resolution)."
    )
    late_grace_s: float = Field(
        60.0, description="A tick found later than one check period plus this is a missed run."
    )
    sweep_interval_s: float = Field(
        2.0, description="How often finished scheduled runs and job callbacks are collected."
    )
    report_templates_dir: Path | None = Field(
        None, description="Extra report templates (*.toml or *.json), each a prompt and sections."
    )
    webhook_timeout_s: float = Field(5.0, description="Connect+read timeout of one webhook delivery.")
    webhook_max_attempts: int = Field(6, ge=1, description="Deliveries tried per webhook event.")
    webhook_backoff_s: float = Field(2.0, description="First retry delay; doubles per attempt, with jitter.")
    webhook_backoff_max_s: float = Field(300.0, description="Longest delay between two webhook attempts.")
    webhook_allow_private: bool = Field(
        False,
        description="Let webhooks go to loopback, private and link-local addresses (refused by default: SSRF).",
    )


class Settings(BaseSettings):
    """Everything configurable about longdoc. Environment: LONGDOC_<NAME>, nested LONGDOC_<SECTION>__<NAME>."""

    model_config = SettingsConfigDict(env_prefix="LONGDOC_", env_nested_delimiter="__", extra="ignore")

    redis_url: str | None = Field(
        None, description="Redis for broker, job state and results. Unset: `longdoc demo/up` embed one."
    )
    key_prefix: str = Field("longdoc", description="Prefix of every Redis key this service writes.")
    storage_dir: Path = Field(Path(".longdoc/store"), description="Blobs and extracted text live here.")
    result_ttl_s: int = Field(7 * 24 * 3600, description="How long job states and results are kept.")
    api_base_url: str = Field("http://127.0.0.1:8000", description="Where CLI client commands find the API.")
    debug: bool = False
    limits: LimitSettings = LimitSettings()
    model: ModelSettings = ModelSettings()
    worker: WorkerSettings = WorkerSettings()
    auth: AuthSettings = AuthSettings()
    tenants: TenantSettings = TenantSettings()
    reporting: ReportingSettings = ReportingSettings()

    def effective_redis_url(self) -> str:
        return self.redis_url or "redis://127.0.0.1:6379/0"

    @property
    def online(self) -> bool:
        """True when a real model provider is configured."""
        return bool(self.model.provider_base_url)
