"""The package as production installs it (no extras) imports every one of its modules.

`service/lti/advantage.py` (named services.py then) imported `requests`, which only the dev
extras brought in, so an image built with `pip install .` could not post LMS scores; the dev
venv hid it. Two checks:

- every third-party module our code imports is declared in ``[project.dependencies]``
  (instant, and names the missing one);
- the wheel is installed **without extras** into a fresh venv, with no access to this
  venv's site-packages, every module of service, graders and problem_bank is imported
  there, and its `mixgrade db upgrade` migrates a database (the migrations ship in it).
  It takes 40–90 s (pip installs numpy, scipy, pandas … from the package index); it is
  the finding's regression test, so it runs in `make test`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "graders", "problem_bank")

WALK = """
import importlib, importlib.util, json, pkgutil, sys
imported, failed = [], []
for name in {packages!r}:
    package = importlib.import_module(name)
    assert "site-packages" in package.__file__, package.__file__
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        try:
            importlib.import_module(module.name)
            imported.append(module.name)
        except BaseException as error:
            failed.append(f"{{module.name}}: {{type(error).__name__}}: {{error}}")
dev_only = [m for m in ("pytest", "hypothesis", "schemathesis") if importlib.util.find_spec(m)]
print(json.dumps({{"imported": imported, "failed": failed, "dev_only": dev_only}}))
"""


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normal(re.match(r"[A-Za-z0-9_.-]+", r).group()) for r in project["dependencies"]}


def third_party_imports() -> dict[str, str]:
    """Top-level module name → first file importing it, for every non-stdlib import."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PACKAGES:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency():
    declared = declared_distributions()
    providers = packages_distributions()
    missing = []
    for module, where in sorted(third_party_imports().items()):
        distributions = {_normal(d) for d in providers.get(module, [])}
        if not distributions & declared:
            missing.append(f"{module} (imported in {where}; from {sorted(distributions)})")
    assert not missing, "imported but not in [project.dependencies]: " + ", ".join(missing)


@pytest.mark.timeout(600)
def test_a_fresh_venv_without_extras_imports_every_module(tmp_path):
    timings: dict[str, float] = {}
    started = time.monotonic()
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in (*PACKAGES, "migrations"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, source])
    (wheel,) = wheels.glob("mixgrade-*.whl")
    timings["build"] = time.monotonic() - started

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    # This venv's pip drives the fresh interpreter: only what the wheel declares goes in.
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
          "--no-compile", wheel])  # fmt: skip
    # Every requirement of every installed distribution (mixgrade's own included) is met.
    _run([sys.executable, "-m", "pip", "--python", python, "check"])
    timings["install"] = time.monotonic() - started - timings["build"]

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "MIXGRADE_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "install-test",
    }
    walked = _run([python, "-I", "-c", WALK.format(packages=PACKAGES)], cwd=tmp_path, env=env)
    result = json.loads(walked.stdout.strip().splitlines()[-1])
    timings["import"] = time.monotonic() - started - timings["build"] - timings["install"]

    # The installed `mixgrade` migrates a database: the migrations ship in the wheel.
    _run([venv / "bin" / "mixgrade", "db", "upgrade"], cwd=tmp_path, env=env)
    assert (tmp_path / "instance").is_dir()
    timings["migrate"] = time.monotonic() - started - sum(timings.values())
    print("production install:", {k: round(v, 1) for k, v in timings.items()})

    assert not result["failed"], "\n".join(result["failed"])
    assert not result["dev_only"], f"dev extras leaked into the venv: {result['dev_only']}"
    assert "service.lti.advantage" in result["imported"]
    assert len(result["imported"]) >= 50, result["imported"]


def _run(command: list, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, **kwargs
    )
    assert done.returncode == 0, (
        f"{command[:4]} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done
