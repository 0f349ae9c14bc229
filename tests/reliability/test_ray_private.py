"""A Ray cluster that ayo starts is private to this machine, and actors that cannot all fit are
refused at once (issue 17, points 3 and 11). Each test runs in a fresh Python process, so the
cluster is the one ayo starts (not one a test fixture initialized)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("ray")

pytestmark = [pytest.mark.ray, pytest.mark.anyio]

REPO = str(Path(__file__).resolve().parents[2])
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


async def run_script(body: str) -> Any:
    """Run ``body`` in a fresh interpreter (no RAY_ADDRESS); returns the JSON it prints last."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = REPO
    with anyio.fail_after(300):
        done = await anyio.run_process([sys.executable, "-c", textwrap.dedent(body)], env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


async def test_the_ray_cluster_ayo_starts_listens_on_loopback_only() -> None:
    found = await run_script(
        """
        import json, os, psutil, ray
        from pathlib import Path
        from ayo_trace.backend.cluster.ray_engines import RayCluster

        cluster = RayCluster()
        cluster.connect()
        ray.get(ray.remote(lambda: 1).remote())  # a worker process, with its own server, is up
        me = psutil.Process()
        procs = [me, *me.children(recursive=True)]
        found = []
        for p in procs:
            try:
                conns = p.net_connections(kind="inet")
            except psutil.Error:
                continue
            found += [[c.laddr.ip, c.laddr.port, p.name()] for c in conns if c.status == psutil.CONN_LISTEN]
        token = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
        token_mode = token.stat().st_mode & 0o777 if token.exists() else None
        cluster.close()
        print(json.dumps({"listening": found, "token_mode": token_mode}))
        """
    )
    listening = found["listening"]
    names = {name for _, _, name in listening}
    assert {"gcs_server", "raylet"} <= names, listening  # the cluster's own servers were seen
    assert [s for s in listening if s[0] not in LOOPBACK] == []
    # loopback ports are open to every local user: the authentication token is what keeps them out
    if os.environ.get("RAY_AUTH_MODE", "token") == "token":
        assert found["token_mode"] == 0o600


async def test_actors_that_together_ask_more_than_the_cluster_has_are_refused_at_once() -> None:
    outcome = await run_script(
        """
        import json, anyio, ray
        import ayo_trace as ayo
        import ayo_trace.testing  # registers the "scripted" backend

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)

        async def main():
            configs = [
                ayo.EngineConfig("llm", kind="llm", backend="scripted", num_cpus=1.5),
                ayo.EngineConfig("embed", kind="embedding", backend="scripted", num_cpus=1.0),
            ]
            try:
                with anyio.fail_after(120):
                    async with ayo.Runtime(engines=configs, cluster="ray"):
                        return "started"
            except ayo.ConfigError as e:
                return str(e)

        print(json.dumps(anyio.run(main)))
        ray.shutdown()
        """
    )
    assert "ask for 2.5 CPUs in all, but the Ray cluster has 2" in outcome, outcome
