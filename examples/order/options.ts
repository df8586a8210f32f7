/** Command-line flags shared by the example scripts: `--redis URL` and `--namespace NAME`. */
import type { ConnectionOptions } from "hotmesh"

/** Connection options from argv: the embedded store unless `--redis URL` is given. */
export const connectionOptions = (argv: ReadonlyArray<string>): ConnectionOptions => {
  const flag = (name: string) => {
    const index = argv.indexOf(name)
    return index === -1 ? undefined : argv[index + 1]
  }
  const redis = flag("--redis")
  const namespace = flag("--namespace")
  return {
    ...(namespace === undefined ? {} : { namespace }),
    ...(redis === undefined ? {} : { redis }),
  }
}
