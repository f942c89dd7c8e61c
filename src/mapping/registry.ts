/**
 * The feature/action pairs registered with Distinct. Matching is case-insensitive; what is sent
 * is always the registry's own spelling (DESIGN §3.1).
 */
export class Registry {
  private readonly features = new Map<string, { name: string; actions: Map<string, string> }>();

  constructor(pairs: Readonly<Record<string, readonly string[]>>) {
    for (const [feature, actions] of Object.entries(pairs)) {
      const entry = this.features.get(feature.toLowerCase()) ?? { name: feature, actions: new Map<string, string>() };
      for (const action of actions) entry.actions.set(action.toLowerCase(), action);
      this.features.set(feature.toLowerCase(), entry);
    }
  }

  /** The registered spelling of a pair, or null when it is not registered. */
  resolve(feature: string, action: string): { feature: string; action: string } | null {
    const f = this.features.get(feature.toLowerCase());
    const a = f?.actions.get(action.toLowerCase());
    return f && a ? { feature: f.name, action: a } : null;
  }

  resolveFeature(feature: string): string | null {
    return this.features.get(feature.toLowerCase())?.name ?? null;
  }

  /** Every registered pair, in registry spelling. */
  pairs(): Array<{ feature: string; action: string }> {
    const out: Array<{ feature: string; action: string }> = [];
    for (const f of this.features.values())
      for (const a of f.actions.values()) out.push({ feature: f.name, action: a });
    return out;
  }

  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const f of this.features.values()) out[f.name] = [...f.actions.values()];
    return out;
  }
}
