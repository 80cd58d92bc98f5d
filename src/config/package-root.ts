/**
 * The package's root folder: the nearest folder up from this file with a package.json. The same answer from the
 * sources (src/config/) and from the compiled package (dist/src/config/), so files shipped beside dist/
 * (examples/, dist/console/, package.json) are found from either.
 */
import fs from 'node:fs';
import path from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** The version in the package's package.json. */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}
