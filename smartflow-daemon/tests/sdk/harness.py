"""Shared plumbing for the SDK scripts: start smartflowd (and the mock upstream), write the
dialect-matrix configuration, run named checks and print the closing count."""

import os
import subprocess
import tempfile
import traceback

DEMO_KEY = "sf-demo-key-0001"
DEMO_HASH = "sha256:2a5ebac4626f7862f451acd04ba500227a2890095f94b4923701f390e560d700"

# (dialect, virtual model, whether its mock upstream streams)
DIALECTS = [
    ("openai", "via-openai", True),
    ("azure", "via-azure", True),
    ("anthropic", "via-anthropic", True),
    ("gemini", "via-gemini", True),
    ("bedrock", "via-bedrock", True),
]


def _banner(proc, field):
    line = proc.stdout.readline()
    words = dict(w.split("=", 1) for w in line.split() if "=" in w)
    if field == "mock":
        parts = line.split()
        if len(parts) == 3 and parts[1] == "listening":
            return parts[2]
    elif field in words:
        return words[field]
    proc.kill()
    raise RuntimeError(f"process did not start: {line!r}")


def start_daemon(binary, config, env=None):
    proc = subprocess.Popen(
        [binary, "serve", "--config", config, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return proc, _banner(proc, "data")


def start_mock(binary):
    proc = subprocess.Popen([binary], stdout=subprocess.PIPE, text=True)
    return proc, _banner(proc, "mock")


def dialect_config(mock):
    """A configuration with one virtual model per upstream dialect, all served by the mock."""
    text = f"""
[log]
level = "warn"

[[keys]]
id = "demo"
hash = "{DEMO_HASH}"

[[providers]]
name = "oa"
type = "openai"
base_url = "http://{mock}/v1"

[[providers]]
name = "az"
type = "azure"
base_url = "http://{mock}"
api_version = "2024-10-21"
api_key = "env:SF_SDK_TEST_KEY"

[[providers]]
name = "an"
type = "anthropic"
base_url = "http://{mock}/v1"
api_key = "env:SF_SDK_TEST_KEY"

[[providers]]
name = "ge"
type = "gemini"
base_url = "http://{mock}/v1beta"
api_key = "env:SF_SDK_TEST_KEY"

[[providers]]
name = "br"
type = "bedrock"
base_url = "http://{mock}"
region = "eu-west-1"
access_key_id = "env:SF_SDK_TEST_KEY"
secret_access_key = "env:SF_SDK_TEST_KEY"
"""
    for dialect, model, _ in DIALECTS:
        upstream = {"openai": "oa/ok", "azure": "az/ok", "anthropic": "an/claude-up", "gemini": "ge/gemini-up",
                    "bedrock": "br/anthropic.claude-v2"}[dialect]
        text += f'\n[[models]]\nname = "{model}"\ntargets = ["{upstream}"]\n'
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path, {"SF_SDK_TEST_KEY": "sdk-test-key"}


def run(label, tests):
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
            print(f"{label} {name} ... ok")
        except Exception:
            failed += 1
            print(f"{label} {name} ... FAILED")
            traceback.print_exc()
    return passed, failed


def stop(*procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=15)


def main(label, quickstart_tests, dialect_tests):
    """Runs a script's checks and exits with their count.

    Command line: SMARTFLOWD QUICKSTART_TOML [MOCK_UPSTREAM]. `quickstart_tests(addr)` gives the
    checks against the quickstart daemon at `addr` (host:port); with the mock upstream binary,
    `dialect_tests(addr, model, streams)` gives the checks for each upstream dialect's model.
    """
    import sys

    binary, config = sys.argv[1], sys.argv[2]
    mock = sys.argv[3] if len(sys.argv) > 3 else None
    passed = failed = 0
    if mock:
        mock_proc, mock_addr = start_mock(mock)
        matrix_config, env = dialect_config(mock_addr)
        matrix_proc, matrix_addr = start_daemon(binary, matrix_config, env)
        try:
            for _, model, streams in DIALECTS:
                p, f = run(label, dialect_tests(matrix_addr, model, streams))
                passed, failed = passed + p, failed + f
        finally:
            stop(matrix_proc, mock_proc)
    proc, addr = start_daemon(binary, config)
    try:
        p, f = run(label, quickstart_tests(addr))
        passed, failed = passed + p, failed + f
    finally:
        stop(proc)
    print(f"{label}: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
