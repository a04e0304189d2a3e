"""Command-line verbs that keep anonymity at rest: ``flask --app wsgi anonymity shuffle``."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup

from survey.commands.waves import find_wave
from survey.extensions import db
from survey.models import Wave
from survey.services.questionnaires import instrument_of
from survey.services.shuffle import shuffle_wave, waves_due
from survey.services.team_figures import store_wave_figures, waves_to_count

anonymity_cli = AppGroup("anonymity", help="Keep stored data from revealing who answered when.")


class ResponseProgress:
    """``Wave 3: Voorjaar 2026: 1500/4000 responses``, rewritten in place on a terminal;
    off a terminal only the final count (so cron mails stay short)."""

    def __init__(self, heading: str):
        self.heading = heading
        self.terminal = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.terminal and done < total:
            sys.stderr.write(f"\r\x1b[K{self.heading}: {done}/{total} responses")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.terminal:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


@anonymity_cli.command("shuffle")
@click.option(
    "--wave",
    "wave_id",
    type=int,
    metavar="ID",
    help="Only this wave, shuffled now whether it is due or not.",
)
def shuffle_command(wave_id: int | None) -> None:
    """Rewrite responses in random order under new random ids (run it daily, e.g. from cron).

    Every open wave not yet shuffled today, and every ended wave not yet shuffled on a day after
    it ended, so that neither the database's own order (SQLite's rowid, PostgreSQL's physical
    order and transaction ids) nor a backup follows the order in which people answered. Each
    wave is committed on its own; deleted rows are then erased (VACUUM on PostgreSQL).

    Then the figures of every ended wave not yet counted (one that ended by date, or before
    this version) are counted once and kept, so that its results pages read them.
    """
    today = date.today()
    if wave_id is not None:
        _shuffle([find_wave(wave_id)], today)
        return
    waves = waves_due(today)
    if waves:
        _shuffle(waves, today)
    else:
        click.echo("Nothing to shuffle: every wave was shuffled since its last answer.")
    _count_ended_waves(today)


def _shuffle(waves: list[Wave], today: date) -> None:
    total = len(waves)
    rewritten = 0
    for number, wave in enumerate(waves, start=1):
        heading = f"[{number}/{total}] Wave {wave.id}: {wave.name}"
        progress = ResponseProgress(heading)
        try:
            count = shuffle_wave(wave, today, progress=progress)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            progress.finish()
            click.echo(f"{heading}: failed")
            raise click.ClickException(
                f"Wave {wave.id} was left as it was ({error.__class__.__name__}: {error}). "
                f"The {number - 1} wave(s) before it are done; run the command again."
            ) from error
        progress.finish()
        rewritten += count
        click.echo(f"{heading}: {count} response(s) rewritten in random order")
    click.echo(f"Shuffled {total} wave(s), {rewritten} response(s) in all.")


def _count_ended_waves(today: date) -> None:
    """Count and keep the team figures of every ended wave whose figures are missing or count
    another number of responses (``survey.services.team_figures``), a wave per transaction."""
    waves = waves_to_count(today)
    for number, wave in enumerate(waves, start=1):
        try:
            teams = store_wave_figures(wave, instrument_of(wave), today)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            raise click.ClickException(
                f"The figures of wave {wave.id} were not counted ({error.__class__.__name__}: "
                f"{error}); its pages count them live. Run the command again."
            ) from error
        click.echo(f"[{number}/{len(waves)}] Wave {wave.id}: {wave.name}: {teams} team(s) counted")
