"""Report templates: the built-ins in service/reports/templates/ and the user's TOML files.

A user template is a TOML file in `LONGDOC_REPORTING__REPORT_TEMPLATES_DIR` with the fields of
`ReportTemplate` (name, title, prompt, [[sections]] with key/title/ask, optional offline builder and
defaults). The directory is read on each lookup, so a new file is used without a restart. A user
template with a built-in's name replaces it. A file that does not parse is skipped with a warning,
so one bad file does not hide the others.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from pydantic import ValidationError

from service.errors import NotFound
from service.reports.models import ReportTemplate

log = logging.getLogger("longdoc.reports")
BUILTIN_DIR = Path(__file__).with_name("templates")
MAX_TEMPLATE_BYTES = 64 * 1024


def _load_file(path: Path, source: str) -> ReportTemplate | None:
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise ValueError(f"larger than {MAX_TEMPLATE_BYTES} bytes")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        data.setdefault("name", path.stem)
        return ReportTemplate.model_validate({**data, "source": source})
    except (OSError, ValueError, ValidationError) as exc:  # TOMLDecodeError is a ValueError
        log.warning("report template %s skipped: %s", path, exc)
        return None


def _load_dir(folder: Path, builtin: bool) -> dict[str, ReportTemplate]:
    found: dict[str, ReportTemplate] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.toml")):
        template = _load_file(path, "builtin" if builtin else str(path))
        if template is not None:
            found[template.name] = template
    return found


def all_templates(user_dir: Path | None) -> dict[str, ReportTemplate]:
    """Every template by name: built-ins, then the user's (which may replace a built-in)."""
    templates = _load_dir(BUILTIN_DIR, builtin=True)
    if user_dir is not None:
        templates.update(_load_dir(Path(user_dir), builtin=False))
    return templates


def get_template(user_dir: Path | None, name: str) -> ReportTemplate:
    templates = all_templates(user_dir)
    if name not in templates:
        raise NotFound(
            f"report template {name!r} not found (known: {', '.join(sorted(templates))})",
            code="report_template_not_found",
        )
    return templates[name]
