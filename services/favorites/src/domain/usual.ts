import {
  drinkKey,
  favoriteDrinkKey,
  normalizeSyrups,
  type Favorite,
  type LearnedDrink,
  type Usual,
  type UsualChange,
  type UsualWindow,
} from './favorite.ts'

export function usualWindow(now: Date, days: number): UsualWindow {
  return { startAt: new Date(now.getTime() - days * 86_400_000), endAt: now, days }
}

/**
 * Whether a completed drink is this favorite's drink. Orders carry the resolved customization (the
 * recipe filled in), favorites keep unspecified fields as "as the recipe says": an unspecified
 * size, milk, temperature or sweetness, or no syrups, matches whatever the order resolved it to.
 */
export function isFavoriteDrink(f: Favorite, d: Pick<LearnedDrink, 'menuItemId' | 'customization'>): boolean {
  const a = f.customization
  const b = d.customization
  const loose = (x: number, y: number) => x === 0 || x === y
  return (
    f.menuItemId.toLowerCase() === d.menuItemId.toLowerCase() &&
    loose(a.size, b.size) &&
    loose(a.milk, b.milk) &&
    loose(a.temperature, b.temperature) &&
    loose(a.sweetness, b.sweetness) &&
    a.extraShots === b.extraShots &&
    (a.syrups.length === 0 || normalizeSyrups(a.syrups).join('+') === normalizeSyrups(b.syrups).join('+'))
  )
}

/**
 * "My usual": the pinned favorite if there is one, else the drink completed most often in the
 * window (`learned` comes most completed first, ties most recent first).
 */
export function usualOf(live: readonly Favorite[], learned: readonly LearnedDrink[], window: UsualWindow): Usual | undefined {
  const pinned = live.find((f) => f.pinned)
  if (pinned) {
    const count = learned.filter((d) => isFavoriteDrink(pinned, d)).reduce((sum, d) => sum + d.completedCount, 0)
    return { source: 'pinned', favorite: pinned, completedCount: count, window }
  }
  const top = learned[0]
  if (!top) return undefined
  const favoriteId = live.find((f) => isFavoriteDrink(f, top))?.id ?? ''
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
