"""Faults lose nothing: Ctrl-C keeps the finished replications and ``--resume`` gives the
uninterrupted results; a failing job is listed while the others finish; workers die with
a killed parent; a full disk, a read-only folder or an unusable ``--out`` is one line
naming the path (never a traceback, a read-only place found before simulating); a sweep
folder is resumed only by the same sweep, and a damaged job file is recomputed; temporary
folders of killed runs are removed by the next run.

Scenarios are tiny (``tests/sweeps/small_base.yaml``: a replication takes about 0.3 s) and
plots are switched off where a test is not about them."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import model
import model.outputs.folders
import model.experiments.runner
from model.cli import main
from model.experiments.pool import Interrupted, JobsFailed, run_jobs

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "sweeps" / "small_base.yaml"
TINY_SWEEP = """\
name: tiny
base: small_base.yaml
parameters:
  - path: nodes.ferry.fleet
    values: [1, 2]
replications: {reps}
measures:
  - {{name: delivered_2025_mt, table: corridor, column: delivered_t, year: 2025, scale: 1.0e-6}}
"""


@pytest.fixture
def no_plots(monkeypatch):
    """Folders without charts: the faults tested here are not in the plotting."""
    monkeypatch.setattr("model.outputs.report.write_outputs", lambda *a, **k: None)
    monkeypatch.setattr("model.outputs.plots.sweep_plots", lambda *a, **k: None)


def tiny_sweep(folder: Path, reps: int = 2) -> Path:
    """A 2-point sweep beside its own copy of the small base scenario."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SMALL, folder / "small_base.yaml")
    path = folder / "tiny.yaml"
    path.write_text(TINY_SWEEP.format(reps=reps))
    return path


def stored(out: Path) -> int:
    return len(list((out / "jobs").glob("*.json")))


HEADER = re.compile(r"^(Running |Batch of |Sweep |Appraising )")
"""The line a command says once its folder is claimed, before the first job (logging, stderr)."""


def errors(err: str) -> list[str]:
    """The lines of stderr that are not progress lines or a command's opening line."""
    return [line for line in err.splitlines() if line and not line.startswith("[") and not HEADER.match(line)]


BATCH_REPS = 40
SWEEP_REPS = 20
"""Enough jobs that an interrupt after the first stored one lands mid-run (the compiled engine runs
the small base's replications in a fraction of a second)."""


def interrupt_after_first_job(args: list[str], out: Path) -> tuple[int, str]:
    """Run the command line in a process and send it SIGINT once a first job is stored."""
    # SIGINT back to its default in the child: a test run started in the background by a shell without
    # job control (CI scripts) inherits it ignored, and the command would rightly ignore Ctrl-C too
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and not stored(out):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


# ------------------------------------------------------------------ Ctrl-C


@pytest.mark.slow
def test_sigint_during_a_batch_keeps_finished_replications_and_resume_matches(tmp_path, no_plots, capsys):
    out = tmp_path / "batch"
    # enough replications that the interrupt lands mid-batch even with the compiled engine's fast jobs
    rc, err = interrupt_after_first_job(["batch", str(SMALL), "--replications", str(BATCH_REPS), "--workers", "2",
                                         "--out", str(out)], out)
    kept = stored(out)
    assert rc == 130 and "Traceback" not in err
    assert errors(err) == [f"interrupted: {kept} of {BATCH_REPS} replications finished and are kept in "
                           f"{out / 'jobs'}; rerun the same command with --resume --out {out} to continue"]
    assert 1 <= kept < BATCH_REPS, "the interrupt should land mid-batch"
    assert main(["batch", str(SMALL), "--replications", str(BATCH_REPS), "--workers", "2", "--out", str(out),
                 "--resume"]) == 0
    clean = model.batch([SMALL], replications=BATCH_REPS, workers=1)
    for name, df in clean.tables().items():
        if name != "perf":  # wall-clock seconds of each replication
            assert (out / f"{name}.csv").read_text() == df.to_csv(index=False), name
    assert not (out / "jobs").exists()  # a complete run folder holds its tables, not the job store


