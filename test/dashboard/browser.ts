/**
 * The browser for the dashboard tests: Debian's `chromium` (or
 * `CHROMIUM_PATH`) driven by playwright-core — no browser download. Missing,
 * it fails in one line saying how to get it.
 */
import { existsSync } from "node:fs"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { type Browser, chromium } from "playwright-core"

/** Where screenshots go (CI keeps the folder). */
export const ARTIFACTS = join(import.meta.dirname, "..", "artifacts", "dashboard")

/** The chromium binary the tests drive. */
export const chromiumPath = (): string => process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

/** Launch headless chromium; a missing binary fails with how to install it. */
export const launchBrowser = async (): Promise<Browser> => {
  const executablePath = chromiumPath()
  if (!existsSync(executablePath)) {
    throw new Error(`the dashboard browser tests need chromium at ${executablePath}: apt-get install chromium (as root), or set CHROMIUM_PATH`)
  }
  mkdirSync(ARTIFACTS, { recursive: true })
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] })
}
