"""`longdoc keys ...`: create, list and revoke API keys. Talks to Redis directly (LONGDOC_REDIS_URL),
not to the API, so the first key can be made before anything accepts requests."""

from __future__ import annotations

from typing import Annotated

import redis
import typer
from rich.console import Console
from rich.table import Table

from service import auth
from service.config import Settings
from service.errors import LongdocError
from service.redis_conn import connect

keys_app = typer.Typer(help="Manage API keys (stored hashed in Redis).", no_args_is_help=True)
console = Console()


def _redis(settings: Settings) -> tuple[redis.Redis, str]:
    return connect(settings.effective_redis_url()), settings.key_prefix


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="Tenant the key acts for.")],
    admin: Annotated[bool, typer.Option("--admin", help="May use /v1/admin (all tenants' usage).")] = False,
) -> None:
    """Create a key and print it once: it cannot be shown again."""
    settings = Settings()
    r, prefix = _redis(settings)
    try:
        key, token = auth.create_key(r, prefix, tenant, admin)
    except LongdocError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from None
    console.print(
        f"created key [bold]{key.id}[/] for tenant [bold]{key.tenant}[/]{' (admin)' if admin else ''}"
    )
    console.print("store it now, it is not shown again:", style="yellow")
    typer.echo(token)
    if settings.auth.mode == "off":
        console.print("note: LONGDOC_AUTH__MODE=off, so the API does not ask for keys", style="yellow")


@keys_app.command("list")
def list_keys() -> None:
    """Every key: id, tenant, admin, created, revoked (never the secret)."""
    r, prefix = _redis(Settings())
    table = Table("id", "tenant", "admin", "created", "revoked")
    for key in auth.list_keys(r, prefix):
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        created = key.created_at.isoformat(timespec="seconds")
        table.add_row(key.id, key.tenant, "yes" if key.admin else "", created, revoked)
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="Key id from `longdoc keys list`.")]) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    r, prefix = _redis(Settings())
    try:
        key = auth.revoke_key(r, prefix, key_id)
    except LongdocError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    console.print(f"revoked key [bold]{key.id}[/] of tenant [bold]{key.tenant}[/]")
