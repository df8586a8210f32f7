/**
 * A Python that can `import redis`, for the tests of the Python reference
 * worker (workers/python): `HOTMESH_PYTHON`, else `/usr/bin/python3` (Debian's
 * `python3-redis` installs there), else `python3` on the PATH. The test
 * setup installs `python3-redis` with apt when root and none is found.
 */
import { spawnSync } from "node:child_process"

const canImportRedis = (python: string): boolean =>
  spawnSync(python, ["-c", "import redis"], { stdio: "ignore" }).status === 0

/** The candidates, best first. */
const candidates = (): ReadonlyArray<string> => [
  ...(process.env["HOTMESH_PYTHON"] ? [process.env["HOTMESH_PYTHON"]] : []),
  "/usr/bin/python3",
  "python3",
]

/** The first candidate that can `import redis`, or undefined. */
export const findPython = (): string | undefined => candidates().find(canImportRedis)

/** How to get one, in one line. */
export const PYTHON_HINT =
  "the Python worker tests need a python3 with redis-py: apt-get install python3-redis (as root; Debian's /usr/bin/python3), or set HOTMESH_PYTHON to a python that can `import redis`"

/** `findPython()`, or throw saying how to get one. */
export const requirePython = (): string => {
  const python = findPython()
  if (python === undefined) throw new Error(PYTHON_HINT)
  return python
}