@pytest.mark.slow
def test_sigint_during_a_sweep_keeps_finished_jobs_and_resume_matches(tmp_path, no_plots, capsys):
    sweep = tiny_sweep(tmp_path, reps=SWEEP_REPS)
    out = tmp_path / "swept"
    jobs = 2 * SWEEP_REPS
    rc, err = interrupt_after_first_job(["sweep", str(sweep), "--workers", "2", "--out", str(out)], out)
    kept = stored(out)
    assert rc == 130 and "Traceback" not in err
    assert errors(err)[-1] == (f"interrupted: {kept} of {jobs} replications finished and are kept in "
                               f"{out / 'jobs'}; rerun the same command with --resume --out {out} to continue")
    assert 1 <= kept < jobs, "the interrupt should land mid-sweep"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert main(["sweep", str(sweep), "--workers", "2", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "manifest.json").read_text())["jobs_run_now"] == jobs - kept
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(tmp_path / "clean")]) == 0
    assert (out / "sweep.csv").read_bytes() == (tmp_path / "clean" / "sweep.csv").read_bytes()


def test_ctrl_c_before_any_replication_finished_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(model.experiments.runner, "replicate", interrupted)
    out = tmp_path / "r"
    assert main(["run", str(SMALL), "--workers", "1", "--out", str(out)]) == 130
    assert errors(capsys.readouterr().err) == ["interrupted; nothing was written"]
    assert not out.exists()  # so the same command can simply be run again


def _job(i: int) -> int:
    if i == 1:
        raise KeyboardInterrupt
    return i


def test_ctrl_c_in_this_process_reports_what_finished():
    got: list[int] = []
    with pytest.raises(Interrupted) as e:
        run_jobs(_job, [(0,), (1,), (2,)], ["a", "b", "c"], lambda i, v: got.append(v))
    assert got == [0] and (e.value.done, e.value.total) == (1, 3)


# ------------------------------------------------------------------ failing jobs


def _fails_on_one(i: int) -> int:
    if i == 1:
        raise ValueError(f"job {i} cannot")
    return i * 10


def test_a_failing_job_in_a_worker_is_listed_and_the_others_finish():
    got: dict[int, int] = {}
    with pytest.raises(JobsFailed) as e:
        run_jobs(_fails_on_one, [(0,), (1,), (2,), (3,)], ["j0", "j1", "j2", "j3"], got.__setitem__, workers=2)
    assert got == {0: 0, 2: 20, 3: 30}
    assert [(f.job, f.error) for f in e.value.failures] == [("j1", "ValueError: job 1 cannot")]
    assert "_fails_on_one" in e.value.failures[0].traceback  # the worker's traceback is kept


def test_a_failing_sweep_job_is_listed_the_rest_are_kept_and_resume_runs_only_it(tmp_path, no_plots, monkeypatch,
                                                                                 capsys):
    sweep, out = tiny_sweep(tmp_path), tmp_path / "o"
    real = model.experiments.runner.replicate

    def flaky(s, k, seed=None, only=None, log_shipments=False):
        if s.name == "tiny-p001" and k == 1:
            raise RuntimeError("injected failure")
        return real(s, k, seed, only, log_shipments)

    monkeypatch.setattr(model.experiments.runner, "replicate", flaky)
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert errors(err) == [
        f"error: 1 of 4 replications failed; the 3 other(s) finished and are kept in {out / 'jobs'} (tracebacks in "
        f"{out / 'jobs' / 'failed.txt'}); fix the cause, then rerun the same command with --resume --out {out} "
        "to run only the failed ones. Failed:",
        "  tiny-p001 replication 2: RuntimeError: injected failure"]
    assert stored(out) == 3 and "RuntimeError: injected failure" in (out / "jobs" / "failed.txt").read_text()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    monkeypatch.setattr(model.experiments.runner, "replicate", real)
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "manifest.json").read_text())["jobs_run_now"] == 1
    assert not (out / "jobs" / "failed.txt").exists()


