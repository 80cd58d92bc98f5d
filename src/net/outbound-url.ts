/**
 * The outbound-URL guard: every URL a user hands us (a run's `source_url`, a schedule's `--source`, a
 * `callback_url`) goes through here before anything connects to it.
 *
 * - Only http(s), no user:password@ in the URL.
 * - The host is resolved (dns.lookup, all addresses) and EVERY address must be public: loopback, private
 *   (10/8, 172.16/12, 192.168/16), CGNAT (100.64/10), link-local (169.254/16, fe80::/10), ULA (fc00::/7),
 *   multicast, unspecified, broadcast, documentation/benchmark/reserved ranges, and IPv6 forms that embed an
 *   IPv4 address (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96, 2002::/16) judged by that address, are refused —
 *   unless the allowlist (OUTBOUND_ALLOW) names the host, the address or a range holding it. Decimal, octal and
 *   hex spellings of IPv4 (`2130706433`, `0177.0.0.1`) are normalised by the WHATWG URL parser first, so they
 *   are judged as the address they spell.
 * - The connection goes to the address that was checked: the dispatcher's `connect.lookup` answers with it, so
 *   a DNS answer that changes between check and connect (rebinding) cannot move the request elsewhere.
 * - Redirects are followed only within the same origin (and re-checked); one to elsewhere is refused.
 * - One total deadline (headers and the whole body) and a size cap on the body.
 * - Errors say why (refused address kind, timeout, size, status) and never quote what the server sent.
 */
import dns from 'node:dns';
import net from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { AppError } from '../errors';

export type OutboundErrorCode =
  'url_invalid' | 'url_refused' | 'dns_failed' | 'unreachable' | 'timeout' | 'too_large' | 'redirect_refused';

export class OutboundUrlError extends AppError<OutboundErrorCode> {
  override readonly name = 'OutboundUrlError';
  /** Refusals and bad URLs do not get better by retrying; timeouts and network errors may. */
  get retryable(): boolean {
    return this.code === 'unreachable' || this.code === 'timeout' || this.code === 'dns_failed';
  }
}

export type LookupAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface OutboundOptions {
  /**
   * Hosts, addresses and ranges allowed although internal: `crm.internal`, `*.corp.example`, `10.1.2.3`,
   * `10.0.0.0/8`, `fd00::/8`, or `loopback` (127.0.0.0/8 and ::1). Default none.
   */
  allow?: readonly string[];
  /** Resolves a name to all its addresses; default dns.lookup({all: true}). Tests stub it. */
  lookup?: LookupAll;
  /** Total deadline of one fetch (connect, headers and the whole body), ms. Default 30000. */
  timeoutMs?: number;
  /** Largest body read, bytes. Default 50 MiB. */
  maxBytes?: number;
  /** Same-origin redirects followed (GET/HEAD only). Default 3. */
  maxRedirects?: number;
  /** Called with the checked address just before each connection (tests count attempts; may throw to veto). */
  beforeConnect?: (hostname: string, address: string) => void;
}

// ---------- address classification ----------

const V4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private-network address'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private-network address'],
  ['192.0.0.0', 24, 'a reserved (IETF protocol) address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a reserved (6to4 relay) address'],
  ['192.168.0.0', 16, 'a private-network address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved or broadcast address'],
];
const V6_RANGES: [string, number, string][] = [
  ['::', 128, 'the unspecified address'],
  ['::1', 128, 'a loopback address'],
  ['100::', 64, 'a discard-only address'],
  ['2001::', 23, 'a reserved (IETF protocol / Teredo) address'],
  ['2001:db8::', 32, 'a documentation address'],
  ['fc00::', 7, 'a unique-local (ULA) address'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

function blockListOf(ranges: [string, number, string][], type: 'ipv4' | 'ipv6') {
  return ranges.map(([net_, prefix, kind]) => {
    const list = new net.BlockList();
    list.addSubnet(net_, prefix, type);
    return { list, kind };
  });
}
const V4_LISTS = blockListOf(V4_RANGES, 'ipv4');
const V6_LISTS = blockListOf(V6_RANGES, 'ipv6');

/** The 16 bytes of an IPv6 address (as net.isIPv6 accepts it, zone id stripped). */
function ipv6Bytes(address: string): number[] {
  let a = address.split('%')[0]!;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    a = a.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, rest] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
  if (dotted) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if it carries one. */
export function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number) => b.slice(at, at + 4).join('.');
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12); // ::ffff:a.b.c.d
  if (zero(0, 12) && !zero(12, 16) && !(zero(12, 15) && b[15] === 1)) return v4(12); // ::a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12); // 64:ff9b::
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2); // 2002:aabb:ccdd::
  return undefined;
}

