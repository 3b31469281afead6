"""The job platform's boundary: nothing in jobs/ reaches into the project or memory.

(Import cycles in jobs/ and memory/ are tested in tests/test_import_cycles.py.)
"""

import ast
from pathlib import Path

import jobs

ROOT = Path(jobs.__file__).parent


def test_the_job_platform_imports_neither_the_project_nor_memory():
    paths = [path for path in ROOT.rglob("*.py") if "migrations" not in path.parts]
    assert len(paths) > 30
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                       else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            for module in modules:
                assert not module.startswith(("project", "memory")), f"{path.relative_to(ROOT)} imports {module}"
