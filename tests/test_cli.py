"""The light commands as a user runs them: `qidsl check`, `fmt`, `plan`, `--version`, `--help`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qidsl import __version__
from qidsl.cli import main

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "routines" / "rolling-the-hands-backwards.qi"
QIDSL = Path(sys.executable).parent / "qidsl"

CLEAN = 'title: "Clean"\n\nsection "A":\n    say "Hello."\n    inhale 4s\n    exhale 4s\n'
WARNS = 'title: "Warns"\n\ninhale 4s\ninhale 4s\n'
BROKEN = 'title: "Broken"\n\ninhal 4s\nrepeat 0:\n    say "x"\n'


@pytest.fixture(autouse=True)
def _no_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_exit(capsys, *argv) -> tuple[int, str, str]:
    """For argparse's own exits (usage errors, --help, --version)."""
    with pytest.raises(SystemExit) as raised:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return raised.value.code, out, err


# ---------------------------------------------------------------------------
# check


def test_check_exit_codes(tmp_path, capsys):
    clean, broken = write(tmp_path, "clean.qi", CLEAN), write(tmp_path, "broken.qi", BROKEN)
    assert run(capsys, "check", clean) == (0, "", "no problems in 1 file\n")
    code, out, err = run(capsys, "check", broken)
    assert code == 1
    assert f"{broken}:3:1: error: unknown statement 'inhal'" in out
    assert f"{broken}:4:8: error: the count of a repeat must be between 1 and 1000, not 0" in out
    assert err == "2 errors, 0 warnings in 1 file\n"
    assert "\033[" not in out  # no colour off a terminal


def test_check_usage_problems_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "check", tmp_path / "missing.qi")
    assert code == 2 and "no such file or folder" in err
    code, _, err = run_exit(capsys, "check", "--no-such-option", tmp_path)
    assert code == 2 and "unrecognized arguments: --no-such-option" in err
    code, _, err = run_exit(capsys, "check")
    assert code == 2 and "PATH" in err
    code, _, err = run_exit(capsys, "check", "--format", "xml", tmp_path)
    assert code == 2 and "invalid choice" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "check", tmp_path / "empty")
    assert code == 2 and "no .qi files found" in err


def test_strict_turns_warnings_into_failure(tmp_path, capsys):
    warns = write(tmp_path, "warns.qi", WARNS)
    code, out, err = run(capsys, "check", warns)
    assert code == 0 and "warning: two inhales in a row" in out and err == "0 errors, 1 warning in 1 file\n"
    assert run(capsys, "check", "--strict", warns)[0] == 1
    assert run(capsys, "check", "--strict", write(tmp_path, "clean.qi", CLEAN))[0] == 0


def test_check_searches_folders_for_qi_files(tmp_path, capsys):
    write(tmp_path, "a.qi", CLEAN)
    write(tmp_path, "deep/er/b.qi", BROKEN)
    write(tmp_path, "deep/notes.txt", "inhal: not a routine")
    code, out, err = run(capsys, "check", tmp_path)
    assert code == 1
    assert "b.qi:3:1" in out and "notes.txt" not in out
    assert err == "2 errors, 0 warnings in 2 files\n"


def test_check_several_paths_at_once(tmp_path, capsys):
    first = write(tmp_path, "one.qi", CLEAN)
    write(tmp_path, "two/two.qi", WARNS)
    code, out, err = run(capsys, "check", first, tmp_path / "two")
    assert code == 0 and "two.qi:4:1: warning" in out and "in 2 files" in err


def test_json_format_is_a_documented_list(tmp_path, capsys):
    broken = write(tmp_path, "broken.qi", BROKEN + "inhale 4s\ninhale 4s\n")
    code, out, err = run(capsys, "check", "--format", "json", broken)
    assert code == 1 and err == ""
    diagnostics = json.loads(out)
    assert isinstance(diagnostics, list) and len(diagnostics) == 3
    for item in diagnostics:
        assert {"file", "line", "column", "severity", "code", "message", "hint"} <= set(item)
    first = diagnostics[0]
    assert (first["file"], first["line"], first["column"], first["severity"], first["code"]) == (
        str(broken), 3, 1, "error", "unknown-statement")
    assert first["hint"] == "did you mean 'inhale'?"
    assert {d["severity"] for d in diagnostics} == {"error", "warning"}
    clean = write(tmp_path, "clean.qi", CLEAN)
    assert run(capsys, "check", "--format", "json", clean) == (0, "[]\n", "")


