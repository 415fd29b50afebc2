#!/usr/bin/env python3
"""Interop check: drive an MCP server over stdio with the official Python SDK client.

Usage:
    python_client.py --mode legacy|auto [--timeout SECS] -- SERVER_CMD [ARGS...]

``--mode legacy`` connects with the ``initialize`` handshake (2025-11-25);
``--mode auto`` probes ``server/discover`` and must end up on the stateless
2026-07-28 revision (a dual-era server must not push the client back to the
handshake).

Every check prints one ``PASS``/``FAIL`` line; the last line is a
``N passed, M failed`` summary. The exit status is 0 only when every check
passed (1 on any failure, 2 on a usage error).

Written against mcp==2.3.0 (see .ci/python-client, which provisions it).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp.client import Client, ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

# The deprecated-feature warnings (logging/setLevel, ping, ...) are expected here.
warnings.simplefilter("ignore")

MODERN_VERSION = "2026-07-28"
LEGACY_VERSION = "2025-11-25"
INVALID_PARAMS = -32602

# Scripted answers the client callbacks give; the tool results must echo them.
SAMPLED_TEXT = "interop-sampled-reply-7f3a"
SAMPLING_PROMPT = "interop sampling prompt 51c2"
ELICIT_MESSAGE = "interop elicitation message 9d4e"
ELICIT_USERNAME = "interop-user-2b8c"
ELICIT_EMAIL = "interop-2b8c@example.com"
PROMPT_ARG1 = "alpha-arg-4411"
PROMPT_ARG2 = "beta-arg-8822"

EXPECTED_TOOLS = (
    "test_simple_text",
    "test_image_content",
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_error_handling",
    "test_sampling",
    "test_elicitation",
)


class CheckFailed(Exception):
    """A check's assertion did not hold."""


def ensure(cond: Any, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


@dataclass
class Recorder:
    """What the client callbacks observed."""

    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    sampling_calls: list[types.CreateMessageRequestParams] = field(default_factory=list)
    elicitation_calls: list[Any] = field(default_factory=list)
    roots_calls: int = 0
    notifications: list[str] = field(default_factory=list)


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def describe(result: Any) -> str:
    try:
        dumped = result.model_dump_json(by_alias=True, exclude_none=True)
    except Exception:  # not a pydantic model
        dumped = repr(result)
    return dumped if len(dumped) <= 600 else dumped[:600] + "...(truncated)"


async def wait_until(pred: Callable[[], bool], timeout: float) -> bool:
    """Callbacks run in spawned tasks, so they may land just after the response."""
    with anyio.move_on_after(timeout):
        while not pred():
            await anyio.sleep(0.02)
        return True
    return pred()


class Runner:
    def __init__(self, step_timeout: float) -> None:
        self.passed = 0
        self.failed = 0
        self.step_timeout = step_timeout

    def record(self, name: str, ok: bool, detail: str) -> None:
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)

    async def check(self, name: str, fn: Callable[[], Awaitable[str | None]]) -> None:
        try:
            with anyio.fail_after(self.step_timeout):
                detail = await fn()
        except CheckFailed as e:
            self.record(name, False, str(e))
        except TimeoutError:
            self.record(name, False, f"no answer within {self.step_timeout:.0f} s")
        except MCPError as e:
            self.record(name, False, f"JSON-RPC error {e.code}: {e.message!r} data={e.data!r}")
        except Exception as e:  # any other client-side failure (validation, transport, ...)
            tb = traceback.format_exc(limit=6).rstrip().replace("\n", "\n    ")
            self.record(name, False, f"{type(e).__name__}: {e}\n    {tb}")
        else:
            self.record(name, True, detail or "")


