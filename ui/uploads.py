"""The hook for an admin upload through Gradio (`POST /gradio_api/upload`): off unless configured.

`POLICYQA_ADMIN_UPLOAD_MAX_BYTES=0` (the default) answers every upload with 403. A positive value
lets a logged-in admin browser (the `pqa_admin` cookie set at login, or a valid `X-Admin-Password`
header) upload files of at most that size whose extension is in `POLICYQA_ADMIN_UPLOAD_TYPES` and
whose content matches it (PDF and DOCX by their magic bytes, text formats must be UTF-8 without
NUL bytes). Everything else is 401 (not logged in), 413 (too large) or 415 (wrong type), decided by
ui/guard.py before Gradio sees a byte.

To add the 管理 document upload: set the size, put a `gr.File(file_types=[...])` in ui/admin.py's
panel, re-check `authed` in its handler (like every admin handler), and delete the uploaded file
once it is read: Gradio's file-serving route stays closed (ui/guard.py), so it is never served back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

MULTIPART_OVERHEAD = 64 * 1024
COOKIE = "pqa_admin"
_FILENAME = re.compile(rb'filename\*?="?([^";\r\n]*)"?', re.IGNORECASE)
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_MAGIC = {".pdf": b"%PDF-", ".docx": b"PK\x03\x04"}
_TEXT = {".txt", ".md", ".html", ".htm", ".csv", ".json", ".jsonl", ".toml"}


@dataclass(frozen=True)
class UploadPolicy:
    max_bytes: int = 0
    types: tuple[str, ...] = ()

    @classmethod
    def parse(cls, max_bytes: int, types: str) -> UploadPolicy:
        exts = tuple(sorted({"." + t.strip().lower().lstrip(".") for t in types.split(",") if t.strip()}))
        return cls(max_bytes, exts)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def body_limit(self) -> int:
        return self.max_bytes + MULTIPART_OVERHEAD

    def problem(self, body: bytes, content_type: str) -> tuple[int, str] | None:
        """(status, message) when the multipart body is not acceptable, else None."""
        match = _BOUNDARY.search(content_type or "")
        if not content_type.lower().startswith("multipart/form-data") or not match:
            return 415, "uploads must be multipart/form-data"
        files = 0
        for part in body.split(b"--" + match[1].encode("latin-1"))[1:]:
            head, sep, content = part.partition(b"\r\n\r\n")
            name = _FILENAME.search(head)
            if not sep or not name:
                continue
            files += 1
            content = content.removesuffix(b"\r\n")
            filename = name[1].decode("utf-8", "replace")
            ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
            if ext not in self.types:
                return 415, f"file type {ext or '(none)'} is not allowed; allowed: {', '.join(self.types)}"
            if len(content) > self.max_bytes:
                return 413, f"{filename} is over {self.max_bytes} bytes"
            if not self._content_matches(ext, content):
                return 415, f"{filename}: the content is not a {ext} file"
        return None if files else (400, "no file in the upload")

    def check_file(self, filename: str, content: bytes) -> str | None:
        """Why one already-received file is refused (the 管理 handler checks again), or None."""
        ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
        if not self.enabled:
            return "uploads are off (POLICYQA_ADMIN_UPLOAD_MAX_BYTES=0)"
        if ext not in self.types:
            return f"file type {ext or '(none)'} is not allowed; allowed: {', '.join(self.types)}"
        if len(content) > self.max_bytes:
            return f"{filename} is over {self.max_bytes} bytes"
        return None if self._content_matches(ext, content) else f"{filename}: the content is not a {ext} file"

    @staticmethod
    def _content_matches(ext: str, content: bytes) -> bool:
        if ext in _MAGIC:
            return content.startswith(_MAGIC[ext])
        if ext in _TEXT:
            try:
                content.decode("utf-8")
            except UnicodeDecodeError:
                return False
            return b"\x00" not in content
        return True
