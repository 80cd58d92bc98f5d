/**
 * Free loopback ports for servers this program (or a test) starts and then hands a port to.
 *
 * Picked below 32,768, outside the kernel's ephemeral range (32,768–60,999 here): a port that `listen(0)` found
 * and closed is free again at once, and the next `listen(0)` or outgoing connection anywhere on the machine may
 * be handed it before our server binds it. The Temporal CLI's dev server picks its own internal ports that way
 * while it starts; when one of those lands on the UI port we passed, its UI goroutine panics (exit 2). Below
 * the range only another explicit pick can collide. Also: the cluster stores membership ports in a SMALLINT.
 */
import crypto from 'node:crypto';
import net from 'node:net';

function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** `n` distinct free ports in [low, high), all held open at once while picking so none is handed out twice. */
export async function freePorts(n: number, low = 20_000, high = 32_000): Promise<number[]> {
  const held: net.Server[] = [];
  for (let tries = 0; held.length < n && tries < 50 * n; tries++) {
    const s = await listen(low + crypto.randomInt(high - low));
    if (s) held.push(s);
  }
  if (held.length < n) {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    throw new Error(`found only ${held.length} of ${n} free ports in ${low}-${high}`);
  }
  const ports = held.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
