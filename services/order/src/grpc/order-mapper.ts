import type { OrderLineInput } from '@brewmesh/gen/brewmesh/order/v1/order_service.ts'
import type { LineInput } from '../domain/place-order.ts'

/** An OrderLineInput as the domain reads it. */
export function lineFromProto(l: OrderLineInput): LineInput {
  const item = l.item
  return {
    quantity: l.quantity,
    memberCustomerId: l.memberCustomerId,
    item:
      item?.$case === 'drink'
        ? { kind: 'drink', menuItemId: item.value.menuItemId, customization: item.value.customization }
        : item?.$case === 'usual'
          ? { kind: 'usual' }
          : undefined,
  }
}
