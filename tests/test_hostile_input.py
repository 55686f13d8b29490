"""Hostile or accidental input that once hung, crashed or leaked: each is refused
quickly with ``error: FILE[:LINE]: ...`` and exit status 2, and no message quotes
another file's content or an unbounded value.

- YAML: an alias bomb ("billion laughs"), 30,000 nested brackets (libyaml crashed
  the process), a file over the size limit, an integer of 10,000 digits, a FIFO or
  /dev/zero named as a file;
- paths: ``extends``/``base`` outside the project tree (``--allow-outside`` lifts
  it), symbolic-link loops, ``extends: /etc/passwd``;
- output folders: a name never writes outside ``results/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.cli import main
from model.outputs.folders import default_run_dir, folder_name
from model.core.limits import MAX_FILE_BYTES, MAX_SHOWN
from model.scenario.loader import load_scenario, project_root

ROOT = Path(__file__).resolve().parent.parent
BASE = (Path(__file__).resolve().parent / "scenarios_bad" / "_base.yaml").read_text()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder (it holds scenarios/) with a valid parent scenario in it."""
    proj = tmp_path / "proj"
    (proj / "scenarios").mkdir(parents=True)
    (proj / "scenarios" / "parent.yaml").write_text(BASE)
    return proj


def _validate(path: Path, *extra: str, capsys: pytest.CaptureFixture) -> tuple[int, list[str], float]:
    t0 = time.perf_counter()
    code = main(["validate", str(path), *extra])
    lines = capsys.readouterr().err.splitlines()
    return code, lines, time.perf_counter() - t0


def _refused(path: Path, capsys: pytest.CaptureFixture, piece: str, *extra: str) -> list[str]:
    code, lines, seconds = _validate(path, *extra, capsys=capsys)
    assert code == 2, lines
    assert lines and all(ln.startswith("error: ") for ln in lines), lines
    assert any(piece in ln for ln in lines), lines
    assert seconds < 10
    return lines


# ------------------------------------------------------------------- YAML


def test_alias_bomb_is_refused_at_once(tmp_path, capsys):
    """550 bytes whose aliases expand to 10^9 values: validate used to hang stringifying them."""
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("name: bomb\n" + "\n".join(lines) + "\n")
    assert len(bomb.read_bytes()) < 600
    _refused(bomb, capsys, "would repeat more than 10,000 values (the limit: an alias bomb?)")


def test_a_few_aliases_are_fine(tmp_path, capsys):
    """Anchors that repeat a distribution a few times are ordinary YAML and still load."""
    text = BASE.replace("crossing_h: {dist: triangular", "crossing_h: &legs {dist: triangular")
    text = text.replace("dwell_h: {dist: lognormal, mean: 40, cv: 0.5}", "dwell_h: *legs")
    f = tmp_path / "aliases.yaml"
    f.write_text(text)
    assert load_scenario(f).nodes["border_ge"].dwell_h.dist == "triangular"


