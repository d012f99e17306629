// The family page: sign in with a development token, see the menu, order "my usual" and watch
// the order's status arrive over the WatchOrder server stream. Bundled by scripts/build-web.ts.
import { ConnectError, createEdgeClients, edgeFieldViolationsOf, type EdgeClients } from '@brewmesh/sdk/edge.ts'
import { OrderStatus } from '@brewmesh/gen/es/brewmesh/order/v1/order_pb.js'

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const show = (id: string, visible: boolean) => (element(id).hidden = !visible)

/** The customer id in a token's `sub` claim; the edge and the services verify the token itself. */
function subjectOf(token: string): string {
  const payload = token.split('.')[1] ?? ''
  const json = atob(payload.replaceAll('-', '+').replaceAll('_', '/'))
  return (JSON.parse(json) as { sub?: string }).sub ?? ''
}

function failed(err: unknown) {
  const error = ConnectError.from(err)
  const fields = edgeFieldViolationsOf(error).map((v) => `${v.field}: ${v.description}`)
  element('error').textContent = [error.rawMessage, ...fields].join('; ')
}

async function showMenu(clients: EdgeClients) {
  const { items } = await clients.orders.listMenuItems({ pageSize: 50, availableOnly: true })
  element('menu').replaceChildren(
    ...items.map((item) => {
      const li = document.createElement('li')
      li.textContent = `${item.name} (${(Number(item.basePrice?.amountMinor ?? 0) / 100).toFixed(2)})`
      return li
    }),
  )
}

async function orderMyUsual(clients: EdgeClients, customerId: string) {
  element('error').textContent = ''
  element('status').replaceChildren()
  const { order } = await clients.orders.placeOrder({
    requestId: crypto.randomUUID(),
    customerId,
    lines: [{ quantity: 1, item: { case: 'usual', value: {} } }],
  })
  element('order').textContent = `Order ${order!.id}`
  element('order').dataset['orderId'] = order!.id
  // The server stream: a snapshot first, then every change until the order is final.
  for await (const change of clients.orders.watchOrder({ id: order!.id })) {
    const status = OrderStatus[change.order!.status]
    const list = element('status')
    if (list.lastElementChild?.textContent === status) continue
    const li = document.createElement('li')
    li.textContent = status
    list.append(li)
  }
}

function signIn() {
  const token = element<HTMLTextAreaElement>('token').value.trim()
  const customerId = subjectOf(token)
  const clients = createEdgeClients({ baseUrl: location.origin, token })
  element('who').textContent = customerId
  show('sign-in', false)
  show('home', true)
  showMenu(clients).catch(failed)
  element('order-usual').onclick = () => void orderMyUsual(clients, customerId).catch(failed)
}

element('sign-in-button').onclick = () => {
  try {
    signIn()
  } catch (err) {
    failed(err)
  }
}
