"""Step sandboxes, exercised with real processes in real namespaces.

Each test asserts what a workflow author would notice: what a step sees at absolute paths,
what lands on the host, exit codes, logs, and whether anything is left running.
"""

from __future__ import annotations

import json
import logging
import os
import random
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from argosy.errors import ExecutorError
from argosy.pipeline.executors import sandbox
from argosy.pipeline.executors.sandbox import (
    SandboxProcess,
    SandboxResult,
    SandboxSpec,
    StepFilesystem,
    detect_mode,
    start,
)

REPO = Path(__file__).resolve().parents[3]
OVERLAY = sandbox._overlay_support().available
needs_overlay = pytest.mark.skipif(not OVERLAY, reason=f"no namespaces: {sandbox._overlay_support().reason}")


@pytest.fixture(autouse=True)
def _auto_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARGOSY_SANDBOX", raising=False)


@pytest.fixture
def make_fs(tmp_path: Path) -> Callable[..., StepFilesystem]:
    counter = iter(range(1000))

    def make(mode: str | None = "overlay") -> StepFilesystem:
        return StepFilesystem(tmp_path / f"step{next(counter)}", mode=mode)

    return make


@pytest.fixture(params=["overlay", "none"])
def any_mode(request: pytest.FixtureRequest) -> str:
    if request.param == "overlay" and not OVERLAY:
        pytest.skip("no namespaces here")
    return str(request.param)


def run(fs: StepFilesystem, argv: list[str], **kw: object) -> tuple[SandboxResult, str, str, str]:
    logs = fs.step_dir.parent / f"{fs.step_dir.name}-logs"
    spec = SandboxSpec(
        argv=argv,
        fs=fs,
        stdout_path=logs / "out",
        stderr_path=logs / "err",
        log_path=logs / "log",
        **kw,  # type: ignore[arg-type]
    )
    res = start(spec).wait(timeout=60)
    return res, (logs / "out").read_text(), (logs / "err").read_text(), (logs / "log").read_text()


def place(fs: StepFilesystem, path: str, text: str, mode: int = 0o644) -> Path:
    host = fs.host_path(path)
    host.parent.mkdir(parents=True, exist_ok=True)
    host.write_text(text)
    host.chmod(mode)
    return host


def procs_with(marker: str) -> list[int]:
    """Live processes whose command line contains ``marker`` (zombies have none)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry))
    return found


def sleep_marker() -> str:
    """A ``sleep`` duration no other process on the machine will be using."""
    return f"100.{random.randrange(10**8, 10**9)}"


def wait_for_fifo(path: Path, timeout: float = 20) -> str:
    """Block until a step writes a line into the FIFO at ``path`` (a real event, not a sleep)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            assert left > 0, "the step never signalled readiness"
            if select.select([fd], [], [], left)[0]:
                data += os.read(fd, 100)
        return data.decode()
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# isolation


@needs_overlay
def test_parallel_steps_writing_the_same_paths_see_only_their_own(
    make_fs: Callable[..., StepFilesystem],
) -> None:
    host_before = {p: os.path.exists(p) for p in ("/tmp/hello_world.txt", "/out/x")}
    tokens = [uuid.uuid4().hex for _ in range(2)]
    script = "echo {t} > /tmp/hello_world.txt; mkdir -p /out; echo {t} > /out/x; sleep 0.3; cat /tmp/hello_world.txt /out/x"
    filesystems = [make_fs(), make_fs()]
    procs = [
        start(
            SandboxSpec(
                argv=["sh", "-c", script.format(t=t)], fs=fs, stdout_path=fs.step_dir.parent / f"{t}.out"
            )
        )
        for t, fs in zip(tokens, filesystems, strict=True)
    ]
    results = [p.wait(timeout=30) for p in procs]

    for token, fs, res in zip(tokens, filesystems, results, strict=True):
        assert res.exit_code == 0
        assert (fs.step_dir.parent / f"{token}.out").read_text() == f"{token}\n{token}\n"
        assert fs.read_path("/tmp/hello_world.txt").read_text() == f"{token}\n"
        assert fs.read_path("/out/x").read_text() == f"{token}\n"
    for path, existed in host_before.items():
        if not existed:
            assert not os.path.exists(path), f"{path} leaked onto the host"
        else:
            assert not any(t in Path(path).read_text() for t in tokens)