async def run(mode: str, command: list[str], step_timeout: float, overall_timeout: float) -> Runner:
    rec = Recorder()
    runner = Runner(step_timeout)

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        rec.logs.append(params)

    async def on_sampling(
        ctx: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        rec.sampling_calls.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=SAMPLED_TEXT),
            model="interop-scripted-model",
            stop_reason="endTurn",
        )

    async def on_elicitation(ctx: ClientRequestContext, params: Any) -> types.ElicitResult:
        rec.elicitation_calls.append(params)
        return types.ElicitResult(
            action="accept",
            content={"username": ELICIT_USERNAME, "email": ELICIT_EMAIL},
        )

    async def on_list_roots(ctx: ClientRequestContext) -> types.ListRootsResult:
        rec.roots_calls += 1
        return types.ListRootsResult(roots=[types.Root(uri="file:///tmp/interop-root", name="interop")])

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            rec.notifications.append(f"transport exception: {message!r}")
        else:
            rec.notifications.append(getattr(getattr(message, "root", message), "method", type(message).__name__))

    # The SDK passes only a small allow-list of variables by default; hand the
    # server our whole environment (RUST_LOG, RUST_BACKTRACE, ...).
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    client = Client(
        server,
        mode=mode,
        sampling_callback=on_sampling,
        elicitation_callback=on_elicitation,
        list_roots_callback=on_list_roots,
        logging_callback=on_log,
        message_handler=on_message,
        # 2026-07-28: stamps io.modelcontextprotocol/logLevel on every request
        # (no effect on a handshake connection, where logging/setLevel rules).
        log_level="info",
        read_timeout_seconds=step_timeout,
        client_info=types.Implementation(name="mcp-rs-interop", version="0.1.0"),
        cache=None,
    )

    connected = False

    async def body() -> None:
        nonlocal connected
        with anyio.fail_after(overall_timeout):
            async with client:
                connected = True
                await run_checks(client, mode, rec, runner)

    try:
        await body()
    except BaseException as e:  # noqa: BLE001 - report whatever broke the connection
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = "".join(traceback.format_exception(e, limit=8)).rstrip().replace("\n", "\n    ")
        if isinstance(e, TimeoutError):
            detail = f"the whole run exceeded {overall_timeout:.0f} s"
        if connected:
            runner.record("session", False, f"the connection failed mid-run:\n    {detail}")
        else:
            runner.record("connect", False, f"could not connect to {command!r} (mode={mode}):\n    {detail}")
    return runner


