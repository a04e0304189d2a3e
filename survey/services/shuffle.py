"""No order at rest: a wave's responses rewritten in random order under new random ids.

Responses arrive one at a time, and a database keeps the order they arrived in without being
asked: SQLite numbers a table's rows as they are inserted (rowid), PostgreSQL stores them one
after another in its heap (ctid) and stamps each with the transaction that wrote it (xmin).
With an access log (time, address, path) that order ties a response to a time and a device.

``shuffle_wave`` rewrites a wave's responses, answers and scale scores, in one transaction:
copies are inserted in a random permutation under new random ids (``uuid4``, from the operating
system's random source), and the old rows are deleted. Afterwards no stored order (rowid, ctid,
xmin, id) follows the order of submission; backups are written sorted by id
(``survey.operations.backup``), so they do not either. After the commit the old rows are erased
as well as the database allows (``erase_deleted_rows``): PostgreSQL's VACUUM removes the dead
row versions, which still hold the old order; SQLite overwrites deleted rows (``PRAGMA
secure_delete``, ``survey.extensions``) and its write-ahead log is emptied.

It runs when a wave closes (``survey.services.waves.close_wave``) and daily from cron
(``flask --app wsgi anonymity shuffle``, ``waves_due``): every open wave not yet shuffled today,
and every ended wave not yet shuffled on a day after its end.

Submissions arriving during a shuffle are never lost:

- PostgreSQL: the shuffle first locks the wave's ``wave_teams`` rows ``FOR UPDATE``. Inserting a
  response checks its foreign key to its ``wave_teams`` row with ``FOR KEY SHARE``, which
  conflicts: a submission that already inserted its response makes the shuffle wait until it
  commits (and then, at READ COMMITTED, the shuffle's next statement sees it and moves it too);
  one that has not yet inserted waits until the shuffle commits, and then goes in as usual.
- SQLite: the shuffle takes the write lock first (the update of ``shuffled_on``), and SQLite has
  one writer at a time: a submission waits for the busy timeout. One that still times out fails
  whole (its draft is deleted in the same transaction, so it is kept), and the respondent can
  submit again. Run the daily shuffle at night on SQLite.

The rows a shuffle did not see (a submission committed after it) are moved by the next one; an
ended wave is shuffled once more on a day after its end for the last of them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey.extensions import db
from survey.models import Answer, Response, ScaleScore, Wave, WaveState, WaveStatus, WaveTeam

#: Responses copied at a time (with their answers): the IN lists stay well below SQLite's
#: limit of bound parameters, and memory stays flat however large the wave.
BATCH_RESPONSES = 500
#: The session's ``info`` key that asks for the old rows to be erased after the commit.
_ERASE_AFTER_COMMIT = "krachtspiegel_erase_deleted_rows"
_RANDOM = secrets.SystemRandom()


def new_id() -> uuid.UUID:
    """A new random response id: 122 bits from the operating system's random source."""
    return uuid.uuid4()


#: (responses done, responses in the wave)
Progress = Callable[[int, int], None]


def shuffle_wave(wave: Wave, today: date | None = None, progress: Progress | None = None) -> int:
    """Rewrite the wave's responses, answers and scale scores in random order under new random
    ids; returns how many responses were rewritten. Flushes; the caller commits (and the old
    rows are then erased, see ``erase_deleted_rows``)."""
    today = today or date.today()
    progress = progress or (lambda done, total: None)
    db.session.flush()
    _lock(wave, today)
    responses = Response.__table__
    old_rows = db.session.execute(sa.select(responses).where(responses.c.wave_id == wave.id)).all()
    order = [row._asdict() for row in old_rows]
    _RANDOM.shuffle(order)
    total = len(order)
    progress(0, total)
    for start in range(0, total, BATCH_RESPONSES):
        batch = order[start : start + BATCH_RESPONSES]
        new_ids = {row["id"]: new_id() for row in batch}
        _copy_batch(batch, new_ids)
        progress(start + len(batch), total)
    db.session.info[_ERASE_AFTER_COMMIT] = True
    _forget_old_objects({row["id"] for row in order})
    return total