/** Why an address may not be reached ("a private-network address"), or undefined when it is public. */
export function forbiddenKind(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 4) return V4_LISTS.find((r) => r.list.check(address, 'ipv4'))?.kind;
  if (family === 6) {
    const bare = address.split('%')[0]!;
    const inner = embeddedIpv4(bare);
    if (inner !== undefined) {
      const kind = forbiddenKind(inner);
      return kind ? `${kind} (embedded in an IPv6 address)` : undefined;
    }
    return V6_LISTS.find((r) => r.list.check(bare, 'ipv6'))?.kind;
  }
  return 'not an IP address';
}

// ---------- the allowlist ----------

export class OutboundAllowList {
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly ranges = new net.BlockList();

  constructor(entries: readonly string[] = []) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      if (!e) continue;
      if (e === 'loopback') {
        this.ranges.addSubnet('127.0.0.0', 8, 'ipv4');
        this.ranges.addAddress('::1', 'ipv6');
        continue;
      }
      const slash = e.indexOf('/');
      if (slash > 0) {
        const ip = e.slice(0, slash);
        const prefix = Number(e.slice(slash + 1));
        const family = net.isIP(ip);
        if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
          throw new Error(`OUTBOUND_ALLOW entry '${raw}' is not a CIDR range such as 10.0.0.0/8`);
        this.ranges.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      } else if (net.isIP(e.replace(/^\[|\]$/g, ''))) {
        const ip = e.replace(/^\[|\]$/g, '');
        this.ranges.addAddress(ip, net.isIP(ip) === 4 ? 'ipv4' : 'ipv6');
      } else if (e.startsWith('*.')) {
        this.suffixes.push(e.slice(1));
      } else if (/^[a-z0-9.-]+$/.test(e)) {
        this.hosts.add(e.replace(/\.$/, ''));
      } else {
        throw new Error(`OUTBOUND_ALLOW entry '${raw}' is not a host name, an IP address or a CIDR range`);
      }
    }
  }

  allowsHost(hostname: string): boolean {
    const h = hostname.toLowerCase().replace(/\.$/, '');
    return this.hosts.has(h) || this.suffixes.some((s) => h.endsWith(s));
  }

  allowsAddress(address: string): boolean {
    const bare = address.split('%')[0]!;
    const family = net.isIP(bare);
    if (!family) return false;
    if (this.ranges.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return true;
    const inner = family === 6 ? embeddedIpv4(bare) : undefined;
    return inner !== undefined && this.ranges.check(inner, 'ipv4');
  }
}

// ---------- checking a URL ----------

export interface CheckedTarget {
  url: URL;
  /** The hostname as the URL names it (brackets stripped). */
  hostname: string;
  /** The addresses that were checked; connections go to these only. */
  addresses: { address: string; family: 4 | 6 }[];
}

const defaultLookup: LookupAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** What to show of a URL in an error: scheme, host and port, never credentials, path or query. */
export function describeUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

export async function checkOutboundUrl(
  raw: string | URL,
  o: OutboundOptions & { allowList?: OutboundAllowList } = {},
): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : new URL(raw.href);
  } catch {
    throw new OutboundUrlError('url_invalid', 'the URL cannot be parsed');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OutboundUrlError('url_invalid', `only http and https URLs are fetched, not ${url.protocol}`);
  if (url.username || url.password)
    throw new OutboundUrlError('url_refused', 'URLs with user:password@ are refused (send no credentials)');
  const allow = o.allowList ?? new OutboundAllowList(o.allow);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const where = describeUrl(url);

  let addresses: { address: string; family: number }[];
  if (net.isIP(hostname)) {
    addresses = [{ address: hostname, family: net.isIP(hostname) }];
  } else {
    if (!hostname) throw new OutboundUrlError('url_invalid', 'the URL has no host');
    try {
      addresses = await (o.lookup ?? defaultLookup)(hostname);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new OutboundUrlError(
        'dns_failed',
        `${where}: the host name does not resolve (${code ?? 'error'})`,
      );
    }
    if (addresses.length === 0)
      throw new OutboundUrlError('dns_failed', `${where}: the host name has no address`);
  }
  if (!allow.allowsHost(hostname)) {
    for (const a of addresses) {
      const kind = forbiddenKind(a.address);
      if (kind && !allow.allowsAddress(a.address)) {
        const what = net.isIP(hostname) ? `${hostname} is` : `${hostname} resolves to`;
        throw new OutboundUrlError(
          'url_refused',
          `${where}: refused, ${what} ${kind}; name it in OUTBOUND_ALLOW to allow it`,
        );
      }
    }
  }
  return {
    url,
    hostname,
    addresses: addresses.map((a) => ({ address: a.address, family: net.isIP(a.address) === 6 ? 6 : 4 })),
  };
}