# ------------------------------------------------------------------ killed parent


def _live_children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            state, ppid = (d / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(ppid) == pid and state != "Z":
            out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers in /proc")
def test_pool_workers_die_when_the_parent_is_killed(tmp_path):
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "batch", str(SMALL), "--replications", "40",
                             "--workers", "2", "--out", str(tmp_path / "o")], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(_live_children(proc.pid)) < 2:
        time.sleep(0.05)
    workers = _live_children(proc.pid)
    assert len(workers) == 2, "the batch should have started its two workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    try:
        deadline = time.time() + 5
        while time.time() < deadline and any(map(_alive, workers)):
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "orphaned pool workers outlived their parent"
    finally:
        for w in filter(_alive, workers):
            os.kill(w, signal.SIGKILL)


def test_stale_temporary_folders_of_dead_runs_are_cleaned_on_the_next_run(tmp_path, no_plots, capsys):
    results = tmp_path / "results"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its process id now belongs to no process
    stale_dir, stale_file = results / f".old-run.tmp-{gone.pid}", results / f".table.csv.tmp-{gone.pid}"
    live = results / f".other-run.tmp-{os.getpid()}"  # a run still going: left alone
    for d in (stale_dir, live):
        d.mkdir(parents=True)
        (d / "annual_nodes.csv").write_text("half")
    stale_file.write_text("half")
    assert main(["run", str(SMALL), "--replications", "2", "--workers", "1", "--out", str(results / "new")]) == 0
    assert not stale_dir.exists() and not stale_file.exists() and live.exists()
    assert "note: removed 2 temporary file(s) or folder(s) left by killed runs" in capsys.readouterr().err
    assert sorted(p.name for p in results.iterdir()) == sorted(["new", live.name])


# ------------------------------------------------------------------ writes


def test_disk_full_while_storing_a_job_is_one_line_and_stops_the_pool(tmp_path, monkeypatch, capsys):
    sweep, out = tiny_sweep(tmp_path), tmp_path / "o"

    def full(path, value):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(model.experiments.runner, "write_checked_json", full)
    assert main(["sweep", str(sweep), "--workers", "2", "--out", str(out)]) == 1
    err = errors(capsys.readouterr().err)
    assert len(err) == 1 and re.fullmatch(
        rf"error: {re.escape(str(out / 'jobs'))}/\w+\.json: No space left on device; free some space, then "
        rf"rerun the same command with --resume --out {re.escape(str(out))}", err[0]), err
    assert stored(out) == 0 and not list(out.rglob("*tmp-*"))  # no partial job file either


