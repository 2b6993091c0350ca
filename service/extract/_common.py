"""Small helpers shared by the format extractors."""

from __future__ import annotations

from service.config import LimitSettings
from service.errors import ExtractionFailed


def check_chars(total: int, limits: LimitSettings) -> int:
    """Return `total`, or stop the extraction when it passes the extracted-text cap."""
    if total > limits.max_extracted_chars:
        raise ExtractionFailed(
            f"The extracted text exceeds {limits.max_extracted_chars:,} characters.",
            code="too_large",
            details={"max_extracted_chars": limits.max_extracted_chars},
        )
    return total
