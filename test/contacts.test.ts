import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import {
  ContactFileError,
  IngestAbortedError,
  ingestContacts,
  ingestJsonContacts,
  loadDoNotCall,
  type ContactBatch,
  type IngestOptions,
  type IngestSummary,
} from '../src/contacts';

const US: IngestOptions = { defaultRegion: 'US' };

async function ingest(csv: string | Buffer, opts: Partial<IngestOptions> = {}, chunk = 0) {
  const buf = Buffer.isBuffer(csv) ? csv : Buffer.from(csv, 'utf8');
  // Optionally feed in tiny chunks to exercise chunk boundaries (CRLF split, multi-byte chars).
  const chunks: Buffer[] = [];
  if (chunk > 0) for (let i = 0; i < buf.length; i += chunk) chunks.push(buf.subarray(i, i + chunk));
  else chunks.push(buf);
  const r = ingestContacts(Readable.from(chunks), { ...US, ...opts });
  const batches: ContactBatch[] = [];
  for await (const b of r.batches) batches.push(b);
  const summary = await r.summary;
  return {
    batches,
    summary,
    contacts: batches.flatMap((b) => b.contacts),
    skipped: batches.flatMap((b) => b.skipped),
  };
}

async function fileError(csv: string | Buffer, opts: Partial<IngestOptions> = {}): Promise<ContactFileError> {
  const r = ingestContacts(Readable.from([Buffer.isBuffer(csv) ? csv : Buffer.from(csv)]), {
    ...US,
    ...opts,
  });
  let thrown: unknown;
  let yielded = 0;
  try {
    for await (const _ of r.batches) yielded++;
  } catch (e) {
    thrown = e;
  }
  assert.equal(yielded, 0, 'no batch may be yielded before a file-level error');
  assert.ok(thrown instanceof ContactFileError, `expected ContactFileError, got ${String(thrown)}`);
  await assert.rejects(r.summary, (e: unknown) => e === thrown);
  return thrown;
}

async function readCsv(file: string): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const rec of fs.createReadStream(file).pipe(parse({ relax_column_count: false })))
    rows.push(rec as string[]);
  return rows;
}

void test('every phone alias, any case/spacing, is the phone column', async () => {
  for (const h of [
    'phone',
    'Phone Number',
    'CONTACT-NUMBER',
    'to_number',
    ' Number ',
    'Mobile',
    'phoneNumber',
  ]) {
    const { contacts, summary } = await ingest(`${h},x\n415 555 0123,1\n`);
    assert.equal(contacts.length, 1, h);
    assert.equal(contacts[0]!.phone, '+14155550123', h);
    assert.equal(summary.columns.phone, h.trim(), h);
    assert.deepEqual(contacts[0]!.metadata, { x: '1' });
  }
});

void test('name, timezone, call_at and instructions aliases', async () => {
  for (const [nameH, tzH] of [
    ['name', 'timezone'],
    ['Full Name', 'Time Zone'],
    ['full-name', 'TZ'],
  ] as const) {
    const csv = `phone,${nameH},${tzH},Call At,Instructions\n+14155550123,  Ann Lee ,america/new_york,2025-03-01T10:00:00-08:00,Speak slowly\n`;
    const { contacts, summary } = await ingest(csv);
    assert.equal(contacts.length, 1);
    const c = contacts[0]!;
    assert.equal(c.name, 'Ann Lee', 'name is trimmed');
    assert.equal(c.timezone, 'America/New_York', 'zone canonicalised');
    assert.equal(c.callAt, '2025-03-01T18:00:00.000Z');
    assert.equal(c.instructions, 'Speak slowly');
    assert.deepEqual(c.metadata, {});
    assert.deepEqual(summary.columns, {
      phone: 'phone',
      name: nameH,
      timezone: tzH,
      callAt: 'Call At',
      instructions: 'Instructions',
    });
    assert.deepEqual(summary.metadataColumns, []);
  }
});