def test_disk_full_while_writing_the_run_folder_leaves_no_half_folder(tmp_path, monkeypatch, capsys):
    import pandas as pd

    out, to_csv = tmp_path / "r", pd.DataFrame.to_csv

    def full(self, path=None, *a, **k):
        if path is not None:
            raise OSError(errno.ENOSPC, "No space left on device")
        return to_csv(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    assert main(["run", str(SMALL), "--replications", "2", "--workers", "1", "--out", str(out)]) == 1
    err = errors(capsys.readouterr().err)
    assert err[-1] == (f"error: {out}: No space left on device; free some space, then rerun the same command "
                       f"with --resume --out {out}")
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # nothing left beside it
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"  # not a result
    assert stored(out) == 2  # the replications are kept
    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    assert main(["run", str(SMALL), "--replications", "2", "--workers", "1", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete" and not (out / "jobs").exists()


def test_read_only_output_is_refused_before_simulating(tmp_path, monkeypatch, capsys):
    def read_only(path, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    def never(*a, **k):
        raise AssertionError("simulated before checking the output folder")

    monkeypatch.setattr(model.outputs.folders, "open", read_only, raising=False)  # the writable probe's open()
    monkeypatch.setattr(model.experiments.runner, "replicate", never)
    out = tmp_path / "ro" / "run"
    assert main(["run", str(SMALL), "--workers", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {out}: cannot write in this folder (Read-only file system); " \
                                      "choose another --out\n"


def test_a_folder_without_write_permission_is_refused_before_simulating(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        try:
            (locked / "probe").write_text("x")
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: permissions do not stop writes (the patched read-only test covers it)")
        monkeypatch.setattr(model.experiments.runner, "replicate", lambda *a, **k: pytest.fail("simulated first"))
        assert main(["run", str(SMALL), "--workers", "1", "--out", str(locked / "run")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {locked}") and "Permission denied" in err and err.count("\n") == 1
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_out_on_a_file_or_a_mount_point_is_one_line(command, tmp_path, monkeypatch, capsys):
    target = str(tiny_sweep(tmp_path) if command == "sweep" else SMALL)
    afile = tmp_path / "afile"
    afile.write_text("mine")
    assert main([command, target, "--out", str(afile)]) == 2
    assert capsys.readouterr().err == f"error: --out: {afile} is a file; expected a folder\n"
    assert afile.read_text() == "mine"
    # a link to nothing is refused; a link to a folder is written through, and stays a link
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert main([command, target, "--out", str(dangling)]) == 2
    assert "is a link to" in capsys.readouterr().err and dangling.is_symlink() and not (tmp_path / "nowhere").exists()
    (tmp_path / "real").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    monkeypatch.setattr("model.outputs.report.write_outputs", lambda *a, **k: None)
    monkeypatch.setattr("model.outputs.plots.sweep_plots", lambda *a, **k: None)
    assert main([command, target, "--out", str(link), "--replications", "2"] if command == "run"
                else [command, target, "--out", str(link)]) == 0
    assert link.is_symlink() and (tmp_path / "real" / "manifest.json").is_file()
    assert not [p for p in tmp_path.iterdir() if ".old-" in p.name or ".tmp-" in p.name]


# ------------------------------------------------------------------ sweep folders


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    """A finished tiny sweep folder (tests copy it)."""
    folder = tmp_path_factory.mktemp("finished")
    sweep = tiny_sweep(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("model.outputs.plots.sweep_plots", lambda *a, **k: None)
        assert main(["sweep", str(sweep), "--workers", "1", "--out", str(folder / "out")]) == 0
    return folder


def test_resume_refuses_an_edited_sweep_and_a_folder_that_is_not_a_sweep(finished_sweep, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(finished_sweep, folder)
    out, sweep = folder / "out", folder / "tiny.yaml"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    sweep.write_text(sweep.read_text().replace("values: [1, 2]", "values: [1, 3]"))
    assert main(["sweep", str(sweep), "--out", str(out), "--resume"]) == 2
    assert capsys.readouterr().err == (
        f"error: --out: {out} holds another sweep: {sweep} is not what that folder was started with (an input, a "
        "parent scenario or an option changed); run it into a new folder\n")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    assert main(["sweep", str(sweep), "--out", str(other), "--resume"]) == 2
    assert "is not an output folder of this program" in capsys.readouterr().err
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_a_truncated_job_file_is_recomputed_with_a_note(finished_sweep, tmp_path, no_plots, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(finished_sweep, folder)
    out = folder / "out"
    damaged = sorted((out / "jobs").glob("*.json"))[0]
    damaged.write_bytes(damaged.read_bytes()[:40])
    table = (out / "sweep.csv").read_bytes()
    assert main(["sweep", str(folder / "tiny.yaml"), "--workers", "1", "--out", str(out), "--resume"]) == 0
    assert f"note: {damaged} is damaged (truncated, altered or another job's: not what was stored); recomputing it" \
        in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["jobs_run_now"] == 1 and (out / "sweep.csv").read_bytes() == table
    import hashlib

    assert manifest["sha256"]["sweep.csv"] == hashlib.sha256(table).hexdigest()  # the manifest describes the table