@needs_overlay
def test_placed_inputs_are_visible_and_executable(make_fs: Callable[..., StepFilesystem]) -> None:
    fs = make_fs()
    host_kubectl = Path("/usr/bin/kubectl")
    kubectl_before = os.readlink(host_kubectl) if host_kubectl.is_symlink() else host_kubectl.exists()
    place(fs, "/tmp/message", "hello from an artifact\n")
    place(fs, "/bin/kubectl", '#!/bin/sh\necho "fake kubectl $*"\n', mode=0o755)

    res, out, err, _ = run(
        fs, ["sh", "-c", "cat /tmp/message; kubectl version --client; test -x /bin/kubectl; ls /bin/sh"]
    )

    assert (res.exit_code, err) == (0, "")
    assert out == "hello from an artifact\nfake kubectl version --client\n/bin/sh\n"
    assert (
        os.readlink(host_kubectl) if host_kubectl.is_symlink() else host_kubectl.exists()
    ) == kubectl_before
    assert not os.path.exists("/tmp/message") or "artifact" not in Path("/tmp/message").read_text()


@needs_overlay
def test_working_dir_is_created_and_is_the_cwd(make_fs: Callable[..., StepFilesystem]) -> None:
    fs = make_fs()
    place(fs, "/src/README", "checked out\n")
    res, out, _, _ = run(fs, ["sh", "-c", "pwd; cat README"], working_dir="/src")
    assert res.exit_code == 0
    assert out == "/src\nchecked out\n"

    nested = f"/var/lib/argosy-test-{uuid.uuid4().hex}/work"
    res, out, _, _ = run(make_fs(), ["pwd"], working_dir=nested)
    assert (res.exit_code, out) == (0, f"{nested}\n")
    assert not os.path.exists(os.path.dirname(nested))


@needs_overlay
@pytest.mark.parametrize(
    ("interpreter", "source", "expected"),
    [
        ("python3", "import os\nprint('py', 6 * 7, os.getcwd())\n", "py 42 /\n"),
        ("sh", 'echo "sh $((6 * 7)) $(pwd)"\n', "sh 42 /\n"),
    ],
)
def test_script_from_argo_staging(
    make_fs: Callable[..., StepFilesystem], interpreter: str, source: str, expected: str
) -> None:
    fs = make_fs()
    place(fs, "/argo/staging/script", source)
    res, out, err, _ = run(fs, [interpreter, "/argo/staging/script"])
    assert (res.exit_code, out, err) == (0, expected, "")
    assert not os.path.exists("/argo/staging/script")


