'use strict'
// Fastify 5 + pg: the baseline scripts/bench-influence.sh compares the main
// API's GET /api/public/campaigns/:slug against. It does what the Go handler
// does for a campaign without custom recipients: check the slug's shape, read
// the one campaign row by slug (a prepared statement, as pgx caches one),
// and answer the same JSON — byte for byte, which the script checks. No
// plugins, no logger, no response schema.
//
//   PORT=4911 DATABASE_URL=postgres://… PG_POOL_MAX=20 node server.js

const fastify = require('fastify')({ logger: false })
const { Pool, types } = require('pg')

const port = Number(process.env.PORT || 4911)
const host = process.env.HOST || '127.0.0.1'

// timestamptz as Go's encoding/json writes a time.Time in UTC (RFC 3339,
// fractional seconds without trailing zeros). The session runs in UTC.
types.setTypeParser(1184, (s) => {
  const [date, rest] = s.split(' ')
  let time = rest.replace(/\+00(:00)?$/, '')
  if (time.includes('.')) time = time.replace(/0+$/, '').replace(/\.$/, '')
  return date + 'T' + time + 'Z'
})

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PG_POOL_MAX || 20),
  options: '-c TimeZone=UTC'
})

// The same columns the Go store reads (storage.campaignColumns).
const byslug = {
  name: 'campaign-by-slug',
  text: `SELECT id, slug, title, description, email_subject, email_body, call_to_action, cover_photo,
    status, target_government_levels, allow_smtp_email, allow_mailto_link, collect_user_info, show_email_count,
    show_call_count, allow_email_editing, allow_custom_recipients, show_response_wall, highlight_campaign,
    email_count, call_count, created_by, created_at, updated_at
    FROM campaigns WHERE slug = $1`
}
const recipients = {
  name: 'campaign-recipients',
  text: 'SELECT id, name, title, email FROM campaign_recipients WHERE campaign_id = $1 ORDER BY id'
}

const slugShape = /^[a-z0-9]+(-[a-z0-9]+)*$/
const notFound = { error: { code: 'not_found', message: 'no such campaign', details: [] } }

const mailto = (to, subject, body) => {
  const enc = (s) => encodeURIComponent(s)
  return 'mailto:' + enc(to) + '?subject=' + enc(subject) + '&body=' + enc(body)
}

fastify.get('/api/public/campaigns/:slug', async (req, reply) => {
  const slug = req.params.slug
  if (slug.length > 100 || !slugShape.test(slug)) {
    reply.code(404)
    return notFound
  }
  const { rows } = await pool.query({ ...byslug, values: [slug] })
  const c = rows[0]
  if (!c || (c.status !== 'ACTIVE' && c.status !== 'PAUSED')) {
    reply.code(404)
    return notFound
  }
  // Field order as the Go structs declare them.
  const out = {
    slug: c.slug,
    title: c.title,
    description: c.description,
    callToAction: c.call_to_action,
    coverPhoto: c.cover_photo,
    status: c.status,
    targetGovernmentLevels: c.target_government_levels
  }
  out.highlightCampaign = c.highlight_campaign
  if (c.show_email_count) out.emailCount = c.email_count
  if (c.show_call_count) out.callCount = c.call_count
  out.createdAt = c.created_at
  out.emailSubject = c.email_subject
  out.emailBody = c.email_body
  out.allowSmtpEmail = c.allow_smtp_email
  out.allowMailtoLink = c.allow_mailto_link
  out.collectUserInfo = c.collect_user_info
  out.allowEmailEditing = c.allow_email_editing
  out.allowCustomRecipients = c.allow_custom_recipients
  out.showResponseWall = c.show_response_wall
  out.customRecipients = []
  if (c.allow_custom_recipients) {
    const recs = await pool.query({ ...recipients, values: [c.id] })
    for (const r of recs.rows) {
      const pr = { id: Number(r.id), name: r.name, title: r.title }
      if (c.allow_mailto_link) {
        pr.email = r.email
        pr.mailto = mailto(r.email, c.email_subject, c.email_body)
      }
      out.customRecipients.push(pr)
    }
  }
  return { campaign: out }
})

fastify.listen({ port, host }).catch((err) => {
  console.error(err)
  process.exit(1)
})

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    fastify.close().then(() => pool.end()).then(() => process.exit(0), () => process.exit(1))
  })
}