void test('other columns go to metadata with normalised keys; empty cells omitted', async () => {
  const { contacts, summary } = await ingest(
    'phone,Appointment At,Clinic Name,doctor-name\n4155550123,2025-07-14 09:00,Mission Bay,\n',
  );
  assert.deepEqual(contacts[0]!.metadata, { appointment_at: '2025-07-14 09:00', clinic_name: 'Mission Bay' });
  assert.deepEqual(summary.metadataColumns, ['appointment_at', 'clinic_name', 'doctor_name']);
});

void test('BOM, CRLF, blank lines and quoted newlines keep physical line numbers', async () => {
  const csv =
    '\uFEFFphone,name,notes\r\n' + // 1
    '4155550101,Ann,a\r\n' + // 2
    '\r\n' + // 3 blank
    '4155550102,"Bob\r\nJunior","two\nlines"\r\n' + // 4-6 (CRLF and LF inside quotes)
    '4155550103,Cid,c\r\n' + // 7
    ' , , \r\n' + // 8 whitespace-only row: skipped like a blank line
    '555-12,Dee,d\r\n'; // 9
  for (const chunk of [0, 1, 3, 7]) {
    const { contacts, summary } = await ingest(csv, {}, chunk);
    assert.equal(summary.columns.phone, 'phone', 'BOM stripped from the first header');
    assert.deepEqual(
      contacts.map((c) => [c.line, c.name]),
      [
        [2, 'Ann'],
        [4, 'Bob\r\nJunior'],
        [7, 'Cid'],
      ],
      `chunk=${chunk}`,
    );
    assert.equal(contacts[1]!.metadata.notes, 'two\nlines');
    assert.equal(summary.rows, 4, 'blank and whitespace-only lines are not rows');
    assert.equal(summary.rejects[0]!.line, 9, `chunk=${chunk}`);
  }
});

void test('semicolon delimiter is sniffed; explicit delimiter is honoured', async () => {
  const csv = 'Name;Phone;Amount\nAnn;415 555 0101;1,50\nBob;415 555 0102;2,75\n';
  const a = await ingest(csv);
  assert.equal(a.summary.delimiter, ';');
  assert.deepEqual(
    a.contacts.map((c) => c.metadata.amount),
    ['1,50', '2,75'],
  );
  const b = await ingest(csv, { delimiter: ';' });
  assert.equal(b.contacts.length, 2);
  // forced ',' on a ';' file: no phone column found
  const e = await fileError(csv, { delimiter: ',' });
  assert.equal(e.code, 'no_phone_column');
  // a '|'-separated list is not read, but the error says what the separator seems to be
  const pipes = await fileError('name|phone\nAda|4155550101\n');
  assert.equal(pipes.code, 'no_phone_column');
  assert.match(pipes.message, /separated by '\|'/);
  // a comma file whose cells contain semicolons is still comma-delimited
  const c = await ingest('phone,note\n4155550101,"a;b;c"\n');
  assert.equal(c.summary.delimiter, ',');
  assert.equal(c.contacts[0]!.metadata.note, 'a;b;c');
});

void test('E.164 normalisation with the default region (US and IN)', async () => {
  const us = await ingest('phone\n(415) 555-0123\n415.555.0124\n+1 415 555 0125\n1-415-555-0126\n');
  assert.deepEqual(
    us.contacts.map((c) => c.phone),
    ['+14155550123', '+14155550124', '+14155550125', '+14155550126'],
  );
  const inn = await ingest('mobile\n98765 43210\n098765 43211\n+91 98765 43212\n+1 415 555 0123\n', {
    defaultRegion: 'IN',
  });
  assert.deepEqual(
    inn.contacts.map((c) => c.phone),
    ['+919876543210', '+919876543211', '+919876543212', '+14155550123'],
  );
  // the same local digits under the wrong region are rejected, naming the region
  const wrong = await ingest('phone\n98765 43210\n');
  assert.equal(wrong.summary.rejected, 1);
  assert.match(wrong.summary.rejects[0]!.reason, /for region US/);
});

