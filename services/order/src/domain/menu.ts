import { notFound } from '@brewmesh/runtime/errors'
import { uuidOf } from '@brewmesh/runtime/ids'
import { pageSize, pageTokens, positionOf } from '@brewmesh/runtime/paging'
import type { MenuItem } from './order.ts'
import type { OrderDeps } from './ports.ts'

export interface MenuQuery {
  pageSize: number
  pageToken: string
  /** Only this category, when set. */
  category: string
  availableOnly: boolean
}

/** A page of the menu ends at an index into the filtered menu (the menu is small and changes only by migration). */
const menuPages = pageTokens((raw) => {
  const start = positionOf.integer(raw['start'])
  return start === undefined ? undefined : { start }
})

/** Items a ListMenuItems page holds at most; also the default (0): the whole menu fits one page. */
export const MENU_PAGE_MAX = 100

/** The menu in menu order (category, position, name), filtered: 1 to 100 items a page, 0 means 100. */
export function menuPage(menu: readonly MenuItem[], query: MenuQuery): { items: MenuItem[]; nextPageToken: string } {
  const size = pageSize(query.pageSize, MENU_PAGE_MAX, MENU_PAGE_MAX)
  const filters = [query.category, query.availableOnly]
  const start = menuPages.decode(query.pageToken, filters)?.start ?? 0
  const all = menu.filter((i) => (!query.category || i.category === query.category) && (!query.availableOnly || i.available))
  const end = start + size
  return { items: all.slice(start, end), nextPageToken: end < all.length ? menuPages.encode({ start: end }, filters) : '' }
}

export async function listMenu(deps: OrderDeps, query: MenuQuery) {
  return menuPage(await deps.store.menu(), query)
}

export async function getMenuItem(deps: OrderDeps, id: string): Promise<MenuItem> {
  const item = await deps.store.menuItem(uuidOf(id, 'id'))
  if (!item) throw notFound('menu item', id)
  return item
}
