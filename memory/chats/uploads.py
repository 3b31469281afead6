"""Where uploaded exports and CSVs are kept: under the var directory, never in the repository."""

import uuid
from pathlib import Path

from django.conf import settings

from memory.conf import memory_settings


def upload_dir():
    path = Path(memory_settings.CHATS_UPLOAD_DIR or Path(settings.VAR_DIR) / "chats" / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(upload, suffix):
    """Write an uploaded file in chunks (it may be hundreds of MB); return its path."""
    target = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    with open(target, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return str(target)
