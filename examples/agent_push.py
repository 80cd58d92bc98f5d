"""Tell unpod-campaigns at once that a call ended, from your AgentRunner's call_end hook.

Optional: unpod-campaigns finds every call's end by polling Unpod (Unpod sends no webhooks). This push only
makes it faster. Set CAMPAIGNS_PUSH_URL (e.g. https://campaigns.example.com/v1/agent-events) and
CAMPAIGNS_PUSH_SECRET (the server's AGENT_PUSH_SECRET) where your agent runs, and register the hook
(unpod/connectivity/runner.py `AgentRunner.on`, hooks.py: handlers are async, called as (ctx, final_state)):

    from agent_push import notify_campaign
    runner = AgentRunner(...)
    runner.on("call_end")(notify_campaign)

The call's `ctx.data` carries the campaign's markers (campaign_task_id, campaign_attempt); the server reads the
call from Unpod itself, so this body is only a hint.
"""

import asyncio
import hashlib
import hmac
import json
import os
import time
import urllib.request


async def notify_campaign(ctx, final_state):
    url = os.environ.get("CAMPAIGNS_PUSH_URL")
    secret = os.environ.get("CAMPAIGNS_PUSH_SECRET")
    data = dict(getattr(ctx, "data", None) or {})
    if not url or not secret or "campaign_task_id" not in data:
        return  # not a campaign call, or the push is not configured
    body = json.dumps(
        {"event": "call_end", "call_id": str(ctx.call_id), "final_state": str(final_state), "data": data}
    ).encode()
    t = str(int(time.time()))
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "x-campaign-timestamp": t,
            "x-campaign-signature": f"v1={sig}",
        },
    )
    try:
        await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=5).read())
    except Exception:  # noqa: BLE001 — best effort: polling finds the end anyway
        pass
