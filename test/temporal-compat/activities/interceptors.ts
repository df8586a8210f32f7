/** Activities of the interceptors compat test, as a Temporal user writes them. */
export async function greet(name: string): Promise<string> {
  return `Hello, ${name}`
}
