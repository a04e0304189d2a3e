"""Command-line verbs by subject, registered in ``survey.cli``."""