async def run_checks(client: Client, mode: str, rec: Recorder, runner: Runner) -> None:
    # ---- connection / era ------------------------------------------------
    async def connected() -> str:
        version = client.protocol_version
        if mode == "legacy":
            ensure(
                version == LEGACY_VERSION,
                f"initialize negotiated protocolVersion {version!r}, expected {LEGACY_VERSION!r}",
            )
            ensure(client.session.initialize_result is not None, "no InitializeResult recorded")
        else:
            ensure(
                version == MODERN_VERSION,
                f"mode=auto negotiated {version!r}, expected {MODERN_VERSION!r}: the server/discover probe "
                "failed or was rejected, so the client fell back to the initialize handshake",
            )
            ensure(client.session.discover_result is not None, "no DiscoverResult recorded")
        info = client.server_info
        return f"protocolVersion={version} serverInfo={info.name if info else None}"

    await runner.check("connect", connected)

    if mode == "legacy":

        async def ping() -> str:
            await client.send_ping()
            return "{}"

        await runner.check("ping", ping)

    # ---- tools/list --------------------------------------------------------
    async def list_tools() -> str:
        names: list[str] = []
        cursor: str | None = None
        for _ in range(50):
            page = await client.list_tools(cursor=cursor)
            for tool in page.tools:
                ensure(tool.description, f"tool {tool.name!r} has no description")
                ensure(isinstance(tool.input_schema, dict), f"tool {tool.name!r} has no inputSchema object")
            names += [t.name for t in page.tools]
            cursor = page.next_cursor
            if cursor is None:
                break
        missing = [n for n in EXPECTED_TOOLS if n not in names]
        ensure(not missing, f"tools/list lacks {missing}; got {names}")
        return f"{len(names)} tools"

    await runner.check("tools/list", list_tools)

    # ---- plain text ---------------------------------------------------------
    async def simple_text() -> str:
        result = await client.call_tool("test_simple_text", {})
        ensure(not result.is_error, f"isError is true: {describe(result)}")
        ensure(result.content, f"empty content: {describe(result)}")
        first = result.content[0]
        ensure(isinstance(first, types.TextContent), f"first block is not text: {describe(result)}")
        ensure(first.text.strip(), "text block is empty")
        return repr(first.text[:80])

    await runner.check("tools/call test_simple_text", simple_text)

    # ---- progress -------------------------------------------------------------
    async def progress() -> str:
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            seen.append((value, total, message))

        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        ensure(not result.is_error, f"isError is true: {describe(result)}")
        await wait_until(lambda: len(seen) >= 3, 2.0)
        values = [v for v, _, _ in seen]
        ensure(len(seen) >= 3, f"expected >= 3 progress notifications, got {len(seen)}: {seen}")
        ensure(
            all(b > a for a, b in zip(values, values[1:])),
            f"progress values are not strictly increasing: {values}",
        )
        totals = {t for _, t, _ in seen}
        ensure(totals == {100.0}, f"expected total=100 on every notification, got {sorted(map(str, totals))}")
        ensure(values[-1] == 100.0, f"last progress is {values[-1]}, expected 100")
        return f"values={values}"

    await runner.check("tools/call test_tool_with_progress (progress callback)", progress)

    # ---- logging ------------------------------------------------------------
    if mode == "legacy":

        async def set_level() -> str:
            await client.set_logging_level("info")
            return "logging/setLevel info -> {}"

        await runner.check("logging/setLevel", set_level)

    async def logging_tool() -> str:
        before = len(rec.logs)
        result = await client.call_tool("test_tool_with_logging", {})
        ensure(not result.is_error, f"isError is true: {describe(result)}")
        await wait_until(lambda: len(rec.logs) - before >= 3, 2.0)
        got = rec.logs[before:]
        ensure(
            len(got) >= 3,
            f"expected >= 3 notifications/message at the logging callback, got {len(got)}"
            + (" (client sent io.modelcontextprotocol/logLevel=info in _meta)" if mode == "auto" else ""),
        )
        levels = [p.level for p in got]
        ensure(all(level == "info" for level in levels), f"expected level 'info', got {levels}")
        return f"{len(got)} log messages: {[str(p.data)[:40] for p in got]}"

    await runner.check("tools/call test_tool_with_logging (logging callback)", logging_tool)

    # ---- error result -------------------------------------------------------
    async def error_handling() -> str:
        result = await client.call_tool("test_error_handling", {})
        ensure(result.is_error is True, f"expected isError=true, got {describe(result)}")
        text = text_of(result)
        ensure(
            "This tool intentionally returns an error for testing" in text,
            f"error text mismatch: {text!r}",
        )
        return repr(text[:80])

    await runner.check("tools/call test_error_handling (isError)", error_handling)

    # ---- image content ------------------------------------------------------
    async def image() -> str:
        result = await client.call_tool("test_image_content", {})
        ensure(not result.is_error, f"isError is true: {describe(result)}")
        images = [b for b in result.content if isinstance(b, types.ImageContent)]
        ensure(images, f"no image block in {describe(result)}")
        img = images[0]
        ensure(img.mime_type == "image/png", f"mimeType is {img.mime_type!r}, expected 'image/png'")
        try:
            raw = base64.b64decode(img.data, validate=True)
        except Exception as e:
            raise CheckFailed(f"image data is not valid base64: {e}") from None
        ensure(raw.startswith(b"\x89PNG\r\n\x1a\n"), f"image data is not a PNG (starts {raw[:8]!r})")
        return f"{len(raw)} bytes of PNG"

    await runner.check("tools/call test_image_content", image)

    # ---- sampling (server -> client) -----------------------------------------
    async def sampling() -> str:
        before = len(rec.sampling_calls)
        result = await client.call_tool("test_sampling", {"prompt": SAMPLING_PROMPT})
        ensure(
            len(rec.sampling_calls) > before,
            f"the sampling callback was never invoked; tool result: {describe(result)}",
        )
        params = rec.sampling_calls[-1]
        sent = " ".join(
            block.text
            for m in params.messages
            for block in m.content_as_list
            if isinstance(block, types.TextContent)
        )
        ensure(SAMPLING_PROMPT in sent, f"sampling request does not carry the prompt; messages text: {sent!r}")
        ensure(not result.is_error, f"isError is true: {describe(result)}")
        text = text_of(result)
        ensure(
            f"LLM response: {SAMPLED_TEXT}" in text,
            f"tool result does not reflect the sampled reply; expected 'LLM response: {SAMPLED_TEXT}', got {text!r}",
        )
        return f"callback fired {len(rec.sampling_calls) - before}x (maxTokens={params.max_tokens}); {text!r}"

    await runner.check("tools/call test_sampling (sampling callback)", sampling)

    # ---- elicitation (server -> client) ---------------------------------------
    async def elicitation() -> str:
        before = len(rec.elicitation_calls)
        result = await client.call_tool("test_elicitation", {"message": ELICIT_MESSAGE})
        ensure(
            len(rec.elicitation_calls) > before,
            f"the elicitation callback was never invoked; tool result: {describe(result)}",
        )
        params = rec.elicitation_calls[-1]
        schema = getattr(params, "requested_schema", None) or {}
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        ensure(
            "username" in props and "email" in props,
            f"requestedSchema lacks username/email properties: {schema!r}",
        )
        ensure(not result.is_error, f"isError is true: {describe(result)}")
        text = text_of(result)
        ensure(
            ELICIT_USERNAME in text or "accept" in text,
            f"tool result reflects neither the answer ({ELICIT_USERNAME!r}) nor the action 'accept': {text!r}",
        )
        return f"callback fired {len(rec.elicitation_calls) - before}x; {text[:120]!r}"

    await runner.check("tools/call test_elicitation (elicitation callback)", elicitation)

    # ---- unknown tool ---------------------------------------------------------
    async def unknown_tool() -> str:
        try:
            result = await client.call_tool("no_such_tool_interop", {})
        except MCPError as e:
            ensure(e.code == INVALID_PARAMS, f"expected JSON-RPC error {INVALID_PARAMS}, got {e.code} ({e.message!r})")
            return f"error {e.code}: {e.message!r}"
        raise CheckFailed(f"expected JSON-RPC error {INVALID_PARAMS}, got a result: {describe(result)}")

    await runner.check("tools/call unknown tool -> -32602", unknown_tool)

    # ---- resources ------------------------------------------------------------
    async def static_text() -> str:
        result = await client.read_resource("test://static-text")
        ensure(result.contents, "resources/read returned no contents")
        first = result.contents[0]
        ensure(isinstance(first, types.TextResourceContents), f"expected text contents: {describe(result)}")
        ensure(str(first.uri) == "test://static-text", f"contents uri is {first.uri!r}")
        ensure(first.text, "text is empty")
        return repr(first.text[:80])

    await runner.check("resources/read test://static-text", static_text)

    async def template() -> str:
        result = await client.read_resource("test://template/42/data")
        ensure(result.contents, "resources/read returned no contents")
        first = result.contents[0]
        ensure(isinstance(first, types.TextResourceContents), f"expected text contents: {describe(result)}")
        ensure("42" in first.text, f"text does not contain the id 42: {first.text!r}")
        return repr(first.text[:80])

    await runner.check("resources/read test://template/42/data", template)

    # ---- prompts --------------------------------------------------------------
    async def prompt() -> str:
        result = await client.get_prompt("test_prompt_with_arguments", {"arg1": PROMPT_ARG1, "arg2": PROMPT_ARG2})
        ensure(result.messages, "prompts/get returned no messages")
        text = " ".join(
            m.content.text for m in result.messages if isinstance(m.content, types.TextContent)
        )
        ensure(PROMPT_ARG1 in text, f"arg1 value {PROMPT_ARG1!r} missing from {text!r}")
        ensure(PROMPT_ARG2 in text, f"arg2 value {PROMPT_ARG2!r} missing from {text!r}")
        return repr(text[:100])

    await runner.check("prompts/get test_prompt_with_arguments", prompt)

    async def completion() -> str:
        result = await client.complete(
            types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
            {"name": "arg1", "value": ""},
        )
        values = result.completion.values
        ensure(isinstance(values, list), f"completion.values is not a list: {values!r}")
        ensure(all(isinstance(v, str) for v in values), f"completion.values has non-strings: {values!r}")
        ensure(len(values) <= 100, f"completion.values has {len(values)} (> 100) entries")
        return f"values={values[:10]}"

    await runner.check("completion/complete ref/prompt test_prompt_with_arguments arg1", completion)

    # ---- framing ------------------------------------------------------------
    async def clean_stream() -> str:
        faults = [n for n in rec.notifications if n.startswith("transport exception")]
        ensure(not faults, f"the client saw unparsable messages on the server's stdout: {faults[:3]}")
        return f"{len(rec.notifications)} notifications, no transport faults"

    await runner.check("stdout carried only valid JSON-RPC", clean_stream)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("legacy", "auto"), required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="per-check timeout in seconds")
    parser.add_argument("--overall-timeout", type=float, default=100.0, help="whole-run timeout in seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- SERVER_CMD [ARGS...]")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("missing the server command (after --)")

    print(f"python MCP client interop: mode={args.mode} server={command!r}", flush=True)
    runner = anyio.run(run, args.mode, command, args.timeout, args.overall_timeout)
    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
