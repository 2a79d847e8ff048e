'use strict'
// Tessera's POST /api/v1/public/token on express + jsonwebtoken (ES256), in
// node:cluster workers (BENCH_WORKERS, default 2) on 127.0.0.1:$PORT.
// See README.md; the endpoint's semantics are in common.js.

const express = require('express')
const jwt = require('jsonwebtoken')
const common = require('./common')

common.run('express peer', (ctx) => {
  const signOptions = { algorithm: 'ES256', keyid: ctx.kid }
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)

  const sendRefusal = (res, err) => {
    const r = common.refusalReply(err)
    res.status(r.status).set(r.headers).json(r.body)
  }

  // The body as raw bytes whatever its Content-Type: the handler checks the
  // access token first and the Content-Type after, as Tessera does, and
  // parses strictly (duplicate keys, depth, UTF-8...) in common.parseBody.
  const rawBody = express.raw({ type: () => true, limit: common.MAX_BODY })

  app.post('/api/v1/public/token', rawBody, (req, res) => {
    try {
      const { claims, expiresIn } = common.tokenRequest(ctx, req.headers.authorization, req.headers['content-type'],
        Buffer.isBuffer(req.body) ? req.body : undefined)
      const token = jwt.sign(claims, ctx.privateKey, signOptions)
      res.set(common.okHeaders()).json({ access_token: token, token_type: 'Bearer', expires_in: expiresIn })
    } catch (err) {
      sendRefusal(res, err)
    }
  })

  const jwks = JSON.stringify(ctx.jwks)
  app.get('/.well-known/jwks.json', (req, res) => {
    res.set('cache-control', 'public, max-age=300').type('application/json').send(jwks)
  })

  app.use((req, res) => sendRefusal(res, new common.Refusal('not_found', 'no such endpoint')))
  app.use((err, req, res, next) => {
    if (err.type === 'entity.too.large' || err.status === 413) {
      return sendRefusal(res, new common.Refusal('request_too_large', `request body is larger than ${common.MAX_BODY} bytes`))
    }
    if (err.status >= 400 && err.status < 500) return sendRefusal(res, new common.Refusal('invalid_request', err.message))
    sendRefusal(res, err)
  })

  const server = app.listen(ctx.port, ctx.host)
  server.on('error', (e) => {
    console.error(`express peer: ${e.message}`)
    process.exit(1)
  })
})
