/**
 * The benches' command line: `--name value` flags and `--quick` (each
 * bench's short run).
 */
const argv = process.argv.slice(2)

/** The value after `name` on the command line (`--workflows 200`), if given. */
export const flag = (name: string): string | undefined => {
  const index = argv.indexOf(name)
  return index === -1 ? undefined : argv[index + 1]
}

/** Whether the switch `name` (`--quick`) was given. */
export const has = (name: string): boolean => argv.includes(name)

/** `--quick` was given. */
export const quick = has("--quick")

/** The number after `name`, else `full` (`short` under `--quick`). */
export const num = (name: string, full: number, short = full): number => Number(flag(name) ?? (quick ? short : full))