// ---------- fetching ----------

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/** An undici Agent that connects only to the checked addresses, whatever DNS says by then. */
function pinnedAgent(target: CheckedTarget, o: OutboundOptions): Agent {
  const lookup = (_host: string, opts: { all?: boolean; family?: number }, cb: LookupCallback) => {
    const wanted =
      opts.family === 4 || opts.family === 6
        ? target.addresses.filter((a) => a.family === opts.family)
        : target.addresses;
    const list = wanted.length ? wanted : target.addresses;
    if (opts.all) cb(null, list);
    else cb(null, list[0]!.address, list[0]!.family);
  };
  const connector = buildConnector({ lookup } as unknown as buildConnector.BuildOptions);
  return new Agent({
    connections: 1,
    connect: (opts, cb) => {
      try {
        o.beforeConnect?.(target.hostname, target.addresses[0]!.address);
      } catch (err) {
        cb(err as Error, null);
        return;
      }
      return connector(opts, cb);
    },
  });
}

/** Counts bytes through; errors past `limit`. */
function byteCap(limit: number, where: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit)
        cb(
          new OutboundUrlError('too_large', `${where}: the body is larger than the limit of ${limit} bytes`),
        );
      else cb(null, chunk);
    },
  });
}

export interface OutboundRequest {
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Capped at maxBytes and cut at the deadline; consume or destroy it. */
  body: Readable;
  /** The URL answered (after same-origin redirects). */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Drops a body unread (its abort error is expected, not an uncaught one). */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function mapError(err: unknown, where: string, timedOut: boolean): OutboundUrlError {
  if (err instanceof OutboundUrlError) return err;
  if (timedOut) return new OutboundUrlError('timeout', `${where}: no complete answer within the deadline`);
  const e = err as NodeJS.ErrnoException;
  return new OutboundUrlError(
    'unreachable',
    `${where}: could not be reached (${e.code ?? e.name ?? 'error'})`,
  );
}

/**
 * Fetches a user-given URL through the guard. Resolves once the headers are in; the body stream is capped and
 * bounded by the same deadline. Throws OutboundUrlError.
 */
export async function fetchOutbound(
  raw: string | URL,
  req: OutboundRequest = {},
  o: OutboundOptions = {},
): Promise<OutboundResponse> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const maxBytes = o.maxBytes ?? 50 * 1024 * 1024;
  const maxRedirects = o.maxRedirects ?? 3;
  const allowList = new OutboundAllowList(o.allow);
  const method = req.method ?? 'GET';
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort(new OutboundUrlError('timeout', 'deadline'));
  }, timeoutMs);
  const onCallerAbort = () => deadline.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const cleanup = () => {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCallerAbort);
  };

  let url: string | URL = raw;
  const agents: Agent[] = [];
  const closeAgents = () => {
    for (const a of agents) void a.destroy().catch(() => undefined);
  };
  try {
    for (let hop = 0; ; hop++) {
      const target = await checkOutboundUrl(url, { ...o, allowList });
      const where = describeUrl(target.url);
      const agent = pinnedAgent(target, o);
      agents.push(agent);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(target.url, {
          method,
          headers: req.headers,
          body: req.body,
          dispatcher: agent,
          signal: deadline.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (err) {
        throw mapError(err, where, timedOut);
      }
      if (REDIRECTS.has(res.statusCode) && res.headers.location) {
        discard(res.body);
        const location = String(res.headers.location);
        let next: URL;
        try {
          next = new URL(location, target.url);
        } catch {
          throw new OutboundUrlError('redirect_refused', `${where}: redirects to an unparseable location`);
        }
        if (next.origin !== target.url.origin)
          throw new OutboundUrlError(
            'redirect_refused',
            `${where}: redirects to another origin (${describeUrl(next)}), which is not followed`,
          );
        if (method !== 'GET' && method !== 'HEAD')
          throw new OutboundUrlError('redirect_refused', `${where}: a ${method} is not redirected`);
        if (hop >= maxRedirects)
          throw new OutboundUrlError('redirect_refused', `${where}: more than ${maxRedirects} redirects`);
        url = next;
        continue;
      }
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > maxBytes) {
        discard(res.body);
        throw new OutboundUrlError(
          'too_large',
          `${where}: the body is ${length} bytes, over the limit of ${maxBytes}`,
        );
      }
      const capped = byteCap(maxBytes, where);
      res.body.on('error', (err) => capped.destroy(mapError(err, where, timedOut)));
      res.body.pipe(capped);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        cleanup();
        closeAgents();
      };
      capped.once('end', finish).once('close', finish).once('error', finish);
      return { statusCode: res.statusCode, headers: res.headers, body: capped, url: target.url };
    }
  } catch (err) {
    cleanup();
    closeAgents();
    throw err;
  }
}

/** Reads a response body to its end (within the cap and the deadline) and drops it. */
export async function drain(body: Readable): Promise<void> {
  for await (const _ of body) void _;
}

/** OUTBOUND_ALLOW as a list. */
export function parseAllowList(value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  new OutboundAllowList(entries); // throws naming a bad entry
  return entries;
}