def test_github_format_makes_workflow_annotations(tmp_path, capsys):
    broken = write(tmp_path, "broken.qi", 'title: "G"\n\ndo "a, b: c"\ninhale 4s\ninhale 4s\n')
    code, out, err = run(capsys, "check", "--format", "github", broken)
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"::error file={broken},line=3,col=4,")
    assert lines[0].endswith('::no sequence is named "a, b: c" (define it with: define "a, b: c":)')
    assert lines[1].startswith(f"::warning file={broken},line=5,col=1,")


def test_json_and_text_report_the_same_problems(tmp_path, capsys):
    broken = write(tmp_path, "broken.qi", BROKEN)
    _, text, _ = run(capsys, "check", broken)
    _, as_json, _ = run(capsys, "check", "--format", "json", broken)
    heads = [line for line in text.splitlines() if line.startswith(str(broken))]
    assert heads == [f"{d['file']}:{d['line']}:{d['column']}: {d['severity']}: {d['message']}"
                     for d in json.loads(as_json)]


def test_a_file_included_by_two_routines_is_reported_once(tmp_path, capsys):
    write(tmp_path, "lib.qi", 'title: "L"\n\ndefine "x":\n    inhal 4s\n')
    write(tmp_path, "a.qi", 'title: "A"\n\ninclude "lib.qi"\ndo "x"\n')
    write(tmp_path, "b.qi", 'title: "B"\n\ninclude "lib.qi"\ndo "x"\n')
    code, out, _ = run(capsys, "check", tmp_path / "a.qi", tmp_path / "b.qi")
    assert code == 1 and out.count("unknown statement 'inhal'") == 1


# ---------------------------------------------------------------------------
# version and help


def test_version(capsys):
    code, out, _ = run_exit(capsys, "--version")
    assert code == 0 and out == f"qidsl {__version__}\n"


@pytest.mark.parametrize("command, words", [
    ([], ["check", "fmt", "plan", "build", "voices"]),
    (["check"], ["--strict", "--format", "json", "github", "Exit 0"]),
    (["fmt"], ["--check", "--diff", "canonical"]),
    (["plan"], ["FILE", "timeline"]),
    (["build"], ["--out", "--engine", "--no-video"]),
    (["voices"], ["voices"]),
    (["import"], ["LESSON", "--language", "repeat"]),
])
def test_help_on_every_command(capsys, command, words):
    code, out, _ = run_exit(capsys, *command, "--help")
    assert code == 0 and out.startswith("usage: qidsl")
    for word in words:
        assert word in out


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "commands:" in out
    assert out.startswith("usage: qidsl [-h] [--version] COMMAND ...\n")
    # Each command is listed once, with its arguments (argparse's own second list is left out).
    for command in ("check", "fmt", "plan", "build", "watch", "diff", "voices", "lsp"):
        assert sum(line.split()[0] == command for line in out.splitlines() if line.strip()) == 1, command


# ---------------------------------------------------------------------------
# fmt

UNTIDY = '# Heading comment.\ntitle:   "Untidy"\n\nsection "A":  # trailing comment\n  say  "x"\n  # own-line comment\n  pause 90s\n'
TIDY = '# Heading comment.\ntitle: "Untidy"\n\nsection "A":  # trailing comment\n    say "x"\n    # own-line comment\n    pause 1m30s\n'


def test_fmt_check_then_fmt_then_check_again(tmp_path, capsys):
    path = write(tmp_path, "r.qi", UNTIDY)
    code, out, _ = run(capsys, "fmt", "--check", path)
    assert code == 1 and out == f"would reformat {path}\n"
    assert path.read_text(encoding="utf-8") == UNTIDY  # --check changes nothing
    code, _, err = run(capsys, "fmt", path)
    assert code == 0 and err == f"reformatted {path}\n"
    assert path.read_text(encoding="utf-8") == TIDY  # comments kept, own-line and trailing
    assert run(capsys, "fmt", "--check", path) == (0, "", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.qi"]  # no temporary file left behind


def test_fmt_diff_shows_the_change_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, "r.qi", UNTIDY)
    code, out, _ = run(capsys, "fmt", "--diff", path)
    assert code == 1
    assert f"--- {path} (before)" in out and f"+++ {path} (formatted)" in out
    assert '-  say  "x"\n' in out and '+    say "x"\n' in out and "+    pause 1m30s\n" in out
    assert path.read_text(encoding="utf-8") == UNTIDY