void test('invalid phone, timezone, call_at and instructions are rejected with line, column and reason; valid rows go ahead', async () => {
  const long = 'x'.repeat(4001);
  const csv = [
    'Name,Phone_Number,Time Zone,call_at,instructions',
    'Ann,4155550101,America/Los_Angeles,2025-03-01T10:00:00Z,', // 2 ok
    'Bob,555-12,,,', // 3
    'Cid,4155550103,Mars/Olympus,,', // 4
    'Dee,4155550104,,2025-03-01T10:00:00,', // 5 local time
    'Eve,4155550105,,2025-02-30T10:00:00Z,', // 6 impossible date
    'Fay,4155550106,,tomorrow,', // 7
    `Gus,4155550107,,,${long}`, // 8
    'Hal,,,,', // 9 no phone
    'Ivy,4155550109,UTC,2025-03-01 10:00+0530,', // 10 ok
    'Jon,4155550110,,2025-03-01,', // 11 date only
    'Kim,4155550111,+05:30,,', // 12 offset is not an IANA zone
  ].join('\n');
  const { contacts, summary } = await ingest(csv);
  assert.deepEqual(
    contacts.map((c) => c.line),
    [2, 10],
  );
  assert.equal(contacts[1]!.callAt, '2025-03-01T04:30:00.000Z');
  assert.equal(summary.valid, 2);
  assert.equal(summary.rejected, 9);
  assert.equal(summary.rows, 12 - 1);
  const by = new Map(summary.rejects.map((r) => [r.line, r]));
  assert.deepEqual(
    [by.get(3)!.column, by.get(3)!.reason],
    ['Phone_Number', "'555-12' is not a valid phone number for region US"],
  );
  assert.equal(by.get(4)!.column, 'Time Zone');
  assert.match(by.get(4)!.reason, /'Mars\/Olympus' is not an IANA time zone/);
  assert.equal(by.get(5)!.column, 'call_at');
  assert.match(by.get(5)!.reason, /no time zone/);
  assert.match(by.get(6)!.reason, /not a real date-time/);
  assert.match(by.get(7)!.reason, /not an ISO 8601 date-time/);
  assert.equal(by.get(8)!.column, 'instructions');
  assert.match(by.get(8)!.reason, /4001 characters; the limit is 4000/);
  assert.equal(by.get(9)!.column, 'Phone_Number');
  assert.match(by.get(9)!.reason, /phone is required/);
  assert.match(by.get(11)!.reason, /date without a time/);
  assert.equal(by.get(12)!.column, 'Time Zone');
  assert.equal(by.get(3)!.raw.Name, 'Bob', 'the raw row is kept');
});

void test('rows with the wrong column count are rejected, not fatal', async () => {
  const { contacts, summary } = await ingest(
    'phone,name\n4155550101,Ann\n4155550102,Smith, Bob\n4155550103\n4155550104,Dee\n',
  );
  assert.deepEqual(
    contacts.map((c) => c.line),
    [2, 5],
  );
  assert.deepEqual(
    summary.rejects.map((r) => [r.line, r.column]),
    [
      [3, null],
      [4, null],
    ],
  );
  assert.match(summary.rejects[0]!.reason, /expected 2 columns, found 3 \(extra: ' Bob'\)/);
  assert.match(summary.rejects[1]!.reason, /expected 2 columns, found 1/);
});

void test('duplicates and do-not-call numbers are skipped with a reason, never dropped', async () => {
  const csv =
    'phone,name\n4155550101,Ann\n+1 415 555 0102,Bob\n(415) 555-0101,Ann again\n4155550102,Bob again\n4155550199,Dnc\n';
  const { contacts, skipped, summary } = await ingest(csv, { doNotCall: new Set(['+14155550199']) });
  assert.deepEqual(
    contacts.map((c) => c.phone),
    ['+14155550101', '+14155550102'],
  );
  assert.deepEqual(
    skipped.map((s) => [s.line, s.phone, s.name, s.skipReason, s.skipDetail]),
    [
      [4, '+14155550101', 'Ann again', 'duplicate', 'duplicate of line 2'],
      [5, '+14155550102', 'Bob again', 'duplicate', 'duplicate of line 3'],
      [6, '+14155550199', 'Dnc', 'do_not_call', '+14155550199 is on the do-not-call list'],
    ],
  );
  assert.deepEqual(summary.skipped, { duplicate: 2, do_not_call: 1 });
  assert.equal(
    summary.valid + summary.skipped.duplicate + summary.skipped.do_not_call + summary.rejected,
    summary.rows,
  );
});

