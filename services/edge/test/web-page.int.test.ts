import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DrinkSize, MilkType } from '@brewmesh/gen/es/brewmesh/common/v1/drink_pb.js'
import { FavoritesService } from '@brewmesh/gen/es/brewmesh/favorites/v1/favorites_service_pb.js'
import { OrderService } from '@brewmesh/gen/es/brewmesh/order/v1/order_service_pb.js'
import { OrderStatus } from '@brewmesh/gen/es/brewmesh/order/v1/order_pb.js'
import { MENU_IDS } from '@brewmesh/order/test/support.ts'
import { HOUSEHOLD, startEdgeOverMesh, type EdgeUnderTest } from './support.ts'

const run = promisify(execFile)

// Debian's chromium (apt-get install chromium; scripts/bootstrap.sh chromium), never a download.
// Without the background-networking flags it keeps calling Google's services from a closed network.
const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let t: EdgeUnderTest
let browser: Browser
beforeAll(async () => {
  await run(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-web.ts')])
  t = await startEdgeOverMesh()
  // playwright gives each launch a fresh temporary --user-data-dir and runs it --headless.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
}, 180_000)
afterAll(async () => {
  await browser?.close()
  await t?.stop()
})

describe('the family web page in a real browser, through the edge', () => {
  it('signs in with a dev token, shows the menu, orders my usual and watches it go PAID -> READY over the server stream', async () => {
    const { customer, token } = await t.newCustomer()
    const favorites = await t.clientAs(FavoritesService, { sub: customer.id, roles: ['customer'], household_id: HOUSEHOLD })
    await favorites.addFavorite({
      requestId: randomUUID(),
      customerId: customer.id,
      menuItemId: MENU_IDS.latte,
      displayName: 'Caffè Latte',
      customization: { size: DrinkSize.MEDIUM, milk: MilkType.OAT },
      pinned: true,
    })
    const barista = await t.clientAs(OrderService, { sub: 'barista-web', roles: ['barista'] })

    const page = await browser.newPage()
    await page.goto(`${t.url}/app/`)
    await page.fill('#token', token)
    await page.click('#sign-in-button')
    await page.locator('#menu li', { hasText: 'Caffè Latte' }).waitFor()

    await page.click('#order-usual')
    const status = page.locator('#status li')
    await status.filter({ hasText: 'PAID' }).waitFor()
    const orderId = (await page.locator('#order').getAttribute('data-order-id'))!
    await barista.advanceOrder({ id: orderId, expectedStatus: OrderStatus.PAID }) // PREPARING
    await status.filter({ hasText: 'PREPARING' }).waitFor()
    await barista.advanceOrder({ id: orderId, expectedStatus: OrderStatus.PREPARING }) // READY
    await status.filter({ hasText: 'READY' }).waitFor()

    const seen = await status.allTextContents()
    expect(seen.slice(seen.indexOf('PAID'))).toEqual(['PAID', 'PREPARING', 'READY'])
    expect(await page.locator('#error').textContent()).toBe('')
  })
})
