"""Command-line verbs: ``flask --app wsgi demo|questionnaires|users|units|drafts|wave|codes|
retention|backup|restore|anonymity|mail|invitations ...``, one module per group; each has --help.

``register`` is the one place that adds them to the app (``create_app``).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from survey.commands.anonymity import anonymity_cli
    from survey.commands.backup import backup_command, restore_command
    from survey.commands.codes import codes_cli
    from survey.commands.demo import demo_command
    from survey.commands.drafts import drafts_cli
    from survey.commands.invitations import invitations_cli
    from survey.commands.mail import mail_cli
    from survey.commands.questionnaires import questionnaires_cli
    from survey.commands.retention import retention_cli
    from survey.commands.units import units_cli
    from survey.commands.users import users_cli
    from survey.commands.waves import wave_cli

    for command in (
        demo_command,
        questionnaires_cli,
        users_cli,
        units_cli,
        drafts_cli,
        wave_cli,
        codes_cli,
        retention_cli,
        backup_command,
        restore_command,
        anonymity_cli,
        mail_cli,
        invitations_cli,
    ):
        app.cli.add_command(command)