def _lock(wave: Wave, today: date) -> None:
    """Take the locks that keep concurrent submissions safe (see the module docstring)."""
    # The write itself is the lock on SQLite; the ORM update keeps ``wave`` in step.
    db.session.execute(sa.update(Wave).where(Wave.id == wave.id).values(shuffled_on=today))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            sa.select(WaveTeam.id)
            .where(WaveTeam.wave_id == wave.id)
            .order_by(WaveTeam.id)
            .with_for_update()
        )


def _copy_batch(batch: list[dict], new_ids: dict[uuid.UUID, uuid.UUID]) -> None:
    """Insert the batch's responses (already in random order) under their new ids, then their
    answers and scale scores in a random order of their own; delete the old rows."""
    responses, answers, scores = Response.__table__, Answer.__table__, ScaleScore.__table__
    old_ids = list(new_ids)
    db.session.execute(sa.insert(responses), [{**row, "id": new_ids[row["id"]]} for row in batch])
    for table in (answers, scores):
        rows = [
            {**row._asdict(), "response_id": new_ids[row.response_id]}
            for row in db.session.execute(sa.select(table).where(table.c.response_id.in_(old_ids)))
        ]
        _RANDOM.shuffle(rows)
        if rows:
            db.session.execute(sa.insert(table), rows)
        db.session.execute(sa.delete(table).where(table.c.response_id.in_(old_ids)))
    db.session.execute(sa.delete(responses).where(responses.c.id.in_(old_ids)))


def _forget_old_objects(old_ids: set[uuid.UUID]) -> None:
    """Drop objects of the deleted rows that the session may hold, so nothing writes them back."""
    for instance in list(db.session.identity_map.values()):
        key = instance.id if isinstance(instance, Response) else None
        if isinstance(instance, Answer | ScaleScore):
            key = instance.response_id
        if key in old_ids:
            db.session.expunge(instance)


def waves_due(today: date | None = None) -> list[Wave]:
    """The waves the daily shuffle rewrites, oldest first: every wave open for answers that was
    not shuffled today, and every ended wave not yet shuffled on a day after its last day of
    answering (a submission may still have arrived on that day after a shuffle). Drafts have no
    responses; purged waves none left."""
    today = today or date.today()
    waves = db.session.scalars(
        sa.select(Wave)
        .where(Wave.status != WaveStatus.DRAFT, Wave.purged_on.is_(None))
        .order_by(Wave.opens_on, Wave.id)
    ).all()
    due = []
    for wave in waves:
        if wave.state(today) is WaveState.CLOSED:
            last_day = wave.closed_on or wave.closes_on
            if wave.shuffled_on is None or wave.shuffled_on <= last_day:
                due.append(wave)
        elif wave.shuffled_on != today:
            due.append(wave)
    return due


def erase_deleted_rows(engine: Engine) -> None:
    """After a shuffle's commit, erase what is left of the old rows (which hold the old order).

    PostgreSQL: VACUUM the three tables (it cannot run inside a transaction, hence the
    autocommit connection); a row version that a running transaction may still see stays until
    the next VACUUM (autovacuum). SQLite: deleted rows were overwritten as they were deleted
    (``secure_delete``); a checkpoint moves the changed pages into the database file and empties
    the write-ahead log, which still holds earlier versions of the pages. Should either fail,
    the shuffle stands; the next one tries again.
    """
    tables = [table.name for table in (Response.__table__, Answer.__table__, ScaleScore.__table__)]
    with suppress(sa.exc.DBAPIError), engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"VACUUM {', '.join(tables)}")
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@sa.event.listens_for(Session, "after_commit")
def _erase_after_commit(session: Session) -> None:
    if session.info.pop(_ERASE_AFTER_COMMIT, False):
        erase_deleted_rows(db.engine)


@sa.event.listens_for(Session, "after_rollback")
def _nothing_to_erase(session: Session) -> None:
    session.info.pop(_ERASE_AFTER_COMMIT, None)
