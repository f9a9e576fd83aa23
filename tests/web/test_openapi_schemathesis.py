"""Property-based check of the API against its own OpenAPI document (schemathesis).

A real node runs as a subprocess with example data; the schemathesis CLI generates valid and
invalid requests from /api/v1/openapi.json and checks every answer: no server errors, status
codes and content types as documented, JSON bodies that match the response schemas, and
invalid input rejected with 400.

Left out: ``positive_data_acceptance`` (it expects every schema-valid request to succeed, but
opaque page cursors and cross-parameter rules such as population_min ≤ population_max
cannot be expressed in a schema; those answer a documented 400), and the checks about
authentication and resources, which a read-only public API has none of.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.peers import free_port

EXAMPLES = Path(__file__).parents[2] / "examples" / "measures.csv"


async def _run(*args: str, env: dict[str, str], cwd: Path | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=cwd
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_api_conforms_to_its_openapi_document(tmp_path: Path, database_url: str) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.fail("schemathesis is a dev dependency and must be installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIBNETZ_")}
    env["BIBNETZ_DATABASE_URL"] = database_url
    data = str(tmp_path / "node")
    node = [sys.executable, "-m", "node"]
    code, out = await _run(*node, "library", "add", "heideloh", "--name", "Heideloh",
                           "--population", "6000", "--data", data, env=env)  # fmt: skip
    assert code == 0, out
    code, out = await _run(*node, "measure", "import", str(EXAMPLES), "--library", "heideloh",
                           "--data", data, env=env)  # fmt: skip
    assert code == 0, out
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *node, "serve", "--data", data, "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(100):
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        code, out = await _run(
            st, "run", f"http://127.0.0.1:{port}/api/v1/openapi.json",
            "--checks", "all", "--exclude-checks", "positive_data_acceptance,ignored_auth,"
            "use_after_free,ensure_resource_availability,object_level_authorization",
            "--phases", "examples,coverage,fuzzing", "--max-examples", "40",
            "--workers", "2", "--max-failures", "5", "--no-color",
            env=env | {"SCHEMATHESIS_HOOKS": ""}, cwd=tmp_path,  # its cache stays out of the repo
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        await server.wait()
    assert code == 0, out[-6000:]
