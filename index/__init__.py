"""Corpus → clauses → chunks → embeddings → Chroma. Knows nothing about questions."""