void test('rejects CSV is written with original columns + line, column, reason and parses back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contacts-'));
  const rejectsPath = path.join(dir, 'rejects.csv');
  const rows = ['Name,Phone,Notes', 'Ann,4155550101,ok'];
  for (let i = 0; i < 150; i++) rows.push(`"Bad, ${i}",555-${i},"multi\nline"`);
  const { summary } = await ingest(rows.join('\n') + '\n', { rejectsPath, maxReportedRejects: 5 });
  assert.equal(summary.rejected, 150);
  assert.equal(summary.rejects.length, 5, 'only maxReportedRejects kept in memory');
  assert.equal(summary.rejectsPath, rejectsPath);
  const back = await readCsv(rejectsPath);
  assert.deepEqual(back[0], ['Name', 'Phone', 'Notes', 'line', 'column', 'reason']);
  assert.equal(back.length, 151, 'the file has every reject');
  assert.deepEqual(back[1]!.slice(0, 5), ['Bad, 0', '555-0', 'multi\nline', '3', 'Phone']);
  assert.equal(back[2]![3], '5', 'line of the second reject (after a quoted newline)');
  assert.match(back[1]![5]!, /not a valid phone number/);
});

void test('file-level problems raise ContactFileError naming the problem and the headers', async () => {
  const noPhone = await fileError('name,email\nAnn,a@x.org\n');
  assert.equal(noPhone.code, 'no_phone_column');
  assert.deepEqual(noPhone.headers, ['name', 'email']);
  assert.match(noPhone.message, /'name', 'email'/);

  assert.equal((await fileError('')).code, 'empty_file');
  assert.equal((await fileError('\uFEFF\r\n\r\n  \n')).code, 'empty_file');
  assert.equal((await fileError('phone,name\n')).code, 'no_data_rows');

  const junk = Buffer.alloc(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) % 256;
  assert.equal((await fileError(junk)).code, 'not_csv');
  assert.equal((await fileError(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]))).code, 'not_csv');
  assert.equal((await fileError(Buffer.from('\xff\xfep\x00h\x00', 'latin1'))).code, 'not_utf8');
  assert.equal((await fileError(Buffer.from('phone,name\n4155550101,Jos\xe9\n', 'latin1'))).code, 'not_utf8');

  const dup = await fileError('phone,mobile\n4155550101,4155550102\n');
  assert.equal(dup.code, 'duplicate_column');
  assert.match(dup.message, /'phone' and 'mobile'/);
  assert.equal((await fileError('phone,Clinic,clinic\n1,2,3\n')).code, 'duplicate_column');
});

void test('an unclosed quote is reported with the lines it swallowed', async () => {
  const { contacts, summary } = await ingest(
    'phone,name\n4155550101,Ann\n4155550102,"Bob\n4155550103,Cid\n4155550104,Dee\n',
  );
  assert.deepEqual(
    contacts.map((c) => c.line),
    [2],
  );
  assert.equal(summary.rejected, 1);
  assert.equal(summary.rejects[0]!.line, 3);
  assert.match(summary.rejects[0]!.reason, /lines 3–5/);
});

