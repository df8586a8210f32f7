/** Activities of the connection and bundle compat tests. */
export async function greet(name: string): Promise<string> {
  return `Hello, ${name}!`
}