def test_fmt_refuses_a_file_with_syntax_errors_and_leaves_it_untouched(tmp_path, capsys):
    text = 'title:  "Broken"\n\ninhal 4s\n  say  "x"\n'
    path = write(tmp_path, "r.qi", text)
    before = path.stat().st_mtime_ns
    code, out, err = run(capsys, "fmt", path)
    assert code == 1 and out == ""
    assert "unknown statement 'inhal'" in err and f"{path} was not formatted" in err
    assert path.read_text(encoding="utf-8") == text and path.stat().st_mtime_ns == before


def test_fmt_formats_the_good_files_of_a_folder_even_when_one_is_broken(tmp_path, capsys):
    good = write(tmp_path, "good.qi", UNTIDY)
    write(tmp_path, "bad.qi", 'title: "B"\n\nsay "unclosed\n')
    code, _, _ = run(capsys, "fmt", tmp_path)
    assert code == 1 and good.read_text(encoding="utf-8") == TIDY


def test_fmt_refuses_a_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin.qi"
    path.write_bytes('title: "Caf\u00e9"\n'.encode("latin-1"))
    code, _, err = run(capsys, "fmt", path)
    assert code == 1 and "not UTF-8" in err and path.read_bytes() == 'title: "Caf\u00e9"\n'.encode("latin-1")


def test_fmt_usage(tmp_path, capsys):
    assert run(capsys, "fmt", tmp_path / "nope.qi")[0] == 2


# ---------------------------------------------------------------------------
# plan


def test_plan_prints_the_estimated_timeline(tmp_path, capsys):
    path = write(tmp_path, "r.qi", 'title: "Plan"\n\nsection "One":\n    say "One two three four five."\n'
                 '    repeat 2 counted:\n        inhale 4s "In."\n')
    code, out, err = run(capsys, "plan", "--quick", path)
    assert code == 0 and err == ""
    lines = out.splitlines()
    # 3 + 1.75 (19 letters at joe's pace, and the gap) + 2 × (0.83 + 4) + 4 = 18.4 s
    assert lines[0].startswith("Plan — about 0:18 (estimated: speech at the pace of piper joe × rate 1, tempo 1)")
    assert lines[2].split() == ["start", "length", "section", "rep", "event", "text"]
    assert lines[4].split() == ["0:03", "1.7s", "One", "say", "One", "two", "three", "four", "five."]
    assert lines[5].split() == ["0:04", "0.8s", "One", "1/2", "count", "1"]
    assert lines[-2].split() == ["0:03", "0:11", "One"] and lines[-1].split() == ["total", "0:18"]


def test_plan_refuses_a_routine_with_errors_and_shows_warnings(tmp_path, capsys):
    code, out, err = run(capsys, "plan", write(tmp_path, "b.qi", BROKEN))
    assert code == 1 and out == "" and "unknown statement 'inhal'" in err
    code, out, err = run(capsys, "plan", write(tmp_path, "w.qi", WARNS))
    assert code == 0 and "two inhales in a row" in err and "inhale" in out


def test_plan_usage(tmp_path, capsys):
    assert run(capsys, "plan", tmp_path / "nope.qi")[0] == 2
    write(tmp_path, "a.qi", CLEAN)
    write(tmp_path, "b.qi", CLEAN)
    code, _, err = run(capsys, "plan", tmp_path)
    assert code == 2 and "one .qi file" in err


# ---------------------------------------------------------------------------
# the real command, in a process of its own


def _subprocess(*args, cwd=ROOT, **kwargs):
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kwargs)


def test_the_installed_command_checks_the_shipped_routine():
    done = _subprocess(str(QIDSL), "check", "routines/rolling-the-hands-backwards.qi")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "no problems in 1 file\n")


