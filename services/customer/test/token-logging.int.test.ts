import { Writable } from 'node:stream'
import { credentials } from '@grpc/grpc-js'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { CustomerServiceService } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import { createClient } from '@brewmesh/sdk/client.ts'
import { bearer, testIssuer } from '@brewmesh/testkit/tokens.ts'
import { migrateCustomer, startApp } from '../src/app.ts'
import { readConfig } from '../src/config.ts'
import { cleanup, customerEnv, newCustomerRequest, STAFF } from './support.ts'

const env = customerEnv({ LOG_LEVEL: 'trace' })
afterAll(() => cleanup(env))

describe('logs', () => {
  it('never contain the bearer token, whether it is accepted, refused or malformed', async () => {
    let output = ''
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString()
        done()
      },
    })
    const issuer = await testIssuer()
    const config = readConfig({ ...issuer.env, ...env })
    const log = pino({ level: 'trace' }, sink)
    await migrateCustomer(config, log)
    const app = await startApp(config, { log })
    const good = await issuer.mint(STAFF)
    const expired = await issuer.mint(STAFF, { expiresIn: -600 })
    const address = `127.0.0.1:${app.grpcPort}`
    try {
      for (const token of [good, expired, `${good.slice(0, -3)}xyz`]) {
        const client = createClient(CustomerServiceService, address, credentials.createInsecure(), { interceptors: [bearer(token)] })
        await client.createCustomer(newCustomerRequest()).catch(() => undefined)
        await client.getCustomer({ id: 'not-a-uuid' }).catch(() => undefined)
        client.close()
      }
    } finally {
      await app.stop()
    }
    expect(output).toContain('call refused') // the refusals were logged...
    for (const token of [good, expired]) {
      expect(output).not.toContain(token) // ...without the token or its signature
      expect(output).not.toContain(token.split('.')[2]!)
    }
  })
})
