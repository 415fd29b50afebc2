#!/usr/bin/env python3
"""Interop check: handshake-era (2025-11-25) tasks with the official Python SDK client.

Usage:
    python_tasks.py [--timeout SECS] [--overall-timeout SECS] -- SERVER_CMD [ARGS...]

Connects with the ``initialize`` handshake (``mode="legacy"``) to a server over stdio and
drives the 2025-11-25 task methods with the SDK's own request and result types
(``mcp_types``): a task-augmented ``tools/call`` (``CallToolRequestParams.task``), then
``tasks/get`` (``GetTaskRequest`` -> ``GetTaskResult``), ``tasks/result``
(``GetTaskPayloadRequest``, validated as the original ``CallToolResult``), ``tasks/list``
(``ListTasksRequest`` -> ``ListTasksResult``) and ``tasks/cancel`` (``CancelTaskRequest`` ->
``CancelTaskResult``). Every server answer must validate against those types.

mcp==2.3.0 has no task helper of its own, and its ``send_request`` validates a 2025-11-25
``tools/call`` result as ``CallToolResult`` only, so it refuses the ``CreateTaskResult`` a
task-augmented call returns. The task is therefore created through the session's own
dispatcher (the same connection, the same JSON-RPC framing) and validated as
``CreateTaskResult``; every other request goes through ``ClientSession.send_request``.

Every check prints one ``PASS``/``FAIL`` line; the last line is a ``N passed, M failed``
summary. The exit status is 0 only when every check passed.

Written against mcp==2.3.0 (see .ci/python-client, which provisions it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

warnings.simplefilter("ignore")

LEGACY_VERSION = "2025-11-25"
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
RELATED_TASK = "io.modelcontextprotocol/related-task"
TERMINAL = ("completed", "failed", "cancelled")


class CheckFailed(Exception):
    """A check's assertion did not hold."""


