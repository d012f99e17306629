import type { CancelReasonCode, LineSource, OrderKind, OrderStatus, PaymentStatus } from '@brewmesh/gen/brewmesh/order/v1/order.ts'

// The values of the contract's enums (proto/brewmesh/order/v1/order.proto), typed against the
// generated types, so domain code names them without loading generated code.
export const Status = { PLACED: 1, PAID: 2, PREPARING: 3, READY: 4, COMPLETED: 5, CANCELLED: 6 } as const satisfies Record<
  string,
  OrderStatus
>
export const Payment = { PENDING: 1, APPROVED: 2, DECLINED: 3, REFUNDED: 4, VOIDED: 5 } as const satisfies Record<string, PaymentStatus>
export const Kind = { SINGLE: 1, GROUP: 2 } as const satisfies Record<string, OrderKind>
export const Source = { MENU: 1, USUAL: 2 } as const satisfies Record<string, LineSource>
export const CancelCode = { CUSTOMER_REQUEST: 1, STAFF_REQUEST: 2, PAYMENT_DECLINED: 3 } as const satisfies Record<string, CancelReasonCode>
