import path from 'node:path';

/**
 * The repository's root (the image's /app), from wherever this file runs. From source it sits at
 * <root>/libs/config/src; `npm run build` (tsconfig.build.json) mirrors the source tree one level down, under
 * <root>/dist/, so the compiled file sits at <root>/dist/libs/config/src. Files read at run time (the
 * dashboard's static files, the git-ignored .cache/) stay at the root and are found from either tree.
 */
export function projectRoot(): string {
  const compiled = path.extname(__filename) === '.js';
  return path.resolve(__dirname, ...(compiled ? ['..', '..', '..', '..'] : ['..', '..', '..']));
}
