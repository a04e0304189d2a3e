"""Command-line verbs for data retention: ``flask --app wsgi retention show|apply``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from survey.extensions import db
from survey.services.retention import RetentionPlan, WavePlan, purge_wave, retention_plan

retention_cli = AppGroup(
    "retention",
    help="Delete the answers of old waves under the retention setting, keeping safe aggregates.",
)


def _describe(plan: RetentionPlan) -> None:
    click.echo(
        f"Retention: answers are kept {plan.retention_years} year(s) after a wave ended; "
        f"due are the waves that ended before {plan.cutoff.isoformat()}."
    )
    for wave_plan in plan.waves:
        click.echo()
        click.echo(
            f"Wave {wave_plan.wave.id}: {wave_plan.wave.name} "
            f"(ended on {wave_plan.ended_on.isoformat()})"
        )
        click.echo(f"  deleted: {_deleted(wave_plan)}")
        click.echo(f"  kept:    {_kept(wave_plan)}")
        if wave_plan.teams_without_figures:
            click.echo(
                f"  nothing kept for (fewer than {wave_plan.min_group_size} scores): "
                + ", ".join(wave_plan.teams_without_figures)
            )


def _deleted(wave_plan: WavePlan) -> str:
    """What goes, through the same gate as the page (``WavePlan.responses``)."""
    return (
        f"{wave_plan.responses_text()} with their answers and comments, "
        f"{wave_plan.deleted.access_codes} access code(s), {wave_plan.drafts_text()}"
    )


def _kept(wave_plan: WavePlan) -> str:
    if not wave_plan.kept:
        return "nothing (no team has enough scores)"
    teams = len({row.unit_id for row in wave_plan.kept})
    return f"{len(wave_plan.kept)} scale mean(s) of {teams} team(s): n, mean and SD per scale"


def _plan_or_stop() -> RetentionPlan | None:
    plan = retention_plan()
    if plan.off:
        click.echo(
            "Retention is off: every wave's answers are kept. Set a retention period on the "
            "settings page to change that."
        )
        return None
    if not plan.waves:
        click.echo(
            f"Nothing to delete: no wave that is not yet purged ended more than "
            f"{plan.retention_years} year(s) ago (before {plan.cutoff.isoformat()})."
        )
        return None
    return plan


@retention_cli.command("show")
def show_command() -> None:
    """Show which waves' answers are due for deletion, and what is kept of them."""
    plan = _plan_or_stop()
    if plan is not None:
        _describe(plan)


@retention_cli.command("apply")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def apply_command(yes: bool) -> None:
    """Delete the answers of the waves that are due, keeping safe aggregates (cannot be undone).

    Each wave is committed on its own: when one fails, the waves before it stay done and the
    failed one is left as it was.
    """
    plan = _plan_or_stop()
    if plan is None:
        return
    _describe(plan)
    click.echo()
    if not yes:
        click.confirm(
            f"Delete the answers of {len(plan.waves)} wave(s)? This cannot be undone", abort=True
        )
    total = len(plan.waves)
    for number, wave_plan in enumerate(plan.waves, start=1):
        click.echo(
            f"[{number}/{total}] Wave {wave_plan.wave.id}: {wave_plan.wave.name} ... ", nl=False
        )
        try:
            purge_wave(wave_plan, None, plan.today)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            click.echo("failed")
            raise click.ClickException(
                f"Wave {wave_plan.wave.id} was left as it was ({error.__class__.__name__}: "
                f"{error}). The {number - 1} wave(s) before it are done."
            ) from error
        click.echo("done")
        click.echo(f"  deleted: {_deleted(wave_plan)}")
        click.echo(f"  kept:    {_kept(wave_plan)}")
    click.echo(f"Deleted the answers of {total} wave(s); their kept figures remain.")
