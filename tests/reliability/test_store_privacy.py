"""The embedded PostgreSQL is private to the OS user who starts it, and restarts after crashes
(issue 17, points 2 and 9)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import psycopg
import pytest

from ayo_trace.backend.engines import _embedded_pg
from ayo_trace.backend.engines.pgvector_store import PgVectorStore

pytestmark = pytest.mark.anyio

REPO = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def private_root() -> Iterator[Path]:
    """A mode-0700 directory (like a home directory) for data directories to live under."""
    root = Path(tempfile.mkdtemp(prefix="ayo-private-"))
    root.chmod(0o700)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, IndexError, ValueError):
        return None


def wait_until_dead(pid: int) -> None:
    """Until ``pid`` is dead, or a zombie no one reaps."""
    while _embedded_pg._process_alive(pid):
        time.sleep(0.01)


async def rows(store: PgVectorStore, sql: str) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(store.conninfo) as conn:
        cur = await conn.execute(sql)
        return list(await cur.fetchall())


async def test_only_the_starting_user_may_connect_by_peer_authentication(private_root: Path) -> None:
    async with PgVectorStore(data_dir=private_root / "pgdata") as store:
        rules = await rows(store, "SELECT type, auth_method, options FROM pg_hba_file_rules")
        idents = await rows(store, "SELECT map_name, sys_name, pg_username FROM pg_ident_file_mappings")
        listen = await rows(store, "SHOW listen_addresses")
    assert rules == [("local", "peer", ["map=ayo"])]  # no trust, no TCP
    assert idents == [("ayo", pwd.getpwuid(os.geteuid()).pw_name, "postgres")]
    assert listen == [("",)]


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another local user needs root")
async def test_another_local_user_cannot_connect(private_root: Path) -> None:
    data_dir = private_root / "pgdata"
    psql = _embedded_pg._bin_dir() / "psql"
    async with PgVectorStore(data_dir=data_dir) as store:
        await rows(store, "SELECT 1")
        pid = postmaster_pid(data_dir)
        attempts = [
            f"host={data_dir} user=postgres dbname=postgres",
            "host=/tmp user=postgres dbname=postgres",
        ]
        attempts += [f"host=/proc/{pid}/fd/{fd} user=postgres dbname=postgres" for fd in range(3, 12)]
        for conninfo in attempts:
            as_nobody = await anyio.run_process(
                [
                    "setpriv",
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    str(psql),
                    conninfo,
                    "-c",
                    "SELECT 1",
                ],
                check=False,
                cwd="/",
            )
            assert as_nobody.returncode != 0, (conninfo, as_nobody.stdout)


async def test_starting_the_store_changes_no_other_directory_and_keeps_its_socket_inside(
    private_root: Path,
) -> None:
    deep = private_root / ("d" * 60) / ("e" * 60) / ("f" * 60)  # too long for a socket path
    deep.mkdir(parents=True)
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [private_root, *deep.parents][:4]}
    modes[deep] = stat.S_IMODE(deep.stat().st_mode)
    data_dir = deep / "pgdata"
    async with PgVectorStore(data_dir=data_dir) as store:
        sockets = await rows(store, "SHOW unix_socket_directories")
        assert (data_dir / ".s.PGSQL.5432").is_socket()
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in modes} == modes
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert len(str(data_dir / ".s.PGSQL.5432")) > 107 and sockets[0][0].startswith("/proc/self/fd/")


def test_a_dead_or_zombie_postmaster_is_forgotten(tmp_path: Path) -> None:
    child = os.posix_spawn("/bin/true", ["true"], {})  # never waited for: a zombie once it exits
    try:
        for _ in range(200):
            if not _embedded_pg._process_alive(child):
                break
            time.sleep(0.01)
        (tmp_path / "postmaster.pid").write_text(f"{child}\n{tmp_path}\n0\n5432\n{tmp_path}\n")
        assert _embedded_pg._postmaster(tmp_path) == (None, None)
        assert not (tmp_path / "postmaster.pid").exists()
    finally:
        os.waitpid(child, 0)


async def test_the_store_reopens_after_its_postmaster_was_killed(private_root: Path) -> None:
    data_dir = private_root / "pgdata"
    async with PgVectorStore(data_dir=data_dir) as store:
        await store.insert("kept", ["a"], [[1.0, 0.0]])
        pid = postmaster_pid(data_dir)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await anyio.to_thread.run_sync(wait_until_dead, pid)
    async with PgVectorStore(data_dir=data_dir) as store:
        assert await store.count("kept") == 1
    assert postmaster_pid(data_dir) is None


async def test_a_client_killed_with_sigkill_does_not_keep_the_server_running(private_root: Path) -> None:
    data_dir = private_root / "pgdata"
    script = textwrap.dedent(
        f"""
        import os, signal, anyio
        from ayo_trace.backend.engines.pgvector_store import PgVectorStore

        async def main():
            async with PgVectorStore(data_dir={str(data_dir)!r}) as store:
                await store.count("x")
                os.kill(os.getpid(), signal.SIGKILL)

        anyio.run(main)
        """
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    killed = await anyio.run_process([sys.executable, "-c", script], env=env, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert postmaster_pid(data_dir) is not None  # the killed client left the server running
    async with PgVectorStore(data_dir=data_dir) as store:
        await store.count("x")
    assert postmaster_pid(data_dir) is None  # the last live user stopped it
