// The dashboard's JSON API, as the pages call it.

/** An API call's failure: its HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message)
    this.status = status
    this.body = body
  }
}

/** GET `path` (or POST `body`); resolves to the JSON reply, rejects with `ApiError`. */
export const api = async (path, body) => {
  const response = await fetch(path, body === undefined
    ? { headers: { accept: "application/json" } }
    : { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) })
  const reply = await response.json().catch(() => ({ error: response.statusText }))
  if (!response.ok) throw new ApiError(response.status, reply.error ?? response.statusText, reply)
  return reply
}
