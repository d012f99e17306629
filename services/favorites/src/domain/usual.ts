import { drinkKey, favoriteDrinkKey, type Favorite, type LearnedDrink, type Usual, type UsualChange, type UsualWindow } from './favorite.ts'

export function usualWindow(now: Date, days: number): UsualWindow {
  return { startAt: new Date(now.getTime() - days * 86_400_000), endAt: now, days }
}

/**
 * "My usual": the pinned favorite if there is one, else the drink completed most often in the
 * window (`learned` comes most completed first, ties most recent first).
 */
export function usualOf(live: readonly Favorite[], learned: readonly LearnedDrink[], window: UsualWindow): Usual | undefined {
  const pinned = live.find((f) => f.pinned)
  if (pinned) {
    const key = favoriteDrinkKey(pinned)
    const count = learned.find((d) => drinkKey(d.menuItemId, d.customization) === key)?.completedCount ?? 0
    return { source: 'pinned', favorite: pinned, completedCount: count, window }
  }
  const top = learned[0]
  if (!top) return undefined
  const key = drinkKey(top.menuItemId, top.customization)
  const favoriteId = live.find((f) => favoriteDrinkKey(f) === key)?.id ?? ''
  return { source: 'learned', learned: { ...top, favoriteId }, completedCount: top.completedCount, window }
}

/** What makes two usuals "the same usual" for UsualChanged: the source, the favorite and the drink. */
function identity(u: Usual | undefined): string {
  if (!u) return ''
  return u.source === 'pinned'
    ? `pinned:${u.favorite.id}:${favoriteDrinkKey(u.favorite)}`
    : `learned:${drinkKey(u.learned.menuItemId, u.learned.customization)}`
}

/** The UsualChanged an operation causes, or undefined when the usual stayed the same. */
export function usualChange(
  previous: Usual | undefined,
  usual: Usual | undefined,
  removedIds: ReadonlySet<string>,
): UsualChange | undefined {
  if (identity(previous) === identity(usual)) return undefined
  const before = previous?.source === 'pinned' ? previous.favorite : undefined
  const after = usual?.source === 'pinned' ? usual.favorite : undefined
  if (after && before?.id === after.id) return { cause: 'pinned_updated', previous, usual }
  if (after) return { cause: 'pinned', previous, usual }
  if (before) return { cause: removedIds.has(before.id) ? 'pinned_removed' : 'unpinned', previous, usual }
  return { cause: 'learned', previous, usual }
}
