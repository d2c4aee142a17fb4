export interface CommandEnvOptions {
  /** Give the command only PATH, HOME, LANG, the FANOUT_* variables and `passEnv`. */
  envClean?: boolean;
  /** With `envClean`: more variables of the worker's environment to pass on. */
  passEnv?: string[];
}

/** The environment a command starts from: the worker's own, or with `envClean` only what is named. */
export function baseEnv(options: CommandEnvOptions): NodeJS.ProcessEnv {
  if (!options.envClean) return { ...process.env };
  const keep = new Set(["PATH", "HOME", "LANG", ...(options.passEnv ?? [])]);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => keep.has(name) || name.startsWith("FANOUT_")));
}
