'use strict'
// A bare Fastify 5 server: the baseline scripts/bench.sh compares the main
// API's GET /api/health against. No plugins, no logger, no response schema:
// one route answering the health JSON, serialized on every request (as the
// Go handler does).
//
//   PORT=4901 HEALTH_BODY='{"status":"healthy",...}' node server.js
//
// HEALTH_BODY is the body the Go API answered (the script passes it), so both
// servers send the same JSON; without it a static body of the same shape is used.

const fastify = require('fastify')({ logger: false })

const port = Number(process.env.PORT || 4901)
const host = process.env.HOST || '127.0.0.1'
const body = process.env.HEALTH_BODY
  ? JSON.parse(process.env.HEALTH_BODY)
  : {
      status: 'healthy',
      service: 'main',
      version: 'dev',
      checks: {
        postgres: { status: 'up', latencyMs: 0.5 },
        redis: { status: 'up', latencyMs: 0.3 }
      }
    }

const health = async () => body
fastify.get('/health', health)
fastify.get('/api/health', health)

fastify.listen({ port, host }).catch((err) => {
  console.error(err)
  process.exit(1)
})

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    fastify.close().then(() => process.exit(0), () => process.exit(1))
  })
}
