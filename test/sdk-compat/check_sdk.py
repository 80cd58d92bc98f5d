"""Unpod's own Python SDK (unpod 0.5.0) against a running simulator: does the SDK parse what the simulator sends?

    SIM_URL=http://127.0.0.1:PORT SIM_KEY=sim_test_key SIM_ORG_HANDLE=acme python check_sdk.py [--old]

Runs calls.create / get / list / hangup, pipes.get and numbers.list through the SDK's `AsyncClient`, in direct
mode (BearerAuth, base from UNPOD_BASE_URL as the SDK resolves it: `<host>/platform`) and in proxy mode
(TokenAuth and JWTAuth with an Org-Handle, base_url the bare host). `--old`: the simulator runs the old status
vocabulary and answers hangups with an empty body. Prints one JSON line per check; exit 1 if any failed.
test/sdk-compat.test.ts starts the simulators and runs this.

(Not the sync `Client`: in 0.5.0 it runs each call in its own `asyncio.run`, and its second request over a kept-alive
connection fails with "Event loop is closed", against any server.)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import traceback
import warnings
from typing import Any, Awaitable, Callable

import httpx
from unpod import AsyncClient, BearerAuth, JWTAuth, TokenAuth
from unpod.models import Call, Number, Pipe

URL = os.environ["SIM_URL"].rstrip("/")
KEY = os.environ.get("SIM_KEY", "sim_test_key")
ORG = os.environ.get("SIM_ORG_HANDLE", "acme")
OLD = "--old" in sys.argv
CONNECTED = "completed" if OLD else "connected"
TERMINAL = {"connected", "notConnected", "failed", "completed", "not_connected"}

warnings.simplefilter("ignore", DeprecationWarning)  # pipes.* is "deprecated for one release"
results: list[dict[str, Any]] = []
CHECKS: list[tuple[str, Callable[[], Awaitable[Any]]]] = []


def check(name: str) -> Callable[[Callable[[], Awaitable[Any]]], None]:
    def register(fn: Callable[[], Awaitable[Any]]) -> None:
        CHECKS.append((name, fn))

    return register


async def run_checks() -> None:
    for name, fn in CHECKS:
        try:
            results.append({"check": name, "ok": True, "detail": await fn()})
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the run
            where = traceback.format_exc().strip().splitlines()[-3:]
            results.append({"check": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}", "where": where})


async def wait_ended(client: AsyncClient, call_id: str) -> Call:
    deadline = time.time() + 10
    while time.time() < deadline:
        c = await client.calls.get(call_id)
        if c.status in TERMINAL:
            return c
        await asyncio.sleep(0.02)
    raise AssertionError(f"call {call_id} did not end")


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


os.environ["UNPOD_BASE_URL"] = URL
os.environ.pop("UNPOD_SERVICE_BASE_URL", None)
os.environ.pop("UNPOD_PLATFORM_TOKEN", None)
direct = AsyncClient(auth=BearerAuth(KEY))  # base: UNPOD_BASE_URL + /platform, as the SDK derives it
token = AsyncClient(auth=TokenAuth(KEY, org_handle=ORG), base_url=URL)
jwt = AsyncClient(auth=JWTAuth(KEY, org_handle=ORG), base_url=URL)
state: dict[str, Any] = {}


@check("calls.create (Bearer): 201 envelope unwrapped into a Call, status pending, data kept")
async def _() -> Any:
    expect(direct._base_url == f"{URL}/platform", f"base {direct._base_url}")
    c = await direct.calls.create(
        pipe_id="pipe_sdk",
        to_number="+14155550110",
        instructions="be brief",
        data={"campaign_task_id": "task-sdk", "campaign_attempt": 1, "clinic": "Northside"},
    )
    expect(isinstance(c, Call), "a Call")
    expect(c.status == "pending", f"status {c.status}")
    expect(c.id == c.call_id and c.call_id.startswith("call_"), f"id {c.call_id}")
    expect(c.data.get("clinic") == "Northside", f"data {c.data}")
    expect(c.to_number == "+14155550110" and c.user_number == c.to_number, "to_number / user_number")
    expect(c.transcript == [] and c.transcript_turns == 0, f"transcript {c.transcript!r}")
    expect(c.created is not None and c.modified is not None, "created / modified parsed as datetimes")
    state["ok_call"] = c.call_id
    return {"call_id": c.call_id, "status": c.status, "extra_fields": sorted((c.model_extra or {}).keys())}


@check("calls.get: the full record once ended: transcript turns, recording_url, end_reason, call_timings")
async def _() -> Any:
    c = await wait_ended(direct, state["ok_call"])
    expect(c.status == CONNECTED, f"status {c.status}")
    expect(isinstance(c.transcript, list) and len(c.transcript) > 0, f"transcript {c.transcript!r}")
    expect(all({"role", "content", "timestamp"} <= set(t) for t in c.transcript), "turn keys")
    expect(c.transcript_turns == len(c.transcript), "transcript_turns")
    expect(bool(c.recording_url) and bool(c.end_reason), "recording_url / end_reason")
    expect(c.started_at is not None and c.ended_at is not None and (c.duration_s or 0) > 0, "times")
    t = c.call_timings
    expect(bool(t.get("call_dialed_at")) and bool(t.get("call_connected_at")), f"call_timings {t}")
    return {"status": c.status, "end_reason": c.end_reason, "turns": c.transcript_turns}


@check("calls.list(status='in_flight', pipe_id=…): live rows, transcript None (not loaded)")
async def _() -> Any:
    stuck = await direct.calls.create(pipe_id="pipe_sdk", to_number="+14155550198")  # ..98: stuck until hung up
    state["stuck"] = stuck.call_id
    rows = await direct.calls.list(status="in_flight", pipe_id="pipe_sdk")
    expect(all(isinstance(r, Call) for r in rows), "Calls")
    expect([r.call_id for r in rows] == [stuck.call_id], f"rows {[r.call_id for r in rows]}")
    expect(rows[0].transcript is None, f"row transcript {rows[0].transcript!r}")
    done = await direct.calls.list(status=CONNECTED)
    expect(state["ok_call"] in [r.call_id for r in done], "the ended call under its terminal status")
    expect(all(r.transcript is None and r.transcript_turns > 0 for r in done), "rows: None + turn count")
    everything = await direct.calls.list()
    expect(everything[0].call_id == stuck.call_id, "newest first")
    return {"in_flight": len(rows), CONNECTED: len(done), "all": len(everything)}


@check("calls.hangup: a Call back (or, on an empty answer, the SDK's synthetic hangup_requested)")
async def _() -> Any:
    deadline = time.time() + 5
    while (await direct.calls.get(state["stuck"])).status != "active" and time.time() < deadline:
        await asyncio.sleep(0.02)
    h = await direct.calls.hangup(state["stuck"])
    expect(isinstance(h, Call), "a Call")
    if OLD:
        expect(h.status == "hangup_requested" and h.call_id == state["stuck"], f"empty answer → {h.status}")
    else:
        expect(h.status == CONNECTED and h.end_reason == "HANGUP_REQUESTED", f"{h.status} {h.end_reason}")
    after = await direct.calls.get(state["stuck"])
    expect(after.status == CONNECTED, f"after hangup {after.status}")
    return {"answer_status": h.status, "after": after.status}


@check("pipes.get: a Pipe with number and max_call_duration_s")
async def _() -> Any:
    p = await direct.pipes.get("pipe_sdk")
    expect(isinstance(p, Pipe) and p.pipe_id == "pipe_sdk", "a Pipe")
    expect(p.max_call_duration_s == 3600 and bool(p.number) and p.status == "active", f"{p}")
    return {"number": p.number, "max_call_duration_s": p.max_call_duration_s}


@check("numbers.list (Bearer → supervoice /platform/v1/numbers; Token → /api/v2/…/numbers)")
async def _() -> Any:
    a = await direct.numbers.list()
    b = await token.numbers.list(status="assigned")
    expect(all(isinstance(n, Number) for n in a + b), "Numbers")
    expect(any(n.pipe_id == "pipe_sdk" for n in a), f"direct {a}")
    expect({n.number_id for n in b} <= {n.number_id for n in a} and len(b) > 0, "proxy rows")
    expect(all(n.status in {"available", "assigned", "in_call", "disabled"} for n in a), "statuses")
    return {"direct": len(a), "proxy_assigned": len(b)}


@check("TokenAuth / JWTAuth with Org-Handle: create + get work; without the handle the SDK gets a 403")
async def _() -> Any:
    c = await token.calls.create(agent_id="agent_sdk", to_number="+14155550111", data={"k": "v"})
    expect(c.status == "pending" and c.agent_id == "agent_sdk", f"{c.status} {c.agent_id}")
    expect((await jwt.calls.get(c.call_id)).data == {"k": "v"}, "JWT get")
    bare = AsyncClient(auth=TokenAuth(KEY), base_url=URL)
    try:
        await bare.calls.list()
        raise AssertionError("no error without Org-Handle")
    except httpx.HTTPStatusError as e:
        expect(e.response.status_code == 403 and "detail" in e.response.json(), f"{e.response.text}")
    return {"call_id": c.call_id}


@check("errors: an account-wide no_from_number reaches the caller as HTTPStatusError 400 {detail}")
async def _() -> Any:
    admin = httpx.Client(base_url=URL)  # the simulator's own /_sim admin routes, not Unpod
    acct = os.environ.get("SIM_ACCOUNT", "acct_default")
    admin.put(f"/_sim/accounts/{acct}/failure", json={"kind": "no_from_number"}).raise_for_status()
    try:
        await direct.calls.create(pipe_id="pipe_sdk", to_number="+14155550112")
        raise AssertionError("no error")
    except httpx.HTTPStatusError as e:
        expect(e.response.status_code == 400, f"{e.response.status_code}")
        expect(e.response.json() == {"detail": "no_from_number"}, e.response.text)
    finally:
        admin.put(f"/_sim/accounts/{acct}/failure", json={"kind": None}).raise_for_status()
    return {"status": 400}


async def main() -> None:
    await run_checks()
    for c in (direct, token, jwt):
        await c.close()


asyncio.run(main())
for r in results:
    print(json.dumps(r, default=str))
sys.exit(0 if results and all(r["ok"] for r in results) else 1)
