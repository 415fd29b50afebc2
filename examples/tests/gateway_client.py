#!/usr/bin/env python3
"""Drive the MCP gateway with the official Python SDK client (mcp==2.3.0).

Usage:
    gateway_client.py --mode legacy|auto -- GATEWAY_CMD [ARGS...]

The gateway fronts `hello` (stdio child, prefix `hello`), `postgres-server` (HTTP, prefix
`db`, URIs `db+postgres://...`) and `conformance-server` (stdio child, prefix `conf`), and runs
as the role `analyst`, which may not call `hello.add`. Every check prints PASS/FAIL; the last
lines are `CALLS n` (tools/call requests made, for the audit check) and `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from typing import Any

import anyio
import mcp_types as types
from mcp.client import Client, ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

warnings.simplefilter("ignore")

FORBIDDEN = -31403
USERNAME = "gateway-user-5e1f"
EMAIL = "gw-5e1f@example.com"


class Failed(Exception):
    pass


def ensure(cond: Any, msg: str) -> None:
    if not cond:
        raise Failed(msg)


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


async def main_async(mode: str, command: list[str], step: float) -> tuple[int, int, int]:
    passed = failed = calls = 0
    elicited: list[Any] = []

    async def on_elicitation(ctx: ClientRequestContext, params: Any) -> types.ElicitResult:
        elicited.append(params)
        return types.ElicitResult(action="accept", content={"username": USERNAME, "email": EMAIL})

    async def on_sampling(ctx: ClientRequestContext, params: Any) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sampled"), model="m"
        )

    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    client = Client(
        server,
        mode=mode,
        elicitation_callback=on_elicitation,
        sampling_callback=on_sampling,
        log_level="info",
        read_timeout_seconds=step,
        client_info=types.Implementation(name="gateway-interop", version="0.1.0"),
        cache=None,
    )

    async def check(name: str, fn) -> None:
        nonlocal passed, failed
        try:
            with anyio.fail_after(step):
                detail = await fn()
        except Failed as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except MCPError as e:
            failed += 1
            print(f"FAIL {name}: JSON-RPC error {e.code}: {e.message!r}", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            tb = traceback.format_exc(limit=5).replace("\n", "\n    ")
            print(f"FAIL {name}: {type(e).__name__}: {e}\n    {tb}", flush=True)
        else:
            passed += 1
            print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)

    async def call(name: str, args: dict[str, Any], **kw: Any) -> types.CallToolResult:
        nonlocal calls
        calls += 1
        return await client.call_tool(name, args, **kw)

    async with client:

        async def catalog() -> str:
            names: list[str] = []
            cursor = None
            for _ in range(20):
                page = await client.list_tools(cursor=cursor)
                names += [t.name for t in page.tools]
                cursor = page.next_cursor
                if cursor is None:
                    break
            for want in ("hello.echo", "db.query", "db.list_tables", "conf.test_tool_with_progress", "conf.test_elicitation"):
                ensure(want in names, f"{want} missing from the merged catalogue: {names}")
            ensure("hello.add" not in names, f"hello.add is listed for a role that may not call it: {names}")
            return f"{len(names)} tools"

        await check("tools/list (merged catalogue)", catalog)

        async def echo() -> str:
            r = await call("hello.echo", {"text": "through-the-gateway"})
            ensure(not r.is_error, f"isError: {text_of(r)}")
            ensure(text_of(r) == "through-the-gateway", f"got {text_of(r)!r}")
            return "stdio backend answers"

        await check("tools/call hello.echo (stdio backend)", echo)

        async def query() -> str:
            r = await call("db.query", {"sql": "select count(*) as n from shop.customers"})
            ensure(not r.is_error, f"isError: {text_of(r)}")
            ensure("50" in text_of(r) or "50" in str(r.structured_content), f"no 50 in {text_of(r)[:300]!r}")
            return "HTTP backend answers"

        await check("tools/call db.query (HTTP backend)", query)

        async def tables() -> str:
            r = await call("db.list_tables", {})
            ensure(not r.is_error, f"isError: {text_of(r)}")
            ensure("customers" in text_of(r) or "customers" in str(r.structured_content), "no customers table")
            return ""

        await check("tools/call db.list_tables", tables)

        async def resource() -> str:
            r = await client.read_resource("db+postgres://tables")
            ensure(r.contents, "no contents")
            first = r.contents[0]
            ensure(str(first.uri) == "db+postgres://tables", f"uri is {first.uri!r}")
            ensure("customers" in getattr(first, "text", ""), "no customers in the resource")
            return ""

        await check("resources/read db+postgres://tables (scheme prefix)", resource)

        async def progress() -> str:
            seen: list[float] = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                seen.append(value)

            r = await call("conf.test_tool_with_progress", {}, progress_callback=on_progress)
            ensure(not r.is_error, f"isError: {text_of(r)}")
            with anyio.move_on_after(2):
                while len(seen) < 3:
                    await anyio.sleep(0.02)
            ensure(len(seen) >= 3, f"expected 3 progress notifications through the gateway, got {seen}")
            return f"values={seen}"

        await check("progress passes through", progress)

        async def elicitation() -> str:
            before = len(elicited)
            r = await call("conf.test_elicitation", {"message": "through the gateway?"})
            ensure(len(elicited) > before, f"the elicitation callback never fired: {text_of(r)!r}")
            ensure(not r.is_error, f"isError: {text_of(r)}")
            ensure(USERNAME in text_of(r) or "accept" in text_of(r), f"answer not reflected: {text_of(r)!r}")
            return text_of(r)[:80]

        await check("elicitation passes through", elicitation)

        async def refused() -> str:
            try:
                r = await call("hello.add", {"a": 1, "b": 2})
            except MCPError as e:
                ensure(e.code == FORBIDDEN, f"expected {FORBIDDEN}, got {e.code} {e.message!r}")
                return f"refused: {e.message[:80]!r}"
            raise Failed(f"hello.add was not refused: {text_of(r)!r}")

        await check("a role without permission is refused", refused)

    return passed, failed, calls


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("legacy", "auto"), required=True)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    try:
        passed, failed, calls = anyio.run(main_async, a.mode, command, a.timeout)
    except BaseException as e:  # noqa: BLE001
        print(f"FAIL session: {''.join(traceback.format_exception(e, limit=6))}", flush=True)
        passed, failed, calls = 0, 1, -1
    print(f"CALLS {calls}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