def test_the_installed_command_reports_mistakes_from_another_folder(tmp_path):
    write(tmp_path, "r.qi", BROKEN)
    done = _subprocess(str(QIDSL), "check", "r.qi", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("r.qi:3:1: error: unknown statement 'inhal'\n    inhal 4s\n    ^~~~~\n")
    done = _subprocess(str(QIDSL), "check", "missing.qi", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr


VALID = Path(__file__).parent / "cases" / "valid"


def _heavy_modules(command: list[str]) -> str:
    """What of the heavy libraries a command run in a fresh process loaded: its exit code, then their names."""
    script = (
        "import sys\n"
        "from qidsl.cli import main\n"
        f"code = main({command!r})\n"
        "heavy = sorted(m for m in ('moviepy', 'piper', 'numpy', 'onnxruntime', 'onnx', 'PIL', 'scipy',"
        " 'py_nanotts', 'espeakng_loader', 'gtts') if m in sys.modules)\n"
        "print('HEAVY', code, ' '.join(heavy), file=sys.stderr)\n"
    )
    return _subprocess(sys.executable, "-c", script).stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("command", [["check"], ["plan"], ["plan", "--quick"], ["fmt", "--check"]])
@pytest.mark.parametrize("routine", [SHIPPED, VALID / "atempause-de.qi", VALID / "andning-sv.qi"],
                         ids=["piper", "pico", "espeak"])
def test_light_commands_import_no_moviepy_piper_or_numpy(command, routine):
    if command == ["plan"] and routine == SHIPPED:
        # A Piper voice times its own speech for plan: its duration predictor, never moviepy or Pillow.
        assert _heavy_modules(command + [str(routine)]) == "HEAVY 0 numpy onnx onnxruntime piper"
    else:
        assert _heavy_modules(command + [str(routine)]) == "HEAVY 0"


def test_an_internal_error_is_one_sentence_unless_debugging(tmp_path, capsys, monkeypatch):
    import qidsl.commands

    def broken(*args, **kwargs):
        raise RuntimeError("something we did not foresee")

    monkeypatch.setattr(qidsl.commands, "run_check", broken)
    routine = tmp_path / "r.qi"
    routine.write_text('title: "T"\n\nsay "x"\n', encoding="utf-8")
    assert main(["check", str(routine)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("qidsl: internal error (RuntimeError: something we did not foresee)")
    assert "Traceback" not in err
    monkeypatch.setenv("QIDSL_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["check", str(routine)])


def test_output_into_a_closed_pipe_is_not_an_error(tmp_path, capfd, monkeypatch):
    # `qidsl plan x.qi | head`: the reader stops early and the next write fails.
    import qidsl.commands

    def closed_pipe(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(qidsl.commands, "run_plan", closed_pipe)
    routine = write(tmp_path, "r.qi", CLEAN)
    assert main(["plan", str(routine)]) == 0
    assert "internal error" not in capfd.readouterr().err


# ---------------------------------------------------------------------------
# Inputs that are not routine files: one sentence, exit 1, never a hang (issue 9)


@pytest.mark.parametrize("command", ["check", "fmt", "plan"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, capsys, command):
    fifo = tmp_path / "pipe.qi"
    os.mkfifo(fifo)
    code, out, err = run(capsys, command, fifo)
    assert (code, out) == (1, "")
    assert err == f"qidsl: cannot read {fifo}: it is a named pipe (FIFO), not a routine file\n"


def test_a_device_is_refused_before_reading(capsys):
    code, out, err = run(capsys, "check", "/dev/zero")  # reading it would never end
    assert (code, out, err) == (1, "", "qidsl: cannot read /dev/zero: it is a device, not a routine file\n")


def test_a_routine_in_a_folder_we_may_not_read_is_one_sentence(tmp_path, capsys, monkeypatch):
    """As root the test cannot lock itself out, so the OS answer is stood in for."""
    routine = write(tmp_path, "locked/r.qi", CLEAN)
    real_stat = Path.stat

    def denied(self, *args, **kwargs):
        if "locked" in str(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    real_open = os.open

    def denied_open(path, *args, **kwargs):
        if "locked" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    monkeypatch.setattr(os, "open", denied_open)
    for command in ("check", "fmt", "plan"):
        code, out, err = run(capsys, command, routine)
        assert (code, out, err) == (1, "", f"qidsl: cannot read {routine}: Permission denied\n")


def test_an_internal_error_is_valid_json_and_a_github_annotation(tmp_path, capsys, monkeypatch):
    import qidsl.compile

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(qidsl.compile, "compile_routine", broken)
    routine = write(tmp_path, "r.qi", CLEAN)
    code, out, err = run(capsys, "check", "--format", "json", routine)
    assert code == 1
    [diagnostic] = json.loads(out)
    assert diagnostic["code"] == "internal-error" and diagnostic["severity"] == "error"
    assert diagnostic["message"] == ("qidsl failed while checking this file (RecursionError: maximum recursion "
                                     "depth exceeded); please report it")
    code, out, err = run(capsys, "check", "--format", "github", routine)
    assert code == 1
    assert out.startswith(f"::error file={routine},line=1,col=1,endLine=1,endColumn=1,title=internal-error::")
    assert out.count("\n") == 1


def test_an_internal_error_outside_one_file_still_prints_json(tmp_path, capsys, monkeypatch):
    import qidsl.commands

    def broken(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(qidsl.commands, "compile_paths", broken)
    routine = write(tmp_path, "r.qi", CLEAN)
    code, out, err = run(capsys, "check", "--format", "json", routine)
    assert code == 1 and [d["code"] for d in json.loads(out)] == ["internal-error"]


def test_a_name_longer_than_the_file_system_allows_is_one_sentence(tmp_path, capsys):
    name = tmp_path / ("x" * 300 + ".qi")
    for command in ("check", "plan"):
        code, out, err = run(capsys, command, name)
        assert (code, out, err) == (1, "", f"qidsl: cannot read {name}: File name too long\n")


# ---------------------------------------------------------------------------
# folders


def test_check_folder_skips_hidden_folders_node_modules_and_what_git_ignores(tmp_path, capsys, monkeypatch):
    import subprocess

    routine = 'title: "T"\nsay "x"\n'
    for name in ("kept/a.qi", "kept/deeper/b.qi", ".venv/lib/site/c.qi", "node_modules/pkg/d.qi",
                 "ignored/e.qi", ".drafts/f.qi", "kept/g.draft.qi", "kept/.h.qi"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(routine, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    # Outside a git work tree only hidden folders and files and node_modules are left out.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert run(capsys, "check", ".") == (0, "", "no problems in 4 files\n")
    subprocess.run(["git", "init", "-q", "."], check=True)
    (tmp_path / ".gitignore").write_text("ignored/\n*.draft.qi\n", encoding="utf-8")
    code, _, err = run(capsys, "check", ".")
    assert (code, err) == (0, "no problems in 2 files\n")
    # Which two: a broken copy in each kept place is found, nowhere else.
    for name in ("kept/a.qi", "kept/deeper/b.qi", "ignored/e.qi", ".venv/lib/site/c.qi"):
        (tmp_path / name).write_text('title: "T"\ninhal 4s\n', encoding="utf-8")
    code, out, err = run(capsys, "check", ".")
    assert code == 1 and err == "2 errors, 0 warnings in 2 files\n"
    assert [line.split(":")[0] for line in out.splitlines() if "error:" in line] == ["kept/a.qi", "kept/deeper/b.qi"]
    # A file or hidden folder named on the command line is checked all the same.
    code, _, err = run(capsys, "check", "ignored/e.qi", ".venv")
    assert (code, err) == (1, "2 errors, 0 warnings in 2 files\n")


def test_plan_of_a_routine_with_more_speech_than_the_voice_times_counts_letters_at_once(tmp_path, capsys):
    from qidsl.lang.limits import MAX_VOICED_CHARACTERS

    sentence = "Breathe slowly and let the shoulders drop. " * 40
    count = MAX_VOICED_CHARACTERS // len(sentence) + 2
    lines = "".join(f'say "{index} {sentence.strip()}"\n' for index in range(count))
    routine = tmp_path / "long.qi"
    routine.write_text('title: "Long"\nsection "S":\n' + "".join("    " + line for line in lines.splitlines(True)),
                       encoding="utf-8")
    assert main(["plan", str(routine)]) == 0
    out, err = capsys.readouterr()
    assert "plan times with the voice; the estimate below counts letters at the voice's pace instead." in err
    assert "(estimated: speech at the pace of piper" in out.splitlines()[0]
    assert main(["plan", "--quick", str(routine)]) == 0
    assert capsys.readouterr().out == out
