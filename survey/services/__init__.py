"""The domain verbs. They flush and return; the caller (a view or a CLI command) commits."""