void test('batches: batchNo from 1, at most batchSize contacts+skipped each', async () => {
  const rows = ['phone'];
  for (let i = 0; i < 10; i++) rows.push(`41555501${String(i).padStart(2, '0')}`);
  rows.push('4155550100', '4155550101'); // two duplicates count towards the batch size
  const { batches, summary } = await ingest(rows.join('\n'), { batchSize: 5 });
  assert.deepEqual(
    batches.map((b) => [b.batchNo, b.contacts.length + b.skipped.length]),
    [
      [1, 5],
      [2, 5],
      [3, 2],
    ],
  );
  assert.deepEqual(
    batches[2]!.skipped.map((s) => s.skipReason),
    ['duplicate', 'duplicate'],
  );
  assert.equal(summary.batches, 3);
  const dflt = await ingest(
    ['phone', ...Array.from({ length: 600 }, (_, i) => `+1415555${String(1000 + i)}`)].join('\n'),
  );
  assert.deepEqual(
    dflt.batches.map((b) => b.contacts.length),
    [250, 250, 100],
  );
  // the byte budget closes a batch early when contacts are large
  const big = [
    'phone,instructions',
    ...Array.from({ length: 10 }, (_, i) => `+1415555${1000 + i},${'y'.repeat(3900)}`),
  ];
  const byBytes = await ingest(big.join('\n'), { maxBatchBytes: 10_000 });
  assert.ok(byBytes.batches.length >= 4);
  assert.equal(byBytes.contacts.length, 10);
});

void test('summary: preview size, and IngestAbortedError when the consumer stops early', async () => {
  const rows = ['phone', ...Array.from({ length: 30 }, (_, i) => `+1415555${1000 + i}`)];
  const { summary } = await ingest(rows.join('\n'), { previewSize: 3 });
  assert.deepEqual(
    summary.preview.map((c) => c.line),
    [2, 3, 4],
  );
  const r = ingestContacts(Readable.from([rows.join('\n')]), { ...US, batchSize: 5 });
  for await (const _ of r.batches) break;
  await assert.rejects(r.summary, IngestAbortedError);
});

void test('JSON rows: same aliases and validation, line = index + 1', async () => {
  const rows: unknown[] = [
    {
      phoneNumber: '415-555-0101',
      fullName: 'Ann',
      clinic: 'Main',
      visits: 3,
      metadata: { doctor: 'Dr. Raman' },
    },
    { mobile: 4155550102, tz: 'Europe/London', callAt: '2025-03-01T10:00:00+01:00' },
    { phone: '555-12' },
    'not an object',
    { phone: '+14155550101' },
    { phone: '4155550104', mobile: '4155550105' },
    { phone: '4155550106', line: 42, name: undefined },
  ];
  const r = ingestJsonContacts(rows, { ...US, batchSize: 2 });
  const batches: ContactBatch[] = [];
  for await (const b of r.batches) batches.push(b);
  const s: IngestSummary = await r.summary;
  const contacts = batches.flatMap((b) => b.contacts);
  assert.deepEqual(contacts[0], {
    phone: '+14155550101',
    line: 1,
    name: 'Ann',
    metadata: { clinic: 'Main', visits: '3', doctor: 'Dr. Raman' },
  });
  assert.deepEqual(
    [contacts[1]!.phone, contacts[1]!.timezone, contacts[1]!.callAt],
    ['+14155550102', 'Europe/London', '2025-03-01T09:00:00.000Z'],
  );
  assert.deepEqual(contacts[2], { phone: '+14155550106', line: 7, metadata: {} });
  assert.deepEqual(
    batches.flatMap((b) => b.skipped).map((x) => [x.line, x.skipDetail]),
    [[5, 'duplicate of line 1']],
  );
  assert.deepEqual(
    s.rejects.map((x) => [x.line, x.column]),
    [
      [3, 'phone'],
      [4, null],
      [6, 'mobile'],
    ],
  );
  assert.equal(s.columns.phone, 'phoneNumber');
  assert.ok(batches.every((b) => b.contacts.length + b.skipped.length <= 2));

  // summary settles as the batches are read: read them first
  const none = ingestJsonContacts([{ name: 'x' }], US);
  await assert.rejects(async () => {
    for await (const _ of none.batches);
  }, ContactFileError);
  await assert.rejects(
    none.summary,
    (e: unknown) => e instanceof ContactFileError && e.code === 'no_phone_column',
  );
});

