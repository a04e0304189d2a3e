"""The demo organisation: ``flask --app wsgi demo [--reset|--if-empty]``."""

from __future__ import annotations

import time

import click

from survey.extensions import db
from survey.services.demo import ACCOUNTS as DEMO_ACCOUNTS
from survey.services.demo import (
    DEMO_PASSWORD,
    build_demo,
    database_is_empty,
    delete_everything,
    demo_organisation,
)


@click.command("demo")
@click.option("--seed", type=int, default=2026, show_default=True, help="Same seed, same answers.")
@click.option("--reset", is_flag=True, help="Delete EVERYTHING in the database first.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Build only in an empty database; otherwise just print the demo log-ins (for make run).",
)
def demo_command(seed: int, reset: bool, if_empty: bool) -> None:
    """Build the demo organisation "Huis van Kracht vzw" with made-up responses."""
    if reset and if_empty:
        raise click.UsageError("--reset and --if-empty contradict each other.")
    if reset:
        delete_everything()
        db.session.commit()
    elif not database_is_empty():
        if if_empty:
            if demo_organisation() is not None:
                _print_demo_logins()
            return
        raise click.ClickException(
            "The database already holds data, so the demo was not built. "
            "Use --reset to delete everything and build the demo."
        )
    with click.progressbar(length=1, label="Building the demo organisation") as bar:

        def progress(steps):
            steps = list(steps)
            bar.length = len(steps)
            for step in steps:
                yield step
                bar.update(1)

        started = time.perf_counter()
        summary = build_demo(seed=seed, progress=progress)
        db.session.commit()
    click.echo(
        f"Built Huis van Kracht vzw: {summary.teams} teams, {summary.waves} waves, "
        f"{summary.responses} responses, {summary.answers} answers (seed {seed}) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    _print_demo_logins()


def _print_demo_logins() -> None:
    click.echo("Demo log-ins (password for all: " + DEMO_PASSWORD + "):")
    for email, role, scope in DEMO_ACCOUNTS:
        sees = f" (sees {', '.join(scope)})" if scope else ""
        click.echo(f"  {role.value:8} {email}{sees}")
