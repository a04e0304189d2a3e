"""Operations on a whole installation, run from the command line rather than by a user's
request: backups and restores (``survey.operations.backup``)."""
