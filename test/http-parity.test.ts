/**
 * What the CLI's `start` takes, the HTTP API takes too (a do-not-call list, calling days/hours, blackout dates,
 * a zone, a deadline, remind-before, past-call-at), as multipart fields and as JSON, documented in the OpenAPI;
 * and a run's state is one mapping (canceled is canceled, paused is paused) for `status` and `?status=`.
 * Against the real fastify server, a real Temporal dev server and a real worker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { RunningHttpServer } from '../src/http/serve';
import { runStateOf } from '../src/campaign/run-queries';
import { startStackHttp, startTestStack, type TestStack } from './helpers/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const KEY = 'key_parity_0123456789';
const TIMING_FIELDS = {
  call_days: 'mon-fri',
  call_hours: '09:00-17:00',
  blackout: '2030-12-25,2031-01-01',
  zone: 'America/New_York',
  deadline: '48h',
  remind_before: '24h',
  past_call_at: 'skip',
};
const POLICY = { noAnswer: { maxRetries: 0 }, voicemail: { retry: false }, failure: { maxRetries: 0 } };

describe('HTTP API: the CLI’s run options, and one mapping of run states', () => {
  let stack: TestStack;
  let api: RunningHttpServer;
  const space = '/api/v2/platform/spaces/space_p';

  const call = async (method: string, path: string, body?: FormData | unknown) => {
    const headers: Record<string, string> = { authorization: `Token ${KEY}` };
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${api.url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) as Json, text };
  };

  before(async () => {
    stack = await startTestStack();
    api = await startStackHttp(stack, {
      ops: { public: true },
      api: {
        keys: [{ key: KEY, space: 'space_p', user: 'pat' }],
        defaultAccount: `acct_${stack.taskQueue}`,
        defaultPipeId: 'pipe_test',
        defaultRegion: 'US',
        runMode: 'dev',
      },
    });
  });

  after(async () => {
    await api?.close();
    await stack?.close();
  });

  // Within the 48 h deadline: appointment in 40 h, so remind_before 24h calls 16 h from now (or when the
  // calling window next opens after that).
  const annAppointment = new Date(Math.ceil((Date.now() + 40 * 3_600_000) / 1000) * 1000).toISOString();
  const contactsCsv = [
    'phone,name,appointment_at',
    `+14155553001,Ann,${annAppointment}`,
    '+14155553002,Bob,2030-07-14T09:00:00-07:00',
    '+14155553003,Cy,2030-07-14T10:00:00-07:00',
  ].join('\n');

  function assertTiming(run: Json): void {
    const x = run.x_campaign as Json;
    assert.deepEqual(x.calling_window, {
      days: [1, 2, 3, 4, 5],
      start: '09:00',
      end: '17:00',
      blackout_dates: ['2030-12-25', '2031-01-01'],
    });
    assert.equal(x.zone, 'America/New_York');
    assert.equal(x.past_call_at, 'skip');
    const ahead = Date.parse(x.deadline as string) - Date.now();
    assert.ok(ahead > 47 * 3_600_000 && ahead <= 48 * 3_600_000, `deadline 48h ahead, got ${x.deadline}`);
  }

  it('multipart: a `dnc` file part and the timing fields, before `file`', async () => {
    const form = new FormData();
    for (const [k, v] of Object.entries(TIMING_FIELDS)) form.append(k, v);
    form.append('policy', JSON.stringify(POLICY));
    form.append('dnc', new Blob(['phone\n(415) 555-3002\n']), 'do-not-call.csv');
    form.append('file', new Blob([contactsCsv]), 'contacts.csv');
    const res = await call('POST', `${space}/runs/`, form);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.x_validation.skipped.do_not_call, 1, 'Bob is on the do-not-call list');
    assert.equal(res.json.x_validation.valid, 2);
    assertTiming(res.json.data as Json);
    // remind_before applied: each contact's call time is its appointment minus 24 h (seen on its task).
    const runId = res.json.data.run_id as string;
    let tasks: Json[] = [];
    for (let i = 0; i < 120 && tasks.length < 3; i++) {
      tasks = (await call('GET', `${space}/runs/${runId}/tasks/?page_size=10`)).json.data as Json[];
      if (tasks.length < 3) await delay(250);
    }
    const bob = tasks.find((t) => t.input.name === 'Bob');
    assert.equal(bob?.x_campaign.status, 'skipped');
    assert.match(String(bob?.x_campaign.reason), /do.not.call/i);
    const ann = tasks.find((t) => t.input.name === 'Ann');
    let next: string | null = ann?.x_campaign.next_attempt_at ?? null;
    for (let i = 0; i < 40 && !next; i++) {
      await delay(250);
      const t = (await call('GET', `${space}/runs/${runId}/tasks/?page_size=10`)).json.data as Json[];
      next = t.find((x) => x.input.name === 'Ann')?.x_campaign.next_attempt_at ?? null;
    }
    const callAt = Date.parse(annAppointment) - 24 * 3_600_000;
    assert.ok(next, 'Ann waits for her call time');
    assert.ok(
      Date.parse(next) >= callAt,
      `Ann is called at her appointment minus 24 h (or the window's next opening after it): ${next}`,
    );
    await call('POST', `${space}/runs/${runId}/cancel/`, { hangup: true });
  });

  it('multipart: `dnc` as a text field works too', async () => {
    const form = new FormData();
    form.append('dnc', '+14155553001\n+14155553003');
    form.append('file', new Blob([contactsCsv]), 'contacts.csv');
    const res = await call('POST', `${space}/runs/`, form);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.x_validation.skipped.do_not_call, 2);
    await call('POST', `${space}/runs/${res.json.data.run_id}/cancel/`, { hangup: true });
  });

  it('JSON: `dnc` as an array and the same timing fields', async () => {
    const res = await call('POST', `${space}/runs/`, {
      contacts: [
        { phone: '+14155553001', name: 'Ann', appointment_at: '2030-07-14T08:00:00-07:00' },
        { phone: '+14155553002', name: 'Bob', appointment_at: '2030-07-14T09:00:00-07:00' },
      ],
      dnc: ['415-555-3002'],
      policy: POLICY,
      ...TIMING_FIELDS,
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.x_validation.skipped.do_not_call, 1, JSON.stringify(res.json.x_validation));
    assertTiming(res.json.data as Json);
    await call('POST', `${space}/runs/${res.json.data.run_id}/cancel/`, { hangup: true });
  });

  it('a bad option is a 400 naming the field; a past deadline is refused; nothing starts', async () => {
    const contacts = [{ phone: '+14155553001' }];
    const cases: [Json, RegExp][] = [
      [{ call_hours: '25:00-26:00' }, /call_hours/],
      [{ call_days: 'funday' }, /call_days/],
      [{ blackout: '2030-13-45' }, /blackout/],
      [{ zone: 'Mars/Base' }, /zone/],
      [{ deadline: '2020-01-01T00:00:00Z' }, /deadline: .*already past/],
      [{ remind_before: 'soon' }, /remind_before/],
      [{ past_call_at: 'later' }, /past_call_at/],
      [{ dnc: ['not a number'] }, /dnc/],
    ];
    for (const [fields, message] of cases) {
      const res = await call('POST', `${space}/runs/`, { contacts, ...fields });
      assert.equal(res.status, 400, `${JSON.stringify(fields)}: ${res.text}`);
      assert.match(JSON.stringify(res.json), message, JSON.stringify(fields));
    }
    const form = new FormData();
    form.append('deadline', '2020-01-01T00:00:00Z');
    form.append('file', new Blob([contactsCsv]), 'contacts.csv');
    const res = await call('POST', `${space}/runs/`, form);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /deadline/);
  });

  it('the OpenAPI document lists every option in both bodies', async () => {
    const res = await fetch(`${api.url}/docs/openapi.json`);
    const doc = (await res.json()) as Json;
    const schemas = doc.components.schemas as Json;
    for (const name of ['CreateRunForm', 'CreateRunJson']) {
      const props = Object.keys((schemas[name] as Json).properties as Json);
      for (const f of [...Object.keys(TIMING_FIELDS), 'dnc'])
        assert.ok(props.includes(f), `${name} documents ${f} (has ${props.join(', ')})`);
    }
  });

  it('a paused run is `paused`, a canceled one `canceled`, and each filter matches only its own', async () => {
    // +1 415 555 xx98: the simulator keeps the call up until it is hung up, so the run stays open.
    const res = await call('POST', `${space}/runs/`, {
      contacts: [{ phone: '+14155553198' }, { phone: '+14155553100' }],
      window: 1,
      policy: { ...POLICY, maxCallDuration: 60000 },
    });
    assert.equal(res.status, 201, res.text);
    const runId = res.json.data.run_id as string;
    const waitFor = async (state: string) => {
      for (let i = 0; i < 240; i++) {
        const r = (await call('GET', `${space}/runs/${runId}/`)).json.data as Json;
        if (r.x_campaign.state === state) return r;
        await delay(250);
      }
      throw new Error(`run ${runId} never ${state}`);
    };
    const ids = async (status: string) =>
      ((await call('GET', `${space}/runs/?status=${status}`)).json.data as Json[]).map((r) => r.run_id);

    const running = await waitFor('running');
    assert.ok(
      running.x_campaign.eta && Date.parse(running.x_campaign.eta as string) >= Date.now() - 1_000,
      `a running run's ETA is not in the past: ${running.x_campaign.eta}`,
    );
    await call('POST', `${space}/runs/${runId}/pause/`);
    const paused = await waitFor('paused');
    assert.equal(paused.status, 'paused');
    assert.equal(paused.x_campaign.eta, null, 'a paused run has no ETA');
    const whilePaused = await (
      await fetch(`${api.url}/metrics`, { headers: { authorization: `Token ${KEY}` } })
    ).text();
    assert.ok(
      Number(/unpod_campaigns_runs\{state="paused"\} (\d+)/.exec(whilePaused)?.[1]) >= 1,
      `runs{state="paused"} counts the paused run:\n${whilePaused}`,
    );
    assert.ok((await ids('paused')).includes(runId));
    assert.ok(!(await ids('running')).includes(runId), 'a paused run is not in ?status=running');
    assert.ok((await ids('PAUSED')).includes(runId), 'the filter is case-insensitive');

    await call('POST', `${space}/runs/${runId}/resume/`);
    await waitFor('running');
    await call('POST', `${space}/runs/${runId}/cancel/`, { hangup: true });
    const canceled = await waitFor('canceled');
    assert.equal(canceled.status, 'canceled');
    // The run says `canceled` a moment before visibility lists it closed (its last workflow task, then indexing).
    for (let i = 0; i < 40 && !(await ids('canceled')).includes(runId); i++) await delay(250);
    assert.ok((await ids('canceled')).includes(runId));
    assert.ok(!(await ids('failed')).includes(runId), 'a canceled run is not in ?status=failed');
    assert.ok(!(await ids('completed')).includes(runId), 'nor in ?status=completed');
    // /metrics counts by the same mapping: this canceled run among the canceled ones.
    const metrics = await fetch(`${api.url}/metrics`, { headers: { authorization: `Token ${KEY}` } });
    const text = await metrics.text();
    assert.equal(metrics.status, 200, text);
    const canceledRuns = Number(/unpod_campaigns_runs\{state="canceled"\} (\d+)/.exec(text)?.[1]);
    assert.ok(canceledRuns >= 1, `runs{state="canceled"} counts the canceled run:\n${text}`);
    assert.match(text, /unpod_campaigns_runs\{state="paused"\} \d+/);
  });

  it('runStateOf: one mapping from execution status and campaign state', () => {
    assert.equal(runStateOf('RUNNING', { state: 'paused' }), 'paused');
    assert.equal(runStateOf('RUNNING', null), 'running');
    assert.equal(runStateOf('COMPLETED', { state: 'canceled' }), 'canceled');
    assert.equal(runStateOf('COMPLETED', { state: 'completed' }), 'completed');
    assert.equal(runStateOf('TERMINATED', { state: 'running' }), 'failed');
    assert.equal(runStateOf('FAILED', null), 'failed');
  });
});