@needs_overlay
def test_host_tools_and_a_python_under_root_work(make_fs: Callable[..., StepFilesystem]) -> None:
    checks = ["python3 -c 'print(6*7)'", "echo abc | awk '{print toupper($0)}'"]
    expected = "42\nABC\n"
    if shutil.which("node"):
        checks.append("node -e 'console.log(6*7)'")
        expected += "42\n"
    res, out, err, _ = run(make_fs(), ["sh", "-c", "; ".join(checks)])
    assert (res.exit_code, out) == (0, expected), err

    # The interpreter running these tests (a pyenv/venv install) and its site-packages.
    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
    code = "import yaml; print('ok')"
    res, out, err, _ = run(make_fs(), [sys.executable, "-c", code], env=env)
    assert (res.exit_code, out) == (0, "ok\n"), err

    # A venv created on the host (outside /tmp, which steps do not see) runs with its own prefix.
    venv = Path(tempfile.mkdtemp(prefix="argosy-venv-", dir="/var/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        code = "import sys; print(sys.prefix)"
        res, out, err, _ = run(make_fs(), [str(venv / "bin" / "python"), "-c", code])
        assert (res.exit_code, out) == (0, f"{venv}\n"), err
    finally:
        shutil.rmtree(venv)


@needs_overlay
def test_step_writes_anywhere_without_touching_the_host(make_fs: Callable[..., StepFilesystem]) -> None:
    fs = make_fs()
    name = f"argosy-{uuid.uuid4().hex}"
    passwd = Path("/etc/passwd").read_bytes()
    script = f"echo a > /tmp/{name}; echo b > /{name}; mkdir -p /mnt/out && echo c > /mnt/out/{name}"
    as_root = os.geteuid() == 0  # without root the step may not modify root's files (see limits)
    if as_root:
        script += "; echo extra >> /etc/passwd"
    res, _, err, _ = run(fs, ["sh", "-c", script])
    assert res.exit_code == 0, err

    assert fs.read_path(f"/tmp/{name}").read_text() == "a\n"
    assert fs.read_path(f"/{name}").read_text() == "b\n"
    assert fs.read_path(f"/mnt/out/{name}").read_text() == "c\n"
    if as_root:
        assert fs.read_path("/etc/passwd").read_bytes() == passwd + b"extra\n"
    for path in (f"/tmp/{name}", f"/{name}", f"/mnt/out/{name}"):
        assert not os.path.exists(path)
    assert Path("/etc/passwd").read_bytes() == passwd
    assert fs.read_path("/etc/group") == Path("/etc/group")  # untouched: the host's own file


@needs_overlay
def test_host_tmp_is_not_visible_nor_polluted(make_fs: Callable[..., StepFilesystem]) -> None:
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="argosy-host-") as host_file:
        res, out, _, _ = run(make_fs(), ["sh", "-c", f"ls -A /tmp; test -e {host_file.name} || echo hidden"])
    assert (res.exit_code, out) == (0, "hidden\n")


@needs_overlay
def test_a_deleted_host_file_is_gone_only_for_the_step(make_fs: Callable[..., StepFilesystem]) -> None:
    fs = make_fs()
    src = fs.host_path("/srv/input.txt")
    src.parent.mkdir(parents=True)
    src.write_text("x")
    res, out, _, _ = run(fs, ["sh", "-c", "rm /srv/input.txt && test ! -e /srv/input.txt && echo gone"])
    assert (res.exit_code, out) == (0, "gone\n")
    with pytest.raises(FileNotFoundError):
        fs.read_path("/srv/input.txt")


@needs_overlay
def test_hostname_and_private_pid_namespace(make_fs: Callable[..., StepFilesystem]) -> None:
    res, out, _, _ = run(
        make_fs(), ["sh", "-c", "cat /proc/sys/kernel/hostname; echo $$"], hostname="pod-abc"
    )
    assert (res.exit_code, out) == (0, "pod-abc\n1\n")


# ---------------------------------------------------------------------------------------------
# process behaviour (both modes)


def test_env_is_exactly_the_given_one_plus_path(
    make_fs: Callable[..., StepFilesystem], any_mode: str
) -> None:
    res, out, _, _ = run(make_fs(any_mode), ["env"], env={"MESSAGE": "hi there", "EMPTY": ""})
    assert res.exit_code == 0
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert lines == {"MESSAGE": "hi there", "EMPTY": "", "PATH": os.environ["PATH"]}

    res, out, _, _ = run(make_fs(any_mode), ["sh", "-c", 'echo "$PATH"'], env={"PATH": "/usr/bin:/bin"})
    assert out == "/usr/bin:/bin\n"


def test_exit_code_and_closed_stdin(make_fs: Callable[..., StepFilesystem], any_mode: str) -> None:
    res, _, _, _ = run(make_fs(any_mode), ["sh", "-c", "exit 42"])
    assert (res.exit_code, res.timed_out, res.killed, res.error) == (42, False, False, None)
    assert res.started_at <= res.finished_at
    res, out, _, _ = run(make_fs(any_mode), ["sh", "-c", "cat; echo eof"])  # would hang on a tty
    assert (res.exit_code, out) == (0, "eof\n")


def test_stdout_stderr_separated_and_combined_in_order(
    make_fs: Callable[..., StepFilesystem], any_mode: str
) -> None:
    script = "echo o1; sleep 0.05; echo e1 >&2; sleep 0.05; echo o2; sleep 0.05; printf e2 >&2"
    res, out, err, log = run(make_fs(any_mode), ["sh", "-c", script])
    assert res.exit_code == 0
    assert out == "o1\no2\n"
    assert err == "e1\ne2"
    assert log == "o1\ne1\no2\ne2\n"


def test_timeout_kills_the_whole_tree(make_fs: Callable[..., StepFilesystem], any_mode: str) -> None:
    marker = sleep_marker()
    began = time.monotonic()
    res, _, _, _ = run(make_fs(any_mode), ["sh", "-c", f"sleep {marker} & sleep {marker}"], timeout=0.5)
    assert time.monotonic() - began < 10
    assert res.timed_out and not res.killed
    assert res.exit_code == 137
    assert res.error is not None and "timed out after 0.5s" in res.error
    assert procs_with(marker) == []


def test_kill_kills_the_whole_tree_and_is_idempotent(
    make_fs: Callable[..., StepFilesystem], any_mode: str, tmp_path: Path
) -> None:
    fs = make_fs(any_mode)
    fifo_path = f"/tmp/ready-{uuid.uuid4().hex}" if fs.isolated else str(tmp_path / "ready")
    fifo = fs.host_path(fifo_path)
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    marker = sleep_marker()
    # The short sleep lets the background processes finish exec'ing before we count them.
    script = (
        f"sleep {marker} & (setsid sleep {marker} >/dev/null 2>&1 &); sleep {marker} & "
        f"sleep 0.2; echo ready > {fifo_path}; wait"
    )
    proc: SandboxProcess = start(SandboxSpec(argv=["sh", "-c", script], fs=fs))
    assert wait_for_fifo(fifo) == "ready\n"
    assert proc.poll() is None
    assert len(procs_with(marker)) >= 4  # sh itself and three sleeps

    proc.kill()
    proc.kill()
    res = proc.wait(timeout=30)
    proc.kill()  # after the end: harmless

    assert res.killed and not res.timed_out
    assert res.exit_code == 137
    if fs.isolated:  # "none" mode cannot catch a process that left the session (setsid)
        assert procs_with(marker) == []
    else:
        for pid in procs_with(marker):
            os.kill(pid, 9)


_ORCHESTRATOR = textwrap.dedent(
    """
    import os, sys, time
    from argosy.pipeline.executors import sandbox as sb
    fs = sb.StepFilesystem(sys.argv[1], mode="overlay")
    sb.start(sb.SandboxSpec(argv=["sh", "-c", os.environ["STEP_SCRIPT"]], fs=fs))
    time.sleep(300)
    """
)


@needs_overlay
def test_steps_die_with_argosy(tmp_path: Path) -> None:
    """If the Argosy process is killed, its steps do not live on."""
    step_dir = tmp_path / "step"
    fifo = StepFilesystem(step_dir, mode="overlay").host_path("/tmp/alive")
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    marker = sleep_marker()
    # Every process of the step holds the FIFO open: EOF on it means they are all gone.
    script = f"exec 3>/tmp/alive; sleep {marker} & (setsid sleep {marker} &); echo ready >&3; wait"
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    orchestrator = subprocess.Popen(
        [sys.executable, "-c", _ORCHESTRATOR, str(step_dir)],
        env={**os.environ, "PYTHONPATH": str(REPO), "STEP_SCRIPT": script},  # not in any cmdline
    )
    try:
        data = b""
        deadline = time.monotonic() + 30
        while not data.endswith(b"ready\n"):
            assert select.select([reader], [], [], deadline - time.monotonic())[0], "step never started"
            data += os.read(reader, 100)
        assert procs_with(marker)
        orchestrator.kill()
        orchestrator.wait()
        while True:  # the kernel closes the FIFO when the last process of the step exits
            assert select.select([reader], [], [], deadline - time.monotonic())[0], "the step outlived Argosy"
            if os.read(reader, 100) == b"":
                break
        assert procs_with(marker) == []
    finally:
        orchestrator.kill()
        os.close(reader)

    # The crashed run left its scratch dirs behind; the step dir can still be used and removed.
    fs = StepFilesystem(step_dir, mode="overlay")
    res, out, _, _ = run(fs, ["sh", "-c", "echo again > /tmp/x; cat /tmp/x"])
    assert (res.exit_code, out) == (0, "again\n")
    fs.remove()
    assert not step_dir.exists()


def test_wait_timeout_raises_without_killing(make_fs: Callable[..., StepFilesystem], any_mode: str) -> None:
    proc = start(SandboxSpec(argv=["sh", "-c", "sleep 0.5"], fs=make_fs(any_mode)))
    with pytest.raises(TimeoutError):
        proc.wait(timeout=0.01)
    assert proc.wait(timeout=30).exit_code == 0


def test_background_processes_die_with_the_main_process(
    make_fs: Callable[..., StepFilesystem], any_mode: str
) -> None:
    marker = sleep_marker()
    res, out, _, _ = run(make_fs(any_mode), ["sh", "-c", f"sleep {marker} & echo started"])
    assert (res.exit_code, out) == (0, "started\n")
    assert procs_with(marker) == []


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["nonexistent"], 127, 'exec: "nonexistent": executable file not found in $PATH'),
        (["exit", "1"], 127, 'exec: "exit": executable file not found in $PATH'),
        (["/no/such/tool"], 127, 'exec: "/no/such/tool": stat /no/such/tool: no such file or directory'),
    ],
)
def test_missing_executable_is_a_result(
    make_fs: Callable[..., StepFilesystem], any_mode: str, argv: list[str], code: int, message: str
) -> None:
    res, out, err, log = run(make_fs(any_mode), argv)
    assert (res.exit_code, res.error) == (code, message)
    assert (out, err, log) == ("", message + "\n", message + "\n")


