/**
 * A contact list from a URL a tenant gave (`source_url`), for a run and for its preview alike: fetched through the
 * outbound-URL guard (src/net/outbound-url.ts: no internal addresses unless allowlisted, the checked address pinned,
 * one deadline, a size cap) and spooled to a private temporary file with its size and encoding checked on every
 * chunk, so nothing is dialed from the head of a list that turns out too large or badly encoded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Utf8Guard } from '../contacts/encoding-guard';
import { fetchList, listUrlError } from '../campaign/list-url';
import { OutboundUrlError, type OutboundOptions } from '../net/outbound-url';
import { PayloadTooLargeError } from './errors';

/** Counts bytes through (413 past `limit`) and checks every chunk is UTF-8 without NUL (400 naming the offset). */
function checkedBytes(limit: number, what: string): Transform {
  let seen = 0;
  const guard = new Utf8Guard();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) {
        cb(
          new PayloadTooLargeError(
            'payload_too_large',
            `${what} is larger than the limit of ${limit} bytes`,
            {
              limit_bytes: limit,
            },
          ),
        );
        return;
      }
      try {
        guard.check(chunk);
        cb(null, chunk);
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        guard.end();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}

export interface Spooled {
  file: string;
  remove(): Promise<void>;
}

/**
 * Writes a contact list to a private temporary file, checking its size and encoding on every chunk, so a list
 * that turns out too large or not UTF-8 far into the stream starts no run (nothing is dialed from its head).
 * Memory stays small whatever the size; the file is removed once the run has read it.
 */
export async function spool(input: Readable, limit: number, what: string): Promise<Spooled> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'unpod-campaigns-list-'));
  const remove = () => fs.promises.rm(dir, { recursive: true, force: true });
  const file = path.join(dir, 'list.csv');
  try {
    await pipeline(input, checkedBytes(limit, what), fs.createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    input.resume();
    await remove();
    throw err;
  }
  return { file, remove };
}

export interface SourceUrlOptions {
  outbound?: OutboundOptions;
  sourceTimeoutMs?: number;
  sourceLimitBytes: number;
}

/** Fetches `url` (src/campaign/list-url.ts, the one fetch of a list) and spools it; errors name why, never what came back. */
export async function openSourceUrl(url: string, o: SourceUrlOptions): Promise<Spooled> {
  const label = 'source_url';
  const body = await fetchList(url, {
    outbound: { ...o.outbound, timeoutMs: o.outbound?.timeoutMs ?? o.sourceTimeoutMs },
    maxBytes: o.sourceLimitBytes,
    label,
  });
  try {
    return await spool(body, o.sourceLimitBytes, label);
  } catch (err) {
    if (err instanceof OutboundUrlError) throw listUrlError(err, { label, maxBytes: o.sourceLimitBytes });
    throw err;
  }
}
