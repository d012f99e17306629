// The gRPC area of runtime: route tables (what services implement) and what handlers see.
export { messageViolations, type Call, type Handler, type Route, type Routes } from './routes.ts'
export type { Rule, Target } from '../auth/access.ts'
export type { Principal, StaffRole } from '../auth/principal.ts'
export { toServiceError } from './status.ts'
