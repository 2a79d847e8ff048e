'use strict'
// Tessera's POST /api/v1/public/token on fastify + fast-jwt (ES256), in
// node:cluster workers (BENCH_WORKERS, default 2) on 127.0.0.1:$PORT.
// See README.md; the endpoint's semantics are in common.js.

const Fastify = require('fastify')
const { createSigner } = require('fast-jwt')
const common = require('./common')

common.run('fastify peer', (ctx) => {
  const sign = createSigner({ key: ctx.pem, algorithm: 'ES256', kid: ctx.kid })
  const app = Fastify({ logger: false, bodyLimit: common.MAX_BODY })

  // The body as raw bytes whatever its Content-Type: the handler checks the
  // access token first and the Content-Type after, as Tessera does, and
  // parses strictly (duplicate keys, depth, UTF-8...) in common.parseBody.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => done(null, body))

  const sendRefusal = (reply, err) => {
    const r = common.refusalReply(err)
    return reply.code(r.status).headers(r.headers).send(r.body)
  }
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof common.Refusal) return sendRefusal(reply, err)
    if (err.statusCode === 413) {
      return sendRefusal(reply, new common.Refusal('request_too_large', `request body is larger than ${common.MAX_BODY} bytes`))
    }
    if (err.statusCode >= 400 && err.statusCode < 500) {
      return sendRefusal(reply, new common.Refusal('invalid_request', err.message))
    }
    return sendRefusal(reply, err)
  })
  app.setNotFoundHandler((request, reply) =>
    sendRefusal(reply, new common.Refusal('not_found', 'no such endpoint')))

  app.post('/api/v1/public/token', {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            access_token: { type: 'string' },
            token_type: { type: 'string' },
            expires_in: { type: 'integer' }
          }
        }
      }
    }
  }, (request, reply) => {
    const h = request.headers
    const { claims, expiresIn } = common.tokenRequest(ctx, h.authorization, h['content-type'], request.body)
    const token = sign(claims)
    reply.headers(common.okHeaders())
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn }
  })

  const jwks = JSON.stringify(ctx.jwks)
  app.get('/.well-known/jwks.json', (request, reply) => {
    reply.type('application/json').header('cache-control', 'public, max-age=300').send(jwks)
  })

  app.listen({ host: ctx.host, port: ctx.port }).catch((e) => {
    console.error(`fastify peer: ${e.message}`)
    process.exit(1)
  })
})
