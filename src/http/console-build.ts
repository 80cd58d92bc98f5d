/**
 * Builds the console (web/) into dist/console/ with esbuild: one minified ES module (Preact, htm, uPlot and our
 * pages), one stylesheet, the page. Run by `npm run build:console` and by `npm install` (the `prepare` script);
 * the server also builds it on start when dist/console/ is missing or older than web/. Nothing is fetched at
 * run time: the bundle carries every library, so the console works offline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root';

export const WEB_DIR = path.join(PACKAGE_ROOT, 'web');
export const CONSOLE_DIST = path.join(PACKAGE_ROOT, 'dist', 'console');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Whether dist/console/ is missing or older than the sources under web/. */
export function consoleIsStale(outDir = CONSOLE_DIST): boolean {
  const js = path.join(outDir, 'console.js');
  if (!fs.existsSync(js)) return true;
  if (!fs.existsSync(WEB_DIR)) return false; // an installed copy without sources: keep what was built
  return fs.statSync(js).mtimeMs < newestMtime(WEB_DIR);
}

export async function buildConsole(outDir = CONSOLE_DIST): Promise<{ outDir: string; bytes: number }> {
  if (!fs.existsSync(WEB_DIR))
    throw new Error(`the console is not built (${outDir}) and its sources (${WEB_DIR}) are not here`);
  // esbuild only where the console is built (a checkout): an installed package ships dist/console/ built.
  const { build } = await import('esbuild');
  fs.mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: {
      console: path.join(WEB_DIR, 'src', 'main.ts'),
      styles: path.join(WEB_DIR, 'styles.css'),
    },
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    sourcemap: false,
    legalComments: 'linked',
    logLevel: 'warning',
    write: false,
  });
  // Each file written whole then renamed into place: two servers starting at once never serve half a file.
  const put = (name: string, contents: Uint8Array) => {
    const tmp = path.join(outDir, `.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, path.join(outDir, name));
  };
  let bytes = 0;
  for (const f of result.outputFiles) {
    put(path.basename(f.path), f.contents);
    bytes += f.contents.length;
  }
  put('index.html', fs.readFileSync(path.join(WEB_DIR, 'index.html')));
  return { outDir, bytes };
}

if (require.main === module) {
  buildConsole().then(
    ({ outDir, bytes }) => console.log(`console built into ${outDir} (${Math.round(bytes / 1024)} KiB)`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
