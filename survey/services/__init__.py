"""The domain verbs. They flush and return; the caller (a view or a CLI command) commits.

Translation, one rule: a service translates a message when it makes it, with
``gettext as _``, in the locale in force: the request's, or the one a command sets (the
command line speaks English: ``with force_locale("en")``, as ``users create`` does). Only
text fixed at import time, such as a module's table of labels, is lazy (``lazy_gettext as
_l``) and becomes text where it is shown.
"""
