import type { IncomingMessage } from 'node:http'

/**
 * Reads a request body of at most `limit` bytes, for the local stand-ins of the Anthropic API and
 * GitHub. Past the limit nothing more is kept, but the rest is drained (and dropped) so that the
 * client can finish sending and read the answer instead of seeing a reset connection. Each
 * stand-in gives the errors its real service would answer with.
 */
export function readLimitedBody(req: IncomingMessage, limit: number, errors: { tooLarge: () => Error; closed: () => Error }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= limit) {
        chunks.push(chunk)
        return
      }
      req.off('data', onData)
      chunks.length = 0
      req.resume()
      reject(errors.tooLarge())
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', reject)
    // A client that hangs up mid-upload: nobody is left to answer, but the handler must not wait forever.
    // (After 'end' this comes too late to matter: the promise is settled.)
    req.once('close', () => reject(errors.closed()))
  })
}

/** Waits until the client has sent its whole body (or hung up), keeping none of it. */
export function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return Promise.resolve()
  return new Promise((resolve) => {
    req.once('end', resolve)
    req.once('close', resolve)
    req.resume()
  })
}
