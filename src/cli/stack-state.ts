/**
 * Where a running `npm start` says what it listens on, so a CLI in another terminal finds a stack started with
 * port overrides: `$UNPOD_STATE_DIR/stack.json`, else `$XDG_STATE_HOME/unpod-campaigns/stack.json` (default
 * `~/.local/state/…`). Written when the stack is up, removed when it stops; a file whose pid is gone is ignored.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const stackStateSchema = z.object({
  pid: z.number().int().positive(),
  temporalAddress: z.string().min(1),
  namespace: z.string().min(1),
  httpUrl: z.string().min(1),
  simulatorUrl: z.string().optional(),
  metricsUrl: z.string().optional(),
  startedAt: z.string(),
});
export type StackState = z.infer<typeof stackStateSchema>;

export function stackStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const dir =
    env.UNPOD_STATE_DIR ||
    path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'unpod-campaigns');
  return path.join(dir, 'stack.json');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeStackState(state: StackState, env: NodeJS.ProcessEnv = process.env): string {
  const file = stackStatePath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** The running stack's state, or undefined (no file, unreadable, or its process is gone). */
export function readStackState(env: NodeJS.ProcessEnv = process.env): StackState | undefined {
  try {
    const parsed = stackStateSchema.safeParse(JSON.parse(fs.readFileSync(stackStatePath(env), 'utf8')));
    if (parsed.success && pidAlive(parsed.data.pid)) return parsed.data;
  } catch {
    // no stack recorded
  }
  return undefined;
}

/** Removes the file if it is still this process's. */
export function clearStackState(pid = process.pid, env: NodeJS.ProcessEnv = process.env): void {
  const file = stackStatePath(env);
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number };
    if (s.pid === pid) fs.rmSync(file, { force: true });
  } catch {
    // nothing to remove
  }
}
