"""``regretgap reproduce``: the quick report, resume after a kill, parallel = serial."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regretgap.experiments import reproduce

QUICK = reproduce.Args(quick=True, progress=False)


def _rows(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as con:
        return {k: json.loads(m) for k, m in con.execute("SELECT key, metrics FROM runs")}


@pytest.fixture(scope="module")
def clean_run(quick_suite):
    out, outcome, _ = quick_suite
    return out, outcome


def test_quick_report_has_a_table_1_row_per_learner(clean_run):
    out, outcome = clean_run
    text = (out / "report.md").read_text()
    assert text == outcome.text
    head = text.split("\n## ")[0]  # Table 1 comes before the first section
    claims_part, checks_part = head.split("### Checks of a bound")
    table = [line.split("|") for line in claims_part.splitlines() if line.startswith("| ")]
    checks = [line.split("|") for line in checks_part.splitlines() if line.startswith("| ")]
    # learner claims only in Table 1; inequalities any policy satisfies in their own table
    assert {row[1].strip() for row in checks[1:]} >= {"Theorem 5.9", "Theorem D.1"}
    assert "Theorem 5.9" not in {row[1].strip() for row in table[1:]}
    learners = {row[2].strip() for row in table[2:]}
    assert {"J-BC", "J-IRL", "ALICE", "MALICE", "DAgger", "BLADES"} <= learners
    malice = next(row for row in table if row[1].strip() == "Remark 4.6")
    assert malice[6].strip() == "not applicable" and "never visits states [1]" in malice[5]
    verdicts = [row[6].strip() for row in table[2:]]
    assert verdicts and set(verdicts) <= {"consistent", "inconsistent", "not applicable"}
    # the claims the measurements contradict, and say so: sampled BLADES's default
    # adversary does not find the deep state behind 8 defections with a log-linear class,
    # and on the punishment game DAgger+noise is level with BLADES (no win over the
    # strongest baseline)
    failing = {row[1].strip() for row in table[2:] if row[6].strip() == "inconsistent"}
    assert failing == {
        "Eq. 7's worst-case deviation (log-linear, adversary)",
        "Theorem 5.9 vs Theorem 4.5",
    }, failing
    assert "True" not in text and "False" not in text  # words, not Python booleans
    for png in ("gaps_vs_H.png", "gaps_vs_beta.png", "gaps_vs_data.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with sqlite3.connect(out / "results.sqlite") as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
        count = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert {"config", "seed", "metrics", "seconds", "version"} <= set(cols)
    assert count == len(reproduce.plan(QUICK)) == outcome.ran


def test_rerun_skips_finished_runs(clean_run):
    out, first = clean_run
    again = reproduce.main(reproduce.Args(out=out, quick=True, progress=False))
    assert again.ran == 0 and again.skipped == first.ran
    assert again.text == first.text


def test_killed_run_resumes_to_the_same_report(clean_run, tmp_path):
    _, first = clean_run
    out = tmp_path / "killed"
    db = out / "results.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "regretgap.cli",
        "reproduce",
        "--quick",
        "--out",
        str(out),
        "--json",
    ]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    total = len(reproduce.plan(QUICK))
    done = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                done = len(_rows(db))
            except sqlite3.OperationalError:
                done = 0  # the table is not created yet, or the database is busy
            if done >= 2:
                break
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < done < total, f"the kill must land mid-suite (done {done} of {total})"
    assert not (out / "report.md").exists()
    killed_rows = _rows(db)  # the database is readable after the kill
    assert len(killed_rows) < total
    resumed = reproduce.main(reproduce.Args(out=out, quick=True, progress=False))
    assert resumed.skipped == len(killed_rows) and resumed.ran == total - len(killed_rows)
    assert resumed.text == first.text
    assert _rows(db) == _rows(clean_run[0] / "results.sqlite")


def test_workers_give_the_serial_results(tmp_path):
    serial = tmp_path / "serial"
    parallel = tmp_path / "parallel"
    args = dict(quick=True, progress=False, experiments=("horizon_sweep", "routing"))
    reproduce.main(reproduce.Args(out=serial, workers=1, **args))
    reproduce.main(reproduce.Args(out=parallel, workers=2, **args))
    assert _rows(serial / "results.sqlite") == _rows(parallel / "results.sqlite")


def test_bad_reproduce_arguments(tmp_path):
    with pytest.raises(ValueError, match="workers must be >= 1"):
        reproduce.main(reproduce.Args(out=tmp_path, workers=0))
    with pytest.raises(ValueError, match="unknown experiment"):
        reproduce.main(reproduce.Args(out=tmp_path, experiments=("nope",)))


# ---------------------------------------------------------------------------------------
# SIGTERM, foreign databases, progress outside a terminal


def test_sigterm_is_one_line_and_keeps_finished_runs(tmp_path):
    out = tmp_path / "termed"
    db = out / "results.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "regretgap.cli", "reproduce", "--quick", "--out", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if db.exists() and len(_rows(db)) >= 1:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = [line for line in err.splitlines() if not line.startswith("reproduce")]
    assert lines == ["regretgap: terminated (finished runs are saved; rerun to resume)"], err
    assert 1 <= len(_rows(db)) < len(reproduce.plan(QUICK))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"some notes, not a database\n", "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "damaged database"),
        (None, "another program's database"),
        ("runs", "other columns"),
    ],
)
def test_corrupt_or_foreign_database_is_refused_and_left_untouched(tmp_path, content, message):
    out = tmp_path / "r"
    out.mkdir()
    db = out / "results.sqlite"
    if isinstance(content, bytes):
        db.write_bytes(content)
    else:
        table = "notes (x TEXT)" if content is None else "runs (key TEXT, value REAL)"
        with sqlite3.connect(db) as con:
            con.execute(f"CREATE TABLE {table}")
    before = db.read_bytes()
    with pytest.raises(ValueError, match=message) as info:
        reproduce.main(reproduce.Args(out=out, quick=True, progress=False))
    assert "left untouched" in str(info.value)
    assert db.read_bytes() == before and sorted(p.name for p in out.iterdir()) == [db.name]


def test_progress_outside_a_terminal_is_a_few_lines(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(reproduce, "LOG_INTERVAL", 3600.0)
    args = reproduce.Args(out=tmp_path / "p", quick=True, experiments=("horizon_sweep",))
    outcome = reproduce.main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert outcome.ran >= 6
    assert len(lines) <= 2, err  # the first and the last state, not a line per run
    assert "\r" not in err and f"{outcome.ran}/{outcome.ran}" in lines[-1]


def _table_1(text: str, heading: str = "### Claims") -> list[tuple[str, str, str]]:
    """``(claim, learner, verdict)`` rows of the first table after ``heading`` (Table 1's
    claims by default)."""
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append((cells[0], cells[1], cells[-1]))
        elif rows:
            break
    return rows[1:]  # drop the header


def test_docs_table_1_has_the_reports_rows_and_verdicts(clean_run):
    """Documentation and report agree: docs/experiments.md's Table 1 (copied from the
    default run) has the same claims, learners and verdict words as the report this code
    writes, and so do its checks of a bound."""
    _, outcome = clean_run
    page = (Path(__file__).resolve().parents[1] / "docs" / "experiments.md").read_text()
    assert _table_1(page) == _table_1(outcome.text)
    checks = "### Checks of a bound"
    assert _table_1(page, checks) == _table_1(outcome.text, checks)


# ---------------------------------------------------------------------------------------
# --ray (the Ray runs themselves are in test_sweep.py)


def test_bad_ray_arguments_are_refused_before_any_work(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(ValueError, match="ray must be 'local', 'auto' or a cluster address"):
        reproduce.main(reproduce.Args(out=out, ray=" "))
    with pytest.raises(ValueError, match="sizes a local Ray instance"):
        reproduce.main(reproduce.Args(out=out, ray="auto", workers=2))
    assert not out.exists()


def test_cli_ray_flag_reaches_args(monkeypatch, tmp_path):
    from regretgap import cli

    seen = []

    def fake_main(args: reproduce.Args) -> reproduce.Outcome:
        seen.append((args.ray, args.workers))
        return reproduce.Outcome(tmp_path / "report.md", tmp_path / "results.sqlite", 0, 0, "")

    monkeypatch.setattr(reproduce, "main", fake_main)
    for argv, want in [
        ([], (None, 1)),
        (["--ray"], ("local", 1)),
        (["--ray", "--workers", "2"], ("local", 2)),
        (["--ray", "auto"], ("auto", 1)),
        (["--ray", "10.0.0.1:6379"], ("10.0.0.1:6379", 1)),
    ]:
        assert cli.main(["reproduce", "--json", "--out", str(tmp_path), *argv]) == 0
        assert seen[-1] == want, argv


ONE = {"quick": True, "progress": False, "experiments": ("horizon_sweep",)}


def test_a_file_it_did_not_write_is_refused_before_any_work(tmp_path, capsys):
    from regretgap import cli

    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.md").write_text("my own notes\n")
    (out / "gaps_vs_H.png").write_bytes(b"my own plot")
    (out / "notes.txt").write_text("never written by reproduce: not in the way\n")
    with pytest.raises(ValueError, match=r"gaps_vs_H\.png, report\.md, which reproduce did not"):
        reproduce.main(reproduce.Args(out=out, **ONE))
    argv = ["reproduce", "--quick", "--out", str(out)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--force" in err and "Traceback" not in err
    # nothing ran, nothing was created or replaced
    assert (out / "report.md").read_text() == "my own notes\n"
    assert (out / "gaps_vs_H.png").read_bytes() == b"my own plot"
    assert sorted(p.name for p in out.iterdir()) == ["gaps_vs_H.png", "notes.txt", "report.md"]
    # --force replaces them, and the folder is then this suite's: a rerun needs no --force
    forced = reproduce.main(reproduce.Args(out=out, force=True, **ONE))
    assert forced.ran > 0 and (out / "report.md").read_text().startswith("# regretgap")
    assert (out / "gaps_vs_H.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "notes.txt").exists()
    again = reproduce.main(reproduce.Args(out=out, **ONE))
    assert again.ran == 0 and again.text == forced.text


def test_own_files_are_replaced_on_resume_but_not_once_edited(tmp_path):
    out = tmp_path / "r"
    first = reproduce.main(reproduce.Args(out=out, **ONE))
    with sqlite3.connect(out / "results.sqlite") as con:
        names = {n for (n,) in con.execute("SELECT name FROM outputs")}
    assert names == {"report.md", "gaps_vs_H.png"}
    report = out / "report.md"
    report.unlink()  # a resume rewrites a missing file, and its own files as they were
    assert reproduce.main(reproduce.Args(out=out, **ONE)).text == first.text
    assert report.read_text() == first.text
    report.write_text(first.text + "my edit\n")  # edited since: no longer only ours
    with pytest.raises(ValueError, match=r"holds report\.md, which reproduce did not write"):
        reproduce.main(reproduce.Args(out=out, **ONE))
    assert report.read_text().endswith("my edit\n")
    (out / "extra.png").write_bytes(b"someone's")
    with pytest.raises(ValueError, match=r"holds extra\.png, report\.md"):
        reproduce.main(reproduce.Args(out=out, **ONE))
    reproduce.main(reproduce.Args(out=out, force=True, **ONE))
    assert report.read_text() == first.text
    # a forced run records only what it wrote: the plot it never writes is still refused
    with pytest.raises(ValueError, match=r"holds extra\.png, which"):
        reproduce.main(reproduce.Args(out=out, **ONE))


def _config_lines(args: reproduce.Args) -> dict[str, str]:
    from regretgap.experiments import report

    results = [(spec, {}) for spec in reproduce.plan(args)]
    text = report._configuration(reproduce.MODULES, results)
    return {line.split("`")[1]: line for line in text.splitlines() if line.startswith("- `")}


def test_quick_configuration_lists_what_ran():
    # the --quick report used to list each module's full Args (H up to 64, 10 seeds, ...)
    quick, full = _config_lines(reproduce.Args(quick=True)), _config_lines(reproduce.Args())
    assert (
        "H in (4, 8, 16)" in quick["horizon_sweep"]
        and "seed in (0, 1, 2)" in quick["horizon_sweep"]
    )
    assert "64" in full["horizon_sweep"] and "64" not in quick["horizon_sweep"]
    if "fleets" in quick and "fleets" in full:
        assert "fleets=3" in quick["fleets"] and "fleets=5" in full["fleets"]
    for name, mod in reproduce.MODULES.items():
        q = [s.config for s in mod.runs(mod.Args(quick=True))]
        f = [s.config for s in mod.runs(mod.Args())]
        if q:
            assert f"({len(q)} runs)" in quick[name]
        if q != f:  # a different plan is a different listing
            assert quick[name] != full[name], name


def test_run_settings_lists_each_value_once_in_run_order():
    from regretgap.experiments.report import run_settings

    configs = [{"H": h, "learner": x, "seed": k} for h in (4, 8) for x in "ab" for k in range(12)]
    assert run_settings(configs) == "H in (4, 8), learner in (a, b), seed: 12 values, 0 .. 11"
    assert run_settings([{"H": 4}, {"H": 4}]) == "H=4"
    assert run_settings([{"H": 8, "x": "b"}, {"H": 4, "x": "a"}]) == "H in (4, 8), x in (b, a)"


#: Runs reproduce in a Python where importing torch, networkx or OpenSpiel fails, as on an
#: install without the extras (a finder ahead of the real ones refuses them).
WITHOUT_EXTRAS = """
import sys
from importlib.abc import MetaPathFinder

