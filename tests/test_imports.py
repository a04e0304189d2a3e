"""Every module of the application imports on its own, and no two modules need each other.

The modules are found by walking the packages' folders (a new module is checked without being
listed here). Two checks:

- Dynamic: in a fresh interpreter, each module is imported alone (the project's modules are
  cleared from ``sys.modules`` before each one), so a module that only works when another was
  imported first fails here, not in production.
- Static (``ast``): the graph of module-level imports among the project's modules has no
  cycle, and no function imports a project module to get round one. Imports under
  ``if TYPE_CHECKING:`` never run and are left out; an import inside a function is allowed only
  when `FUNCTION_IMPORTS` below says why.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("survey", "questionnaires", "reports")

FACTORY = (
    "the app factory imports what it registers (blueprints, CLI, error pages, hooks) when an "
    "app is built, as in Flask's tutorial: importing a light module (survey.startup from "
    "gunicorn's master, survey.models from a script) does not load the whole app"
)
#: (module, function) → why that function imports project modules when it runs.
FUNCTION_IMPORTS: dict[tuple[str, str], str] = {
    ("survey", "settle_for_serving"): "survey.startup is needed only under `flask run`",
    ("survey", "register_extensions"): FACTORY,
    ("survey", "register_login"): FACTORY,
    ("survey", "register_blueprints"): FACTORY,
    ("survey", "register_demo_notice"): FACTORY,
    ("survey", "register_request_hooks"): FACTORY,
    ("survey", "register_error_handlers"): FACTORY,
    ("survey", "register_commands"): FACTORY,
    ("survey.commands", "register"): FACTORY,
}


def module_files() -> dict[str, Path]:
    """Every module of the packages (name → file), found without importing anything.

    Folders without an ``__init__.py`` (the Alembic scripts in survey/migrations) are not
    packages and are not walked.
    """
    found: dict[str, Path] = {}

    def walk(name: str, folder: Path) -> None:
        found[name] = folder / "__init__.py"
        for info in pkgutil.iter_modules([str(folder)]):
            child = f"{name}.{info.name}"
            if info.ispkg:
                walk(child, folder / info.name)
            else:
                found[child] = folder / f"{info.name}.py"

    for package in PACKAGES:
        walk(package, ROOT / package)
    return found


MODULES = module_files()


@dataclass(frozen=True)
class Import:
    module: str  # the project module imported
    line: int
    #: the function it is imported in ("Class.method"); None at module level (class bodies too)
    function: str | None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The project modules an import statement in `module` loads (parents implied, not named)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    base = node.module or ""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}".rstrip(".")
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            yield f"{base}.{alias.name}"
        elif base in MODULES:
            yield base


def imports_of(module: str) -> list[Import]:
    """The project imports of a module, at module level and inside functions."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, scope: tuple[str, ...], function: str | None) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, scope, function)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(Import(target, node.lineno, function) for target in _targets(node, module))
            return
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            scope = (*scope, node.name)
            if function is None and not isinstance(node, ast.ClassDef):
                function = ".".join(scope)
        for child in ast.iter_child_nodes(node):
            visit(child, scope, function)

    visit(tree, (), None)
    return found


IMPORTS = {module: imports_of(module) for module in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (depth-first search, no recursion)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return [*path[path.index(following) :], following]
            elif following not in state:
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return None


def test_the_walk_finds_the_packages_and_their_modules():
    assert {"survey.models.waves", "questionnaires.loader", "reports.scores"} <= MODULES.keys()
    assert not any(name.startswith("survey.migrations") for name in MODULES)


def test_no_import_cycle_among_the_project_modules():
    graph = {
        module: {i.module for i in imports if i.function is None and i.module != module}
        for module, imports in IMPORTS.items()
    }
    cycles = []
    while cycle := find_cycle(graph):
        cycles.append(" → ".join(cycle))
        graph[cycle[-2]].discard(cycle[-1])  # and look for the next one
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_functions_import_project_modules_only_when_the_allow_list_says_why():
    inside = [(module, i) for module, imports in IMPORTS.items() for i in imports if i.function]
    unexplained = [
        f"{MODULES[module].relative_to(ROOT)}:{i.line}: {i.function}() imports {i.module}"
        for module, i in inside
        if (module, i.function) not in FUNCTION_IMPORTS
    ]
    assert not unexplained, "imports inside functions (move them to the top):\n" + "\n".join(
        unexplained
    )
    stale = sorted(FUNCTION_IMPORTS.keys() - {(module, i.function) for module, i in inside})
    assert not stale, f"FUNCTION_IMPORTS lists functions that import nothing any more: {stale}"


def test_the_static_check_sees_cycles_and_imports_in_functions():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None

    def imported(module: str, by: str, function: str | None) -> bool:
        return any(i.module == module and i.function == function for i in IMPORTS[by])

    # the loader loads the TOML reader at the top (no longer inside load_text)
    assert imported("questionnaires.toml_nodes", "questionnaires.loader", None)
    # the factory's imports are seen inside their function
    assert imported("survey.admin", "survey", "register_blueprints")
    # imports under TYPE_CHECKING never run: the item types name Item in annotations only
    assert all(i.module != "questionnaires.model" for i in IMPORTS["questionnaires.item_types"])


IMPORT_EACH_ALONE = """
import importlib, json, sys, traceback

import argon2

class CheapHasher(argon2.PasswordHasher):  # survey.passwords hashes once as it is imported
    def __init__(self, *args, **kwargs):
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)

argon2.PasswordHasher = CheapHasher
packages = {packages!r}
failures = {{}}
for module in {modules!r}:
    for name in [name for name in sys.modules if name.partition(".")[0] in packages]:
        del sys.modules[name]
    try:
        importlib.import_module(module)
    except BaseException:
        failures[module] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""
#: Interpreters that share the modules between them (the machine has two cores).
INTERPRETERS = 2


def test_every_module_imports_alone_in_a_fresh_interpreter():
    """Each interpreter clears the project's modules from sys.modules before importing the next
    one, so every import starts from nothing of ours (third-party modules stay loaded: they are
    not what this checks, and loading them again would take minutes)."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-W",
                "error",
                "-c",
                IMPORT_EACH_ALONE.format(
                    packages=PACKAGES, modules=sorted(MODULES)[share::INTERPRETERS]
                ),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for share in range(INTERPRETERS)
    ]
    try:
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            with process:  # closes its pipes and waits for it
                process.kill()  # nothing to kill once it has ended
    failures = {}
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        failures.update(json.loads(stdout.splitlines()[-1]))
    assert not failures, "\n".join(f"{name}:\n{error}" for name, error in failures.items())
