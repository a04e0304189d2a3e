"""Backups that any Krachtspiegel database can restore: one zip file, a manifest and one
JSON-lines file per table.

Why not ``pg_dump`` or a copy of the SQLite file: the archive does not depend on the database
that wrote it, so an organisation that began on the embedded SQLite database moves to
PostgreSQL by a backup and a restore; and a restore checks every row against the archive
before it commits, so a damaged or tampered file never half-replaces the data.

The archive (``archive.FORMAT_VERSION`` 1)::

    manifest.json            format, format_version, created_at (UTC), alembic_revision,
                             source_database, and per table: name, file, columns
                             ([name, kind] in file order), rows, sha256 of the file,
                             row_digest (see ``archive.RowDigest``)
    tables/01-accounts.jsonl one JSON array per line: a row's values in column order
    ...                      (tables in foreign-key order: parents before children)

Values are written by column *kind* (``archive.KINDS``), so that they read back the same from
SQLite and PostgreSQL: uuids as text with hyphens, dates as ``YYYY-MM-DD``, times with a time
zone as UTC ISO 8601, JSON columns as the exact text the database holds (which also keeps SQL
NULL apart from JSON ``null``), floats as the shortest text that reads back as the same double.

A backup reads every table in one read-only transaction (a snapshot on PostgreSQL, a WAL
read transaction on SQLite), so responses that arrive meanwhile are either wholly in it or not
at all; it streams rows in batches, so memory stays flat however many answers there are. Rows
are written sorted by primary key, never in stored order (which follows the order of
submission: ``survey.services.shuffle``). It is written to a hidden temporary file beside the
target and renamed only when complete.

A restore needs a database migrated to the archive's Alembic revision; it works from the
manifest alone (no model classes), so an archive from an older schema is restored into a
database migrated to that revision, and ``db upgrade`` brings it up to date. It runs in one
transaction: check the revision and that the database is empty (or empty it, with
``replace``), insert the rows, compare every table's row count, file checksum and row digest
with the manifest (the digest recomputed from what the database now holds), reset the
PostgreSQL sequences, and only then commit.

The modules: ``archive`` (the format: column kinds, rows as lines, digests, reading the
manifest), ``database`` (what both directions need of the database: schema revisions, tables
read by kind, driver errors), ``writing`` (``write_backup``) and ``restoring``
(``restore_backup``, which verifies every table before it commits).
"""