def test_deep_nesting_is_refused_without_crashing_the_process(tmp_path):
    """30,000 nested brackets made libyaml crash the interpreter (run in a child process)."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: " + "[" * 30_000 + "]" * 30_000 + "\n")
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", str(deep)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2, r.stderr[-500:]
    assert r.stderr.startswith(f"error: {deep}:1: YAML nests more than 50 mappings or lists deep")
    assert "Traceback" not in r.stderr


def test_file_over_the_size_limit_is_refused(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text(BASE + "# " + "x" * MAX_FILE_BYTES + "\n")
    _refused(big, capsys, "the file is larger than 1,000,000 bytes")


def test_integer_of_ten_thousand_digits_is_refused(tmp_path, capsys):
    f = tmp_path / "digits.yaml"
    f.write_text(BASE.replace("replications: 1", "replications: " + "9" * 10_000))
    lines = _refused(f, capsys, "a YAML value cannot be read")
    assert all(len(ln) < 400 for ln in lines)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_not_read(tmp_path, capsys):
    """Opening a FIFO without a writer blocks forever: it is refused before opening."""
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    _refused(fifo, capsys, "expected a scenario file, got a device, pipe or socket")


def test_long_values_are_cut_in_messages(tmp_path, capsys):
    """A 100,000-character node id in a route: the message quotes at most MAX_SHOWN characters of it."""
    f = tmp_path / "long.yaml"
    f.write_text(BASE.replace("route: [aktau, ferry, btc]", "route: [aktau, " + "f" * 100_000 + ", btc]"))
    lines = _refused(f, capsys, "unknown node id 'fff")
    assert max(ln.count("f" * 10) for ln in lines) * 10 <= MAX_SHOWN
    assert all(len(ln) < 2000 for ln in lines)


# ------------------------------------------------------------------ paths


def test_project_root_is_the_closest_folder_with_a_marker(project):
    (project / "scenarios" / "deep").mkdir()
    assert project_root(project / "scenarios" / "deep" / "x.yaml") == project
    assert project_root(ROOT / "tests" / "scenarios_bad" / "x.yaml") == ROOT


def test_extends_outside_the_project_is_refused_unless_allowed(project, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "parent.yaml").write_text(BASE)
    child = project / "scenarios" / "child.yaml"
    child.write_text("extends: ../../elsewhere/parent.yaml\nname: child\n")
    _refused(child, capsys, "elsewhere/parent.yaml is outside the project tree")
    assert main(["validate", str(child), "--allow-outside"]) == 0
    assert load_scenario(child, allow_outside=True).name == "child"


def test_extends_inside_the_project_from_a_subfolder(project, capsys):
    """A scenario in a subfolder may extend one anywhere in its project (the rule's point)."""
    (project / "variants").mkdir()
    child = project / "variants" / "child.yaml"
    child.write_text("extends: ../scenarios/parent.yaml\nname: child\n")
    assert main(["validate", str(child)]) == 0, capsys.readouterr().err


def test_symlink_inside_the_project_to_a_file_outside_is_refused(project, tmp_path, capsys):
    outside = tmp_path / "outside.yaml"
    outside.write_text(BASE)
    (project / "scenarios" / "link.yaml").symlink_to(outside)
    child = project / "scenarios" / "child.yaml"
    child.write_text("extends: link.yaml\nname: child\n")
    _refused(child, capsys, f"(it resolves to {outside})")


def test_extends_etc_passwd_never_prints_its_lines(project, capsys):
    """Refused as outside the project; even when allowed, its content is never quoted."""
    passwd = Path("/etc/passwd")
    if not passwd.is_file():
        pytest.skip("no /etc/passwd here")
    child = project / "scenarios" / "child.yaml"
    child.write_text(f"extends: {passwd}\nname: child\n")
    _refused(child, capsys, "is outside the project tree")
    lines = _refused(child, capsys, "at the top level, got a text", "--allow-outside")
    first = passwd.read_text().splitlines()[0]
    assert all(first[:20] not in ln for ln in lines)


@pytest.mark.parametrize("parent", ["/dev/zero", "/dev/null"])
def test_extends_a_device_is_not_read(project, capsys, parent):
    if not Path(parent).exists():
        pytest.skip(f"no {parent} here")
    child = project / "scenarios" / "child.yaml"
    child.write_text(f"extends: {parent}\nname: child\n")
    _refused(child, capsys, f"parent file '{parent}' not found", "--allow-outside")


def test_symlink_loops_are_refused(project, capsys):
    d = project / "scenarios"
    (d / "a.yaml").symlink_to(d / "b.yaml")
    (d / "b.yaml").symlink_to(d / "a.yaml")
    _refused(d / "a.yaml", capsys, "a loop of symbolic links")
    child = d / "child.yaml"
    child.write_text("extends: a.yaml\nname: child\n")
    _refused(child, capsys, "a.yaml is a loop of symbolic links")


# ---------------------------------------------------------- output folders


@pytest.mark.parametrize("name", ["../../../tmp/x", "..", "a/b\\c", "x\x00y", ".hidden", "é" * 300])
def test_a_name_never_leaves_results(name, tmp_path):
    """Names are validated (no separators, control characters or leading dot), and the
    folder name is made safe again where it is built."""
    results = tmp_path / "results"
    folder = default_run_dir(results, name)
    assert folder.parent == results
    assert "/" not in folder_name(name) and "\x00" not in folder_name(name)
    assert not folder.name.startswith(".")


# ------------------------------------------------------------- result folders


@pytest.mark.parametrize("resolved, content", [("../../outside.yaml", None),
                                               ("scenario-x.yaml", 'a0: &a0 ["x"]\n' + "".join(
                                                   f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n"
                                                   for i in range(1, 9)))])
def test_compare_reads_a_folder_s_scenario_like_any_scenario_file(tmp_path, capsys, resolved, content):
    """``compare`` reads the resolved scenario a manifest names: only a file in the folder,
    with a scenario file's limits (an alias bomb there is refused, not expanded)."""
    import json

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"status": "complete", "scenarios": [{"resolved": resolved}]}))
    if content is not None:
        (folder / resolved).write_text(content)
    assert main(["compare", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder}: ") and "Traceback" not in err
