'use strict'
// The upload baseline of scripts/bench-upload.sh: Fastify 5 with
// @fastify/multipart receiving one file per POST /upload and streaming it to
// a temporary file under UPLOAD_DIR, renamed into place when complete — what
// the media API does, minus the SHA-256, the container sniffing and the
// database. No logger, one Node.js process.
//
//   UPLOAD_DIR=/tmp/up PORT=4912 node server.js
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { pipeline } = require('node:stream/promises')

const dir = process.env.UPLOAD_DIR
if (!dir) {
  console.error('UPLOAD_DIR is required')
  process.exit(2)
}
fs.mkdirSync(dir, { recursive: true })
const maxUpload = Number(process.env.MAX_UPLOAD || 10 * 1024 ** 3)

const app = require('fastify')({ logger: false })
app.register(require('@fastify/multipart'), {
  limits: { fileSize: maxUpload, files: 1, fields: 10, fieldSize: 1000 }
})

app.get('/health', async () => ({ status: 'ok' }))

app.post('/upload', async (req, reply) => {
  const part = await req.file()
  if (!part) {
    return reply.code(400).send({ error: 'no file part' })
  }
  const name = crypto.randomBytes(12).toString('hex')
  const tmp = path.join(dir, `.upload-${name}`)
  const out = fs.createWriteStream(tmp)
  try {
    await pipeline(part.file, out)
  } catch (err) {
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
  if (part.file.truncated) {
    await fs.promises.rm(tmp, { force: true })
    return reply.code(413).send({ error: 'file too large' })
  }
  await fs.promises.rename(tmp, path.join(dir, name))
  return reply.code(201).send({ name, size: out.bytesWritten })
})

app.listen({ host: '127.0.0.1', port: Number(process.env.PORT || 4912) }).catch((err) => {
  console.error(err)
  process.exit(1)
})