def test_non_executable_file_is_permission_denied(
    make_fs: Callable[..., StepFilesystem], any_mode: str
) -> None:
    fs = make_fs(any_mode)
    path = "/opt/argosy-not-exec" if fs.isolated else str(fs.step_dir / "not-exec")
    host = fs.host_path(path)
    host.parent.mkdir(parents=True, exist_ok=True)
    host.write_text("#!/bin/sh\necho no\n")
    res, _, _, _ = run(fs, [path])
    assert (res.exit_code, res.error) == (126, f'exec: "{path}": permission denied')


def test_remove_deletes_the_step_area(make_fs: Callable[..., StepFilesystem], any_mode: str) -> None:
    fs = make_fs(any_mode)
    fs.step_dir.mkdir(parents=True, exist_ok=True)
    res, _, _, _ = run(
        fs, ["sh", "-c", "mkdir -p /tmp/a/b && echo x > /tmp/a/b/c"] if fs.isolated else ["true"]
    )
    assert res.exit_code == 0
    fs.remove()
    assert not fs.step_dir.exists()
    fs.remove()  # idempotent


# ---------------------------------------------------------------------------------------------
# modes


def test_none_mode_runs_on_the_host_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("ARGOSY_SANDBOX", "none")
    monkeypatch.setattr(sandbox, "_none_warned", False)
    assert detect_mode() == "none"
    target = tmp_path / "shared" / "out.txt"
    with caplog.at_level(logging.WARNING, logger=sandbox.__name__):
        for text in ("one", "two"):
            fs = StepFilesystem(tmp_path / f"step-{text}")
            assert fs.mode == "none"
            assert fs.host_path(str(target)) == target
            res, _, _, _ = run(
                fs,
                ["sh", "-c", f"mkdir -p {target.parent}; echo {text} >> {target}; pwd"],
                working_dir=str(tmp_path / "wd"),
            )
            assert res.exit_code == 0
    assert target.read_text() == "one\ntwo\n"  # steps share the host: the clash is real
    assert fs.read_path(str(target)) == target
    assert (tmp_path / "wd").is_dir()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ARGOSY_SANDBOX=none" in warnings[0].getMessage()
    assert "clash" in warnings[0].getMessage()


