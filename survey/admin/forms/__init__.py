"""The administration's forms, one module per page (``survey.admin.<page>`` imports
``survey.admin.forms.<page>``); forms shared with other blueprints are in ``survey.forms``."""