class NoExtras(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"torch", "networkx", "pyspiel"}:
            raise ImportError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoExtras())
from regretgap.experiments import reproduce
args = reproduce.Args(out=sys.argv[1], quick=True, progress=False, experiments=sys.argv[2:])
print("\\n".join(reproduce.main(args).unavailable))
"""


def test_missing_extras_are_loud(tmp_path):
    chosen = ("fleets", "openspiel_games", "tables_fail")
    out = tmp_path / "r"
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, str(out), *chosen],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    extras = ("routing", "openspiel", "torch")
    assert len(err) == 3, err
    for line, name, extra in zip(err, chosen, extras, strict=True):
        assert line.startswith(f"reproduce: {name}: ") and f'"regretgap[{extra}]"' in line
    assert proc.stdout.splitlines() == [line.removeprefix("reproduce: ") for line in err]
    text = (out / "report.md").read_text()
    top = text[: text.index("### Claims")]
    assert "Skipped here for a missing extra" in top
    for name, extra in zip(chosen, extras, strict=True):
        assert f"- `{name}`: " in top and f'pip install "regretgap[{extra}]"' in top
    assert "- `tables_fail`: neural rows not run" in top
    # the section's title follows what ran: no neural rows, no "neural" in it
    assert "## Where tables fail: sampled learners with table and log-linear mediators" in text
    assert "| neural |" not in text
    config = text[text.index("## Configuration and seeds") :]
    assert "- `fleets`: not run, needs networkx" in config
    assert "class in (table, loglinear)" in config and "neural rows not run" in config


def test_nothing_skipped_says_nothing(tmp_path, capsys):
    outcome = reproduce.main(reproduce.Args(out=tmp_path / "r", **ONE))
    assert "Skipped here" not in outcome.text and outcome.unavailable == ()
    assert "reproduce: " not in capsys.readouterr().err
