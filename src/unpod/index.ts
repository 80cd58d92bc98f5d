/** The Unpod boundary: typed client, its errors, the zod schemas, paths and end reasons. */
export * from './client';
export * from './errors';
export * from './schemas';
export * from './paths';
export * from './end-reasons';
