"""Krachtspiegel: the Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from survey import assets
from survey.config import (
    check_settings,
    engine_options,
    read_secret_key,
    settings_from_environment,
)
from survey.extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    watch_pooled_connections,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app; ``config`` overrides the settings read from the environment (tests)."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_environment(instance))
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_secret_key(instance)
    check_settings(app.config)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    app.jinja_env.add_extension("jinja2.ext.do")
    register_extensions(app)
    register_blueprints(app)
    register_demo_notice(app)
    register_request_hooks(app)
    assets.register(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def settle_for_serving() -> None:
    """Call once a serving process has started (``wsgi.py``).

    Under ``flask run`` (``make run``), first refuse to serve on a database that does not answer
    or is not migrated (survey/startup.py; gunicorn checks in ``gunicorn.conf.py``, other
    ``flask`` commands such as ``db upgrade`` are not checked).

    Then move everything imported so far (SQLAlchemy, the app, some 170,000 objects; pandas and
    SciPy are frozen likewise when a worker first uses them: ``reports/deferred.py``) out of the
    garbage collector's reach. Results pages allocate many short-lived objects; without this,
    every few requests a full collection walks all those long-lived objects again, which cost
    about 110 ms per pause (tests/benchmarks). Measured after freezing: about 4 ms.
    """
    import gc

    import click
    from flask.cli import run_command

    context = click.get_current_context(silent=True)
    if context is not None and context.command is run_command:
        from survey.startup import refuse_to_serve_unless_ready

        refuse_to_serve_unless_ready()
    gc.collect()
    gc.freeze()


def register_extensions(app: Flask) -> None:
    from survey.i18n import install_template_gettext, select_locale, template_helpers
    from survey.web import template_figures

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **engine_options(app.config),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        # Whatever else is configured: a statement's parameters (a respondent's answers, a
        # response id) never appear in an exception's text, and so never in a log.
        "hide_parameters": True,
    }
    db.init_app(app)
    with app.app_context():
        if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
            watch_pooled_connections(db.engine)  # PostgreSQL (survey.config.engine_options)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    app.context_processor(template_helpers)
    template_figures.register(app)
    register_login(app)


def register_login(app: Flask) -> None:
    import sqlalchemy as sa
    from flask import g
    from flask_babel import lazy_gettext as _l

    from survey.models import Account
    from survey.services.demo import demo_organisation_name

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_account(session_token: str) -> Account | None:
        # The demo notice (register_demo_notice) comes with the account: every signed-in page
        # loads the account anyway, so the notice costs no query of its own.
        row = db.session.execute(
            sa.select(Account, demo_organisation_name()).where(
                Account.session_token == session_token, Account.active
            )
        ).first()
        if row is None:
            return None
        g.krachtspiegel_demo_organisation = row[1]
        return row[0]


def register_blueprints(app: Flask) -> None:
    from survey.admin import bp as admin_bp
    from survey.auth import bp as auth_bp
    from survey.dashboard import bp as dashboard_bp
    from survey.main import bp as main_bp
    from survey.quality import bp as quality_bp
    from survey.respond import bp as respond_bp
    from survey.team import bp as team_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(respond_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(quality_bp)
    app.register_blueprint(admin_bp)


def register_demo_notice(app: Flask) -> None:
    """Signed-in pages say so when the platform holds the made-up demo organisation.

    Its name is read with the signed-in account (``register_login``); only a page shown in the
    request that signed someone in, without loading the account, asks for it on its own.
    """
    from flask import g, has_request_context
    from flask_login import current_user

    from survey.services.demo import demo_organisation

    @app.context_processor
    def demo_notice() -> dict:
        if not has_request_context() or not current_user.is_authenticated:
            return {}
        if "krachtspiegel_demo_organisation" not in g:
            organisation = demo_organisation()
            g.krachtspiegel_demo_organisation = organisation.name if organisation else None
        return {"demo_organisation": g.krachtspiegel_demo_organisation}


def register_request_hooks(app: Flask) -> None:
    from survey.security import (
        SessionInterface,
        add_security_headers,
        make_session_expire_when_idle,
    )

    app.session_interface = SessionInterface()

    app.before_request(make_session_expire_when_idle)
    app.after_request(add_security_headers)


def register_error_handlers(app: Flask) -> None:
    from survey.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from survey.commands import register

    register(app)