void test('loadDoNotCall: plain list or CSV with a phone column; bad entries fail loudly', async () => {
  const plain = await loadDoNotCall(Readable.from(['(415) 555-0101\n\n+1 415 555 0102\r\n4155550103']), 'US');
  assert.deepEqual([...plain], ['+14155550101', '+14155550102', '+14155550103']);
  const withHeader = await loadDoNotCall(Readable.from(['added;Mobile\n2025-01-01;98765 43210\n']), 'IN');
  assert.deepEqual([...withHeader], ['+919876543210']);
  const ex = await loadDoNotCall(path.join(__dirname, '../examples/do-not-call.csv'), 'US');
  assert.equal(ex.size, 1);
  await assert.rejects(
    loadDoNotCall(Readable.from(['phone\n4155550101\nnot a number\n']), 'US'),
    (e: unknown) => {
      return e instanceof ContactFileError && e.code === 'invalid_do_not_call' && /line 3/.test(e.message);
    },
  );
  await assert.rejects(
    loadDoNotCall(Readable.from(['a,b\n1,2\n']), 'US'),
    (e: unknown) => e instanceof ContactFileError && e.code === 'no_phone_column',
  );
});

void test('examples/contacts.csv: a realistic demo mix, never a stuck-forever number', async () => {
  const dnc = await loadDoNotCall(path.join(__dirname, '../examples/do-not-call.csv'), 'US');
  const r = ingestContacts(fs.createReadStream(path.join(__dirname, '../examples/contacts.csv')), {
    ...US,
    doNotCall: dnc,
  });
  const contacts = [];
  for await (const b of r.batches) contacts.push(...b.contacts);
  const s = await r.summary;
  assert.ok(s.rows >= 45 && s.rows <= 60);
  assert.deepEqual([s.rejected, s.skipped.duplicate, s.skipped.do_not_call], [1, 1, 1]);
  const tails = contacts.map((c) => Number(c.phone.slice(-2)));
  assert.ok(
    tails.every((t) => t < 98),
    'no number ends in 98–99 (stuck forever in the simulator)',
  );
  const count = (lo: number, hi: number) => tails.filter((t) => t >= lo && t <= hi).length;
  assert.ok(count(0, 49) > contacts.length / 2, 'mostly answered');
  assert.ok(count(50, 72) >= 4, 'several no-answer / voicemail retries');
  assert.ok(count(75, 77) >= 1 && count(75, 77) <= 2, 'one or two wrong numbers');
  assert.equal(count(90, 94), 1, 'one unknown reason');
  assert.equal(count(95, 97), 1, 'one lost webhook');
  assert.ok(contacts.some((c) => c.instructions));
  assert.ok(contacts.some((c) => c.timezone));
});

void test('streaming: 200,000 generated rows are read only as fast as batches are consumed', async () => {
  const TOTAL = 200_000;
  let produced = 0;
  function* rows(): Generator<string> {
    yield 'phone,name,clinic\n';
    for (let i = 0; i < TOTAL; i++) {
      produced++;
      // distinct valid numbers: +1 415 2xx xxxx
      yield `+1415${String(2000000 + i)},Patient ${i},Clinic ${i % 7}\n`;
    }
  }
  const r = ingestContacts(Readable.from(rows()), { ...US, batchSize: 500 });
  let consumed = 0;
  let maxAhead = 0;
  let batches = 0;
  for await (const b of r.batches) {
    consumed += b.contacts.length + b.skipped.length;
    batches++;
    maxAhead = Math.max(maxAhead, produced - consumed);
    // a slow consumer: give the producer every chance to run ahead
    await new Promise((res) => setImmediate(res));
    maxAhead = Math.max(maxAhead, produced - consumed);
  }
  const s = await r.summary;
  assert.equal(s.valid, TOTAL);
  assert.equal(consumed, TOTAL);
  assert.equal(batches, TOTAL / 500);
  // bounded by the batch being filled plus the streams' small buffers, not by the file size
  assert.ok(maxAhead < 5_000, `read ${maxAhead} rows ahead of the consumer`);
});
