#!/usr/bin/env python3
"""Drive postgres-server over stdio with the official MCP Python SDK client.

Usage:
    python_client.py --mode legacy|auto [--timeout SECS] -- SERVER_CMD [ARGS...]

The server must be started with --allow-writes and DATABASE_URL pointing at a database loaded
with examples/tests/postgres/shop.sql. Every tool, resource, template, completion and prompt is
exercised, a few attacks are tried, and `execute` is confirmed (and declined) through the
client's elicitation callback — a server->client request with ``--mode legacy``, an
``input_required`` round trip with ``--mode auto`` (2026-07-28).

Every check prints one PASS/FAIL line; the last line is ``N passed, M failed``. Exit status 0
only when every check passed. Written against mcp==2.3.0 (provisioned by .ci/python-client).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.client import Client, ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

warnings.simplefilter("ignore")

TOOLS = ("query", "list_tables", "describe_table", "explain", "execute")
TEMPLATE = "postgres://{schema}/{table}/schema"


class CheckFailed(Exception):
    pass


def ensure(cond: Any, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


class Runner:
    def __init__(self, step_timeout: float) -> None:
        self.passed = 0
        self.failed = 0
        self.step_timeout = step_timeout

    async def check(self, name: str, fn: Callable[[], Awaitable[str | None]]) -> None:
        try:
            with anyio.fail_after(self.step_timeout):
                detail = await fn()
        except CheckFailed as e:
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except MCPError as e:
            self.failed += 1
            print(f"FAIL {name}: JSON-RPC error {e.code}: {e.message!r}", flush=True)
        except Exception as e:  # noqa: BLE001
            self.failed += 1
            tb = traceback.format_exc(limit=5).rstrip().replace("\n", "\n    ")
            print(f"FAIL {name}: {type(e).__name__}: {e}\n    {tb}", flush=True)
        else:
            self.passed += 1
            print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)


async def run(mode: str, command: list[str], step_timeout: float, overall_timeout: float) -> Runner:
    runner = Runner(step_timeout)
    # What the user answers when asked to confirm a write.
    answer: dict[str, Any] = {"action": "accept", "content": {"confirm": True}}
    asked: list[Any] = []

    async def on_elicitation(ctx: ClientRequestContext, params: Any) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action=answer["action"], content=answer.get("content"))

    env = dict(os.environ)
    server = StdioServerParameters(command=command[0], args=command[1:], env=env)
    client = Client(
        server,
        mode=mode,
        elicitation_callback=on_elicitation,
        read_timeout_seconds=step_timeout,
        client_info=types.Implementation(name="postgres-python-client", version="0.1.0"),
        cache=None,
    )
    tag = f"py-{mode}-{os.getpid()}-{time.time_ns()}"

    async def call(name: str, args: dict[str, Any]) -> types.CallToolResult:
        return await client.call_tool(name, args)

    async def ok(name: str, args: dict[str, Any]) -> dict[str, Any]:
        r = await call(name, args)
        ensure(not r.is_error, f"{name} failed: {text_of(r)}")
        ensure(isinstance(r.structured_content, dict), f"{name}: no structuredContent")
        return r.structured_content

    async def err(name: str, args: dict[str, Any]) -> str:
        r = await call(name, args)
        ensure(r.is_error, f"{name} {args} should have failed: {text_of(r)[:300]}")
        return text_of(r)

    async def count_notes(note: str) -> int:
        r = await ok("query", {"sql": "SELECT count(*) FROM shop.audit_log WHERE note = $1", "params": [note]})
        return int(r["rows"][0][0])

    async def checks() -> None:
        async def connected() -> str:
            want = "2025-11-25" if mode == "legacy" else "2026-07-28"
            ensure(client.protocol_version == want, f"negotiated {client.protocol_version}, expected {want}")
            return f"protocolVersion={client.protocol_version}"

        await runner.check("connect", connected)

        async def tools() -> str:
            listed = (await client.list_tools()).tools
            names = [t.name for t in listed]
            ensure(tuple(names) == TOOLS, f"tools are {names}")
            by = {t.name: t for t in listed}
            ensure(by["execute"].annotations and by["execute"].annotations.destructive_hint, "execute is not destructive")
            ensure(by["query"].annotations and by["query"].annotations.read_only_hint, "query is not read-only")
            ensure(all(t.output_schema for t in listed), "a tool lacks an outputSchema")
            return ", ".join(names)

        await runner.check("tools/list", tools)

        async def query() -> str:
            r = await ok("query", {"sql": "SELECT p.id, p.price, o.status FROM shop.products p JOIN shop.order_lines l ON l.product_id = p.id JOIN shop.orders o ON o.id = l.order_id WHERE o.id = $1 ORDER BY l.line_no", "params": [2]})
            ensure([c["type"] for c in r["columns"]] == ["int4", "numeric", "order_status"], f"columns {r['columns']}")
            ensure(r["rows"][0] == [16, "52.00", "shipped"], f"rows {r['rows']}")
            return f"{r['rowCount']} rows"

        await runner.check("tools/call query", query)

        async def paging() -> str:
            sql = "SELECT id FROM shop.orders ORDER BY id"
            ids: list[int] = []
            cursor = None
            for _ in range(10):
                args: dict[str, Any] = {"sql": sql, "page_size": 64}
                if cursor:
                    args["cursor"] = cursor
                r = await ok("query", args)
                ids += [row[0] for row in r["rows"]]
                cursor = r.get("nextCursor")
                if not cursor:
                    break
            ensure(ids == list(range(1, 201)), f"paged ids wrong: {len(ids)} ids")
            return "200 rows in pages of 64"

        await runner.check("tools/call query (pagination)", paging)

        async def catalog() -> str:
            t = await ok("list_tables", {"schema": "shop"})
            names = {x["name"] for x in t["tables"]}
            ensure({"customers", "products", "orders", "order_lines"} <= names, f"tables {names}")
            d = await ok("describe_table", {"schema": "shop", "table": "order_lines"})
            ensure([c["name"] for c in d["columns"]][:2] == ["order_id", "line_no"], f"columns {d['columns']}")
            ensure(any(c["type"] == "foreign key" for c in d["constraints"]), "no foreign key")
            ensure(any(i["primary"] for i in d["indexes"]), "no primary key index")
            e = await ok("explain", {"sql": "SELECT * FROM shop.orders WHERE customer_id = 7"})
            ensure("Plan" in e["plan"][0], f"plan {e}")
            return f"{len(names)} tables; plan root {e['plan'][0]['Plan']['Node Type']}"

        await runner.check("list_tables, describe_table, explain", catalog)

        async def resources() -> str:
            rs = (await client.list_resources()).resources
            ensure([r.uri for r in rs] == ["postgres://tables"], f"resources {[r.uri for r in rs]}")
            ts = (await client.list_resource_templates()).resource_templates
            ensure([t.uri_template for t in ts] == [TEMPLATE], f"templates {ts}")
            all_tables = json.loads((await client.read_resource("postgres://tables")).contents[0].text)
            ensure(any(t["name"] == "customers" for t in all_tables["tables"]), "customers missing")
            one = (await client.read_resource("postgres://shop/products/schema")).contents[0]
            ensure(one.mime_type == "application/json", f"mimeType {one.mime_type}")
            ensure(json.loads(one.text)["name"] == "products", "wrong table")
            return "postgres://tables and postgres://shop/products/schema"

        await runner.check("resources, templates, resources/read", resources)

        async def completions() -> str:
            ref = types.ResourceTemplateReference(uri=TEMPLATE)
            s = await client.complete(ref, {"name": "schema", "value": "sh"})
            ensure(s.completion.values == ["shop"], f"schema completion {s.completion.values}")
            t = await client.complete(ref, {"name": "table", "value": "ord"}, {"schema": "shop"})
            ensure(t.completion.values == ["order_lines", "order_totals", "orders"], f"table completion {t.completion.values}")
            p = await client.complete(types.PromptReference(name="explore_table"), {"name": "table", "value": "prod"})
            ensure(p.completion.values == ["products"], f"prompt completion {p.completion.values}")
            return "schema, table, prompt argument"

        await runner.check("completion/complete", completions)

        async def prompts() -> str:
            names = [p.name for p in (await client.list_prompts()).prompts]
            ensure(names == ["explore_table", "write_query"], f"prompts {names}")
            ex = await client.get_prompt("explore_table", {"schema": "shop", "table": "customers"})
            first = ex.messages[0].content
            ensure(isinstance(first, types.EmbeddedResource), f"first message is {type(first).__name__}")
            ensure(str(first.resource.uri) == "postgres://shop/customers/schema", f"uri {first.resource.uri}")
            wq = await client.get_prompt("write_query", {"question": "Top 3 products by revenue?", "schema": "shop"})
            text = wq.messages[0].content.text
            ensure("Top 3 products by revenue?" in text and "order_lines(" in text, text[:200])
            return "explore_table, write_query"

        await runner.check("prompts/list, prompts/get", prompts)

        async def attacks() -> str:
            e1 = await err("query", {"sql": "SELECT 1; COMMIT; DROP TABLE shop.orders"})
            ensure("multiple commands" in e1, e1)
            e2 = await err("query", {"sql": "WITH d AS (DELETE FROM shop.order_lines RETURNING *) SELECT count(*) FROM d"})
            ensure("read-only" in e2, e2)
            e3 = await err("query", {"sql": "SELECT pg_read_file('/etc/passwd')"})
            ensure("permission denied" in e3, e3)
            e4 = await err("query", {"sql": "COPY (SELECT 1) TO PROGRAM 'id'"})
            ensure("permission denied" in e4 or "pg_execute_server_program" in e4, e4)
            r = await ok("query", {"sql": "SELECT (SELECT count(*) FROM shop.orders), (SELECT count(*) FROM shop.order_lines)"})
            ensure(r["rows"][0] == [200, 600], f"data changed: {r['rows']}")
            return "refused, data intact"

        await runner.check("attacks", attacks)

        async def capped() -> str:
            r = await ok("query", {"sql": "SELECT generate_series(1, 10000000) AS n", "page_size": 1000000})
            ensure(r["rowCount"] <= 1000 and r["hasMore"] and r.get("nextCursor"), f"not capped: {r['rowCount']}")
            return f"{r['rowCount']} rows, hasMore"

        await runner.check("10M rows capped", capped)

        async def dry_run() -> str:
            before = len(asked)
            r = await ok("execute", {"sql": "UPDATE shop.products SET stock = stock + 1", "dry_run": True, "idempotency_key": f"{tag}-dry"})
            ensure(r["status"] == "dry_run" and r["rowsAffected"] == 20, f"{r}")
            ensure(len(asked) == before, "a dry run asked the user")
            s = await ok("query", {"sql": "SELECT sum(stock) FROM shop.products"})
            ensure(s["rows"][0][0] == 2100, f"stock changed: {s['rows']}")
            return "20 rows, rolled back"

        await runner.check("execute dry_run", dry_run)

        async def commit_once() -> str:
            note = f"{tag}-commit"
            args = {"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": f"{tag}-k1"}
            answer.update({"action": "accept", "content": {"confirm": True}})
            before = len(asked)
            r = await ok("execute", args)
            ensure(r["status"] == "committed", f"{r}")
            ensure(len(asked) == before + 1, f"asked {len(asked) - before} times")
            msg = getattr(asked[-1], "message", "")
            ensure("INSERT INTO shop.audit_log" in msg and "1 row(s)" in msg, f"confirmation message: {msg!r}")
            r2 = await ok("execute", args)
            ensure(r2["status"] == "already_committed", f"retry: {r2}")
            ensure(len(asked) == before + 1, "the retry asked again")
            n = await count_notes(note)
            ensure(n == 1, f"{n} rows written")
            return "confirmed once, retry replayed"

        await runner.check("execute (confirmed, idempotent)", commit_once)

        async def declined() -> str:
            note = f"{tag}-declined"
            answer.update({"action": "decline", "content": None})
            r = await ok("execute", {"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": f"{tag}-k2"})
            ensure(r["status"] == "declined", f"{r}")
            n = await count_notes(note)
            ensure(n == 0, f"{n} rows written")
            return "nothing written"

        await runner.check("execute (declined)", declined)

    try:
        with anyio.fail_after(overall_timeout):
            async with client:
                await checks()
    except BaseException as e:  # noqa: BLE001 - report whatever broke the connection
        detail = "".join(traceback.format_exception(e, limit=6)).rstrip().replace("\n", "\n    ")
        runner.failed += 1
        print(f"FAIL client (mode={mode}): {detail}", flush=True)
    return runner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("legacy", "auto"), required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="per-check timeout in seconds")
    parser.add_argument("--overall-timeout", type=float, default=120.0, help="whole-run timeout in seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- SERVER_CMD [ARGS...]")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("missing the server command (after --)")
    print(f"postgres-server with the Python MCP client: mode={args.mode}", flush=True)
    runner = anyio.run(run, args.mode, command, args.timeout, args.overall_timeout)
    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