def ensure(cond: Any, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def text_of(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


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
        except Exception as e:  # validation, transport, ...
            tb = traceback.format_exc(limit=6).rstrip().replace("\n", "\n    ")
            self.record(name, False, f"{type(e).__name__}: {e}\n    {tb}")
        else:
            self.record(name, True, detail or "")


class Tasks:
    """The 2025-11-25 task methods over one handshake-era client session."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.session = client.session

    async def create(self, tool: str, arguments: dict[str, Any], ttl: int | None = None) -> types.Task:
        params = types.CallToolRequestParams(name=tool, arguments=arguments, task=types.TaskMetadata(ttl=ttl))
        request = types.CallToolRequest(params=params)
        data = request.model_dump(by_alias=True, mode="json", exclude_none=True)
        # See the module docstring: the SDK's surface check knows no CreateTaskResult.
        raw = await self.session._dispatcher.send_raw_request(data["method"], data.get("params"), {})
        return types.CreateTaskResult.model_validate(raw, by_name=False).task

    async def get(self, task_id: str) -> types.GetTaskResult:
        return await self.session.send_request(
            types.GetTaskRequest(params=types.GetTaskRequestParams(task_id=task_id)), types.GetTaskResult
        )

    async def result(self, task_id: str) -> types.CallToolResult:
        return await self.session.send_request(
            types.GetTaskPayloadRequest(params=types.GetTaskPayloadRequestParams(task_id=task_id)),
            types.CallToolResult,
        )

    async def list(self) -> types.ListTasksResult:
        return await self.session.send_request(types.ListTasksRequest(), types.ListTasksResult)

    async def cancel(self, task_id: str) -> types.CancelTaskResult:
        return await self.session.send_request(
            types.CancelTaskRequest(params=types.CancelTaskRequestParams(task_id=task_id)), types.CancelTaskResult
        )

    async def poll(self, task_id: str, limit: float) -> tuple[types.GetTaskResult, list[str]]:
        """Polls tasks/get at the suggested interval until the task is terminal."""
        seen: list[str] = []
        deadline = time.monotonic() + limit
        while True:
            task = await self.get(task_id)
            if not seen or seen[-1] != task.status:
                seen.append(task.status)
            if task.status in TERMINAL:
                return task, seen
            ensure(time.monotonic() < deadline, f"task {task_id} still {task.status} after {limit} s")
            interval = (task.poll_interval or 500) / 1000
            await anyio.sleep(min(max(interval, 0.05), 1.0))

    async def journal(self, label: str) -> str:
        result = await self.client.call_tool("slow_compute_journal", {"label": label})
        return text_of(result).removeprefix(f"{label}: ")


def running_step(entry: str) -> int:
    """The step a `running: step N/M` journal entry reached; 0 for anything else."""
    if not entry.startswith("running: step "):
        return 0
    return int(entry.removeprefix("running: step ").split("/")[0])


async def expect_error(code: int, coro: Awaitable[Any]) -> str:
    try:
        value = await coro
    except MCPError as e:
        ensure(e.code == code, f"expected error {code}, got {e.code}: {e.message}")
        return e.message
    raise CheckFailed(f"expected error {code}, got a result: {value!r}")


async def run(command: list[str], step_timeout: float, overall_timeout: float) -> Runner:
    runner = Runner(step_timeout)
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    client = Client(
        server,
        mode="legacy",
        read_timeout_seconds=step_timeout,
        client_info=types.Implementation(name="mcp-rs-tasks-interop", version="0.1.0"),
        cache=None,
    )
    connected = False
    try:
        with anyio.fail_after(overall_timeout):
            async with client:
                connected = True
                await run_checks(client, runner)
    except BaseException as e:  # noqa: BLE001 - report whatever broke the connection
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = "".join(traceback.format_exception(e, limit=8)).rstrip().replace("\n", "\n    ")
        if isinstance(e, TimeoutError):
            detail = f"the whole run exceeded {overall_timeout:.0f} s"
        runner.record("session" if connected else "connect", False, detail)
    return runner


async def run_checks(client: Client, runner: Runner) -> None:
    tasks = Tasks(client)
    run_id = uuid.uuid4().hex[:8]

    async def connected() -> str:
        ensure(client.protocol_version == LEGACY_VERSION, f"negotiated {client.protocol_version!r}")
        caps = client.server_capabilities.tasks
        ensure(caps is not None, "the server declares no tasks capability")
        ensure(
            caps.requests is not None and caps.requests.tools is not None and caps.requests.tools.call is not None,
            f"tasks.requests.tools.call missing: {caps!r}",
        )
        ensure(caps.list is not None and caps.cancel is not None, f"tasks.list/cancel missing: {caps!r}")
        return f"protocolVersion={client.protocol_version}, tasks capability {caps.model_dump(exclude_none=True)}"

    await runner.check("connect: the tasks capability", connected)

    async def task_support() -> str:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        support = {
            name: (tools[name].execution.task_support if tools[name].execution else None)
            for name in ("slow_compute", "failing_job", "greet")
        }
        ensure(support["slow_compute"] == "optional", f"slow_compute: {support}")
        ensure(support["failing_job"] == "required", f"failing_job: {support}")
        ensure(support["greet"] in (None, "forbidden"), f"greet: {support}")
        return f"execution.taskSupport {support}"

    await runner.check("tools/list: execution.taskSupport", task_support)

    # ---- a task polled to completion ---------------------------------------
    label = f"py-{run_id}"
    created: dict[str, Any] = {}

    async def create() -> str:
        started = time.monotonic()
        task = await tasks.create("slow_compute", {"seconds": 2, "label": label}, ttl=60_000)
        ensure(time.monotonic() - started < 1.5, "creating the task waited for the work")
        ensure(task.status == "working", f"status {task.status!r}")
        ensure(task.ttl == 60_000, f"ttl {task.ttl!r}, asked for 60000")
        created["task"] = task
        created["started"] = started
        return f"taskId={task.task_id} status={task.status} ttl={task.ttl} pollInterval={task.poll_interval}"

    await runner.check("tools/call with task: CreateTaskResult", create)

    async def listed() -> str:
        ensure("task" in created, "no task was created")
        ids = [t.task_id for t in (await tasks.list()).tasks]
        ensure(created["task"].task_id in ids, f"not in tasks/list: {ids}")
        return f"{len(ids)} task(s) listed"

    await runner.check("tasks/list: ListTasksResult", listed)

    async def polled() -> str:
        ensure("task" in created, "no task was created")
        task, seen = await tasks.poll(created["task"].task_id, 20)
        elapsed = time.monotonic() - created["started"]
        ensure(seen == ["working", "completed"], f"statuses {seen}")
        ensure(elapsed >= 1.8, f"completed after only {elapsed:.2f} s")
        return f"{' -> '.join(seen)} in {elapsed:.1f} s"

    await runner.check("tasks/get polled to completion: GetTaskResult", polled)

    async def payload() -> str:
        ensure("task" in created, "no task was created")
        task_id = created["task"].task_id
        result = await tasks.result(task_id)
        ensure(text_of(result) == f"Computed {label} after 2 seconds", f"text {text_of(result)!r}")
        ensure(not result.is_error, "isError")
        related = (result.meta or {}).get(RELATED_TASK, {})
        ensure(related.get("taskId") == task_id, f"_meta {result.meta!r}")
        return f"{text_of(result)!r} with _meta[{RELATED_TASK}]"

    await runner.check("tasks/result: the CallToolResult", payload)

    async def result_waits() -> str:
        task = await tasks.create("slow_compute", {"seconds": 1, "label": f"{label}-wait"}, ttl=60_000)
        started = time.monotonic()
        result = await tasks.result(task.task_id)
        waited = time.monotonic() - started
        ensure(text_of(result).startswith(f"Computed {label}-wait"), f"text {text_of(result)!r}")
        ensure(waited >= 0.5, f"tasks/result answered after {waited:.2f} s, before the work was done")
        return f"tasks/result blocked {waited:.1f} s until the task completed"

    await runner.check("tasks/result on a working task waits for it", result_waits)

    # ---- cancellation -------------------------------------------------------
    async def cancel() -> str:
        cancel_label = f"{label}-cancel"
        task = await tasks.create("slow_compute", {"seconds": 60, "label": cancel_label}, ttl=60_000)
        deadline = time.monotonic() + 10
        while running_step(await tasks.journal(cancel_label)) < 3:
            ensure(time.monotonic() < deadline, "the task never reached step 3")
            await anyio.sleep(0.05)
        cancelled = await tasks.cancel(task.task_id)
        ensure(cancelled.status == "cancelled", f"tasks/cancel answered status {cancelled.status!r}")
        deadline = time.monotonic() + 10
        while not (entry := await tasks.journal(cancel_label)).startswith("cancelled at step"):
            ensure(time.monotonic() < deadline, f"the handler never saw the cancellation: {entry!r}")
            await anyio.sleep(0.05)
        await anyio.sleep(0.4)
        ensure(await tasks.journal(cancel_label) == entry, "the handler kept running after tasks/cancel")
        got = await tasks.get(task.task_id)
        ensure(got.status == "cancelled", f"tasks/get says {got.status!r}")
        await expect_error(INVALID_PARAMS, tasks.result(task.task_id))
        await expect_error(INVALID_PARAMS, tasks.cancel(task.task_id))
        return f"CancelTaskResult status=cancelled; handler: {entry!r}; result and second cancel -> {INVALID_PARAMS}"

    await runner.check("tasks/cancel mid-way: CancelTaskResult, handler stopped", cancel)

    # ---- failures -------------------------------------------------------------
    async def tool_error() -> str:
        task = await tasks.create("failing_job", {}, ttl=60_000)
        done, seen = await tasks.poll(task.task_id, 15)
        ensure(done.status == "completed", f"a tool error completes the task; got {seen}")
        result = await tasks.result(task.task_id)
        ensure(result.is_error, "isError is not set")
        ensure("input data set is empty" in text_of(result), f"text {text_of(result)!r}")
        return f"{' -> '.join(seen)}; isError result {text_of(result)!r}"

    await runner.check("a tool error completes the task with an isError result", tool_error)

    async def protocol_error() -> str:
        task = await tasks.create("protocol_error_job", {}, ttl=60_000)
        done, seen = await tasks.poll(task.task_id, 15)
        ensure(done.status == "failed", f"statuses {seen}")
        ensure(done.status_message, "a failed task carries a statusMessage")
        try:
            await tasks.result(task.task_id)
        except MCPError as e:
            return f"{' -> '.join(seen)} ({done.status_message!r}); tasks/result -> error {e.code}"
        raise CheckFailed("tasks/result of a failed task returned a result")

    await runner.check("a handler failure fails the task; tasks/result is an error", protocol_error)

    async def required() -> str:
        message = await expect_error(METHOD_NOT_FOUND, client.call_tool("failing_job", {}))
        return f"without task -> {METHOD_NOT_FOUND} ({message!r})"

    await runner.check("taskSupport=required refuses a plain call", required)

    async def forbidden() -> str:
        message = await expect_error(METHOD_NOT_FOUND, tasks.create("greet", {"name": "x"}))
        plain = await client.call_tool("greet", {"name": "x"})
        ensure(text_of(plain) == "Hello, x!", f"plain call: {text_of(plain)!r}")
        return f"with task -> {METHOD_NOT_FOUND} ({message!r}); plain call works"

    await runner.check("a tool without task support refuses a task", forbidden)

    # ---- lifetime and ownership ----------------------------------------------
    async def expired() -> str:
        task = await tasks.create("slow_compute", {"seconds": 0.1}, ttl=1_000)
        ensure(task.ttl == 1_000, f"ttl {task.ttl!r}")
        await anyio.sleep(1.5)
        await expect_error(INVALID_PARAMS, tasks.get(task.task_id))
        await expect_error(INVALID_PARAMS, tasks.result(task.task_id))
        ids = [t.task_id for t in (await tasks.list()).tasks]
        ensure(task.task_id not in ids, "an expired task is still listed")
        return f"after its 1 s TTL: tasks/get and tasks/result -> {INVALID_PARAMS}, not listed"

    await runner.check("an expired task is gone", expired)

    async def unknown() -> str:
        message = await expect_error(INVALID_PARAMS, tasks.get("0" * 32))
        return f"tasks/get of an unknown id -> {INVALID_PARAMS} ({message!r})"

    await runner.check("an unknown task id is refused", unknown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=30.0, help="per-check timeout in seconds")
    parser.add_argument("--overall-timeout", type=float, default=100.0, help="whole-run timeout in seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- SERVER_CMD [ARGS...]")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("missing the server command (after --)")
    print(f"python MCP client tasks interop: server={command!r}", flush=True)
    runner = anyio.run(run, command, args.timeout, args.overall_timeout)
    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
