import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["reports", "questionnaires"])
def test_pure_libraries_import_neither_flask_nor_the_database(package):
    code = (
        f"import sys, {package}; "
        "bad = sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('flask', 'sqlalchemy', 'survey')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{package} imports {result.stdout}"
