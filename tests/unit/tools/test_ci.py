"""The CI definitions: GitHub's workflow runs the README's test command on Ubuntu, caches the
venv and keeps the benchmark output; .ci/run runs the same command."""

import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _readme_test_command():
    with open(os.path.join(REPO, "README.md")) as f:
        head = f.read().split("\n\n", 2)[1]
    cmds = [ln.split("#")[0].strip() for ln in head.splitlines() if ln.startswith("    ")]
    assert cmds[:2] == ["make demo", "make test"]      # the README's first two commands
    return cmds[1]


def test_github_workflow():
    with open(os.path.join(REPO, ".github", "workflows", "ci.yml")) as f:
        wf = yaml.safe_load(f)
    job = wf["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu-")
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "") for s in steps]
    assert any(r.strip() == _readme_test_command() for r in runs), runs
    assert any("install-deps.sh test" in r for r in runs)
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".venv" and "setup.py" in cache["with"]["key"]
    bench = next(i for i, r in enumerate(runs) if "make bench" in r)
    assert "bench.txt" in runs[bench]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "bench.txt"
    assert runs.index(next(r for r in runs if r.strip() == "make test")) < bench
    assert any(u.startswith("actions/checkout@") for u in uses)


def test_local_ci_runs_the_same_command():
    with open(os.path.join(REPO, ".ci", "run")) as f:
        text = f.read()
    assert re.search(r"^%s$" % re.escape(_readme_test_command()), text, re.M)
