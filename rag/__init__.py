"""The retrieval chain: normalise → hybrid retrieve → answer (extractive | LLM) → verified citations."""
