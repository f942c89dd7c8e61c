/**
 * `${VAR}` and `${VAR:-default}` substitution, applied to string values after the file is parsed,
 * so a secret's characters can never break the YAML. Missing variables are reported by path.
 */
const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: string[] = [],
  /** Receives the path of every value left out for a missing variable (so it is reported once). */
  missingPaths?: Set<string>,
): unknown {
  if (typeof value === 'string') {
    let missing = false;
    const out = value.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing = true;
      problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
      missingPaths?.add(formatPath(path));
      return '';
    });
    return missing ? undefined : out;
  }
  if (Array.isArray(value))
    return value.map((v, i) => substituteEnv(v, env, problems, [...path, String(i)], missingPaths));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, problems, [...path, k], missingPaths);
    return out;
  }
  return value;
}

export function formatPath(path: ReadonlyArray<string | number | symbol>): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}
