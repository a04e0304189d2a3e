"""The web layer shared by the blueprints: what turns a service's numbers into something a
browser, a printer or a spreadsheet takes (page contexts, chart payloads, PDF and CSV/XLSX
responses, the access-code slips).

Flask-aware (templates, the reader's language, werkzeug responses), but it runs no database
query of its own: the numbers come from ``survey.services``.
"""