def test_forced_modes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARGOSY_SANDBOX", "bwrap")
    with pytest.raises(ExecutorError, match="not a sandbox mode"):
        detect_mode()
    with pytest.raises(ExecutorError, match="unknown sandbox mode"):
        StepFilesystem(tmp_path, mode="docker")

    reason = "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0"
    monkeypatch.setattr(sandbox, "_overlay_support", lambda: sandbox._Support(False, False, False, reason))
    monkeypatch.setenv("ARGOSY_SANDBOX", "overlay")
    with pytest.raises(ExecutorError, match="max_user_namespaces is 0"):
        detect_mode()
    with pytest.raises(ExecutorError, match="max_user_namespaces is 0"):
        StepFilesystem(tmp_path / "step", mode="overlay")
    monkeypatch.setenv("ARGOSY_SANDBOX", "auto")
    assert detect_mode() == "none"


@pytest.mark.skipif(not OVERLAY, reason="no namespaces here")
def test_detected_mode_is_overlay_and_paths_map_into_the_step_dir(
    make_fs: Callable[..., StepFilesystem], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert detect_mode() == "overlay"
    monkeypatch.setenv("ARGOSY_SANDBOX", "overlay")
    assert detect_mode() == "overlay"
    fs = make_fs(None)
    assert fs.host_path("/tmp/x") == fs.step_dir / "root" / "tmp" / "x"
    assert fs.host_path("/a/../b/./c") == fs.step_dir / "root" / "b" / "c"
    with pytest.raises(ExecutorError, match="absolute"):
        fs.host_path("relative/path")
    with pytest.raises(ExecutorError, match="/proc"):
        fs.host_path("/proc/1/status")
    with pytest.raises(FileNotFoundError):
        fs.read_path("/tmp/never-written")


_NESTED_MOUNT_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from argosy.pipeline.executors import sandbox as sb
    outer, step_dir = sys.argv[1], sys.argv[2]
    fs = sb.StepFilesystem(step_dir, mode="overlay")
    script = (f"cat {outer}/inner/f {outer}/file; echo new > {outer}/inner/g; echo new2 > {outer}/h; "
              f"(echo x >> {outer}/file) 2>/dev/null || echo read-only")
    spec = sb.SandboxSpec(argv=["sh", "-c", script], fs=fs, stdout_path=fs.step_dir.parent / "out")
    res = sb.start(spec).wait(timeout=60)
    print(json.dumps({
        "code": res.exit_code,
        "out": (fs.step_dir.parent / "out").read_text(),
        "g": fs.read_path(f"{outer}/inner/g").read_text(),
        "h": fs.read_path(f"{outer}/h").read_text(),
        "host_untouched": sorted(os.listdir(outer)) + sorted(os.listdir(f"{outer}/inner")),
        "placeholder_left": os.path.exists(fs.host_path(f"{outer}/file")),
    }))
    """
)


@needs_overlay
def test_host_mounts_inside_directories_are_visible_and_copy_on_write(tmp_path: Path) -> None:
    """A directory holding a mount is split into per-entry overlays; the mount shows as well."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to create a mount in a private namespace")
    outer = Path(tempfile.mkdtemp(prefix="argosy-sbx-", dir="/var/tmp"))  # not /tmp: private
    try:
        setup = (
            'mkdir "$1/inner" && mount -t tmpfs argosy-test "$1/inner" && echo data > "$1/inner/f" '
            '&& echo top > "$1/file" && shift && exec "$@"'
        )
        proc = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup, "sh", str(outer)]
            + [sys.executable, "-c", _NESTED_MOUNT_SCRIPT, str(outer), str(tmp_path / "step")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert out == {
            "code": 0,
            "out": "data\ntop\nread-only\n",  # files beside a mount are shown read-only
            "g": "new\n",
            "h": "new2\n",
            "host_untouched": ["file", "inner", "f"],
            "placeholder_left": False,
        }
    finally:
        shutil.rmtree(outer)


# ---------------------------------------------------------------------------------------------
# unprivileged users

_AS_USER_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from argosy.pipeline.executors import sandbox as sb

    base = Path(sys.argv[1])
    marker = sys.argv[2]
    out = {"mode": sb.detect_mode(), "uid": os.getuid()}
    steps = []
    for i in range(2):
        fs = sb.StepFilesystem(base / f"s{i}")
        kube = fs.host_path("/bin/kubectl")
        kube.parent.mkdir(parents=True, exist_ok=True)
        kube.write_text("#!/bin/sh\\necho kube-%d\\n" % i)
        kube.chmod(0o755)
        cmd = (f"echo {i} > /tmp/hello_world.txt; mkdir -p /mnt/out /src && echo {i} > /mnt/out/x; "
               "kubectl; id -u; pwd")
        spec = sb.SandboxSpec(argv=["sh", "-c", cmd], fs=fs, working_dir="/src", stdout_path=base / f"o{i}")
        steps.append((fs, sb.start(spec)))
    for i, (fs, proc) in enumerate(steps):
        res = proc.wait(timeout=60)
        out[f"step{i}"] = [res.exit_code, (base / f"o{i}").read_text(),
                           fs.read_path("/tmp/hello_world.txt").read_text(),
                           fs.read_path("/mnt/out/x").read_text(),
                           fs.read_path("/tmp/hello_world.txt").stat().st_uid]
    fs = sb.StepFilesystem(base / "k")
    res = sb.start(sb.SandboxSpec(argv=["sh", "-c", f"sleep {marker} & sleep {marker}"], fs=fs, timeout=0.5)).wait()
    out["timeout"] = [res.exit_code, res.timed_out]
    fs.remove()
    out["removed"] = not fs.step_dir.exists()
    print(json.dumps(out))
    """
)


def _unprivileged_python() -> list[str] | None:
    """A command prefix running a Python >= 3.11 as uid 65534, or None if impossible here."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    for python in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        probe = subprocess.run(
            [*prefix, python, "-c", "import sys; assert sys.version_info >= (3, 11)"],
            capture_output=True,
            cwd="/",
        )
        if probe.returncode == 0:
            return [*prefix, python]
    return None


@pytest.fixture
def unprivileged_base() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="argosy-sandbox-user-"))
    os.chown(base, 65534, 65534)
    yield base
    sandbox.view.rmtree(base)


def test_works_for_an_unprivileged_user(unprivileged_base: Path) -> None:
    prefix = _unprivileged_python()
    if prefix is None:
        pytest.skip("needs root (to switch to uid 65534), setpriv and a Python >= 3.11 it can run")
    if sandbox._sysctl("/proc/sys/user/max_user_namespaces") == "0":
        pytest.skip("user namespaces are disabled")
    marker = sleep_marker()
    proc = subprocess.run(
        [*prefix, "-c", _AS_USER_SCRIPT, str(unprivileged_base), marker],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["mode"], out["uid"]) == ("overlay", 65534)
    for i in range(2):
        # Root inside the step, files owned by the real user outside.
        assert out[f"step{i}"] == [0, f"kube-{i}\n0\n/src\n", f"{i}\n", f"{i}\n", 65534]
    assert out["timeout"] == [137, True]
    assert out["removed"]
    assert procs_with(marker) == []
    assert stat.S_IMODE(os.stat("/tmp").st_mode) == 0o1777  # the host's /tmp untouched
