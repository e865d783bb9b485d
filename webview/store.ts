/**
 * A small store: one state object, replaced (never mutated) by `update`, the one place it changes. Whoever shows a
 * part of it `watch`es the slices it reads and renders when one of them changes (compared by identity), at once,
 * before `update` returns: the page's DOM follows the state synchronously, as a handler's own DOM writes did.
 */
export class Store<S extends object> {
  private current: S;
  private readonly watchers: (() => void)[] = [];

  /** `reconcile` keeps rules that tie fields together (a cache emptied when what it describes changes). */
  constructor(
    initial: S,
    private readonly reconcile: (next: S, previous: S, change: Partial<S>) => S = (next) => next,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  /** The one way the state changes: the fields in `change` replace the state's; every watcher then looks. */
  update(change: Partial<S>): void {
    const previous = this.current;
    this.current = this.reconcile({ ...previous, ...change }, previous, change);
    // A watcher may update in turn: each compares with what it last rendered, so none renders a state twice.
    for (const watcher of this.watchers) watcher();
  }

  /**
   * Render now, and again whenever a slice that `select` returns (a tuple) changes; `previous` is what was rendered
   * last time (undefined the first time), so a card can tell which slice changed.
   */
  watch<T extends unknown[]>(select: (state: S) => [...T], render: (slices: T, previous: T | undefined, state: S) => void): void {
    let last: T | undefined;
    const look = () => {
      const slices = select(this.current);
      if (last !== undefined && slices.length === last.length && slices.every((s, k) => Object.is(s, last![k]))) return;
      const previous = last;
      last = slices;
      render(slices, previous, this.current);
    };
    this.watchers.push(look);
    look();
  }
}
