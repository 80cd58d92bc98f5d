/** A small seeded PRNG (mulberry32) so every random draw of the simulator is reproducible. */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent streams per concern, so one concern's draws do not shift another's. */
export function rngStream(seed: number, stream: number): Rng {
  return mulberry32((seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0);
}

export function between(rng: Rng, min: number, max: number): number {
  return min + rng() * (max - min);
}
