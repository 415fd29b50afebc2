#!/usr/bin/env python3
"""Interop check over Streamable HTTP with the official Python SDK client.

Usage:
    python_http_client.py --mode legacy|auto --url http://127.0.0.1:PORT/mcp [--timeout SECS]

Runs the same scenario as the stdio check (``python_client.run_checks``: tools, progress,
logging, errors, sampling and elicitation callbacks, unknown tool, resources, prompts,
completion), with the client connected to ``--url`` instead of a child process. Then it checks
what went over the wire, from the HTTP client's event hooks:

- ``--mode legacy``: ``initialize`` mints an ``Mcp-Session-Id``; every later request carries
  it and ``MCP-Protocol-Version: 2025-11-25``; calls that report progress or log are answered
  with SSE, others with JSON; closing the client DELETEs the session (200).
- ``--mode auto``: the client settles on 2026-07-28; no session is minted, every request
  carries ``MCP-Protocol-Version: 2026-07-28`` and ``Mcp-Method``; there is no GET or DELETE.

Every check prints one ``PASS``/``FAIL`` line and the last line is ``N passed, M failed``;
the exit status is 0 only when every check passed.

Written against mcp==2.3.0 (see .ci/python-client, which provisions it).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.client import Client, ClientRequestContext
from mcp.client.streamable_http import streamable_http_client

# The stdio scenario lives next to this file; reuse its checks unchanged.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import python_client as scenario  # noqa: E402

warnings.simplefilter("ignore")


@dataclass
class Exchange:
    """One HTTP request and the head of its response."""

    method: str
    request_headers: dict[str, str]
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        ct = self.response_headers.get("content-type", "-")
        return f"{self.method} -> {self.status} ({ct})"


@dataclass
class Wire:
    """Every exchange the client made, in order."""

    exchanges: list[Exchange] = field(default_factory=list)

    async def on_request(self, request: httpx2.Request) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        ex = Exchange(method=request.method, request_headers=headers)
        request.extensions["interop_exchange"] = ex
        self.exchanges.append(ex)

    async def on_response(self, response: httpx2.Response) -> None:
        ex = response.request.extensions.get("interop_exchange")
        if ex is not None:
            ex.status = response.status_code
            ex.response_headers = {k.lower(): v for k, v in response.headers.items()}


def wire_checks(mode: str, wire: Wire, runner: scenario.Runner) -> None:
    ex = wire.exchanges

    def check(name: str, ok: bool, detail: str) -> None:
        runner.record(name, ok, detail)

    check("http: exchanges recorded", len(ex) > 5, f"{len(ex)} HTTP requests")
    errors = [e.describe() for e in ex if e.status >= 400 and e.method != "DELETE"]
    check("http: no HTTP errors", not errors, f"errors: {errors}" if errors else "all 2xx")
    posts = [e for e in ex if e.method == "POST"]
    sse = [e for e in posts if e.response_headers.get("content-type", "").startswith("text/event-stream")]
    json_ = [e for e in posts if e.response_headers.get("content-type", "").startswith("application/json")]
    check(
        "http: SSE for calls that stream, JSON otherwise",
        len(sse) >= 2 and len(json_) >= 5,
        f"{len(sse)} SSE responses, {len(json_)} JSON responses, {len(posts)} POSTs",
    )
    if mode == "legacy":
        first = posts[0] if posts else None
        sid = first.response_headers.get("mcp-session-id") if first else None
        check("http: initialize mints Mcp-Session-Id", bool(sid), f"session id of {len(sid or '')} chars")
        later = [e for e in ex[1:] if e.method in ("POST", "GET", "DELETE")]
        missing = [e.describe() for e in later if e.request_headers.get("mcp-session-id") != sid]
        check("http: later requests carry the session", not missing, f"without it: {missing}" if missing else f"{len(later)} requests")
        versions = {e.request_headers.get("mcp-protocol-version") for e in later}
        check("http: MCP-Protocol-Version 2025-11-25", versions == {"2025-11-25"}, f"sent {sorted(map(str, versions))}")
        deletes = [e for e in ex if e.method == "DELETE"]
        check(
            "http: closing DELETEs the session",
            len(deletes) == 1 and deletes[0].status == 200,
            f"DELETEs: {[d.describe() for d in deletes]}",
        )
    else:
        minted = [e.describe() for e in ex if "mcp-session-id" in e.response_headers]
        check("http: no session minted", not minted, f"minted by: {minted}" if minted else "none")
        others = [e.describe() for e in ex if e.method != "POST"]
        check("http: POST only", not others, f"other methods: {others}" if others else f"{len(posts)} POSTs")
        versions = {e.request_headers.get("mcp-protocol-version") for e in posts}
        check("http: MCP-Protocol-Version 2026-07-28", versions == {"2026-07-28"}, f"sent {sorted(map(str, versions))}")
        no_method = [e.describe() for e in posts if not e.request_headers.get("mcp-method")]
        check("http: Mcp-Method on every POST", not no_method, f"missing on {no_method}" if no_method else "present")


async def run(mode: str, url: str, step_timeout: float, overall_timeout: float) -> scenario.Runner:
    rec = scenario.Recorder()
    runner = scenario.Runner(step_timeout)
    wire = Wire()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        rec.logs.append(params)

    async def on_sampling(ctx: ClientRequestContext, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        rec.sampling_calls.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=scenario.SAMPLED_TEXT),
            model="interop-scripted-model",
            stop_reason="endTurn",
        )

    async def on_elicitation(ctx: ClientRequestContext, params: Any) -> types.ElicitResult:
        rec.elicitation_calls.append(params)
        return types.ElicitResult(
            action="accept",
            content={"username": scenario.ELICIT_USERNAME, "email": scenario.ELICIT_EMAIL},
        )

    async def on_list_roots(ctx: ClientRequestContext) -> types.ListRootsResult:
        rec.roots_calls += 1
        return types.ListRootsResult(roots=[types.Root(uri="file:///tmp/interop-root", name="interop")])

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            rec.notifications.append(f"transport exception: {message!r}")
        else:
            rec.notifications.append(getattr(getattr(message, "root", message), "method", type(message).__name__))

    connected = False

    async def body() -> None:
        nonlocal connected
        http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(step_timeout, read=step_timeout * 2),
            event_hooks={"request": [wire.on_request], "response": [wire.on_response]},
        )
        async with http:
            client = Client(
                streamable_http_client(url, http_client=http),
                mode=mode,
                sampling_callback=on_sampling,
                elicitation_callback=on_elicitation,
                list_roots_callback=on_list_roots,
                logging_callback=on_log,
                message_handler=on_message,
                log_level="info",
                read_timeout_seconds=step_timeout,
                client_info=types.Implementation(name="mcp-rs-interop-http", version="0.1.0"),
                cache=None,
            )
            with anyio.fail_after(overall_timeout):
                async with client:
                    connected = True
                    await scenario.run_checks(client, mode, rec, runner)

    try:
        await body()
    except BaseException as e:  # noqa: BLE001 - report whatever broke the connection
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = "".join(traceback.format_exception(e, limit=8)).rstrip().replace("\n", "\n    ")
        if isinstance(e, TimeoutError):
            detail = f"the whole run exceeded {overall_timeout:.0f} s"
        name = "session" if connected else "connect"
        runner.record(name, False, f"{url} (mode={mode}):\n    {detail}")
        return runner
    wire_checks(mode, wire, runner)
    return runner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("legacy", "auto"), required=True)
    parser.add_argument("--url", required=True, help="the MCP endpoint, e.g. http://127.0.0.1:3000/mcp")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-check timeout in seconds")
    parser.add_argument("--overall-timeout", type=float, default=100.0, help="whole-run timeout in seconds")
    args = parser.parse_args()

    print(f"python MCP client interop over HTTP: mode={args.mode} url={args.url}", flush=True)
    runner = anyio.run(run, args.mode, args.url, args.timeout, args.overall_timeout)
    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
