import type { Schemas } from '../api/client';

export type AnalyticsSettings = Schemas['AnalyticsSettingsResponse'];
export type AnalyticsSettingsBody = Schemas['AnalyticsSettingsDto'];

/** One model's own price, as the form holds it: text, as typed. */
export interface ModelPriceDraft {
  /** Tells rows apart while they are added and removed; never sent. */
  readonly rowId: number;
  readonly model: string;
  readonly pricePer1kTokens: string;
}

/** The settings form's values, as typed: numbers stay text until the form is sent. */
export interface SettingsDraft {
  readonly currency: string;
  readonly pricePer1kTokens: string;
  readonly modelPrices: readonly ModelPriceDraft[];
  /** Empty: no budget. */
  readonly monthlyBudget: string;
  readonly hoursFix: string;
  readonly hoursNoop: string;
  readonly minimumGroupSize: string;
}

/**
 * The form's fields by the paths the API's 400 messages name them with. A model price row is
 * `modelPrices.<index>.model` / `.pricePer1kTokens` (the API writes the index quoted:
 * `modelPrices."0".model`; settingsFieldProblems takes the quotes off).
 */
export const SETTINGS_FIELDS = {
  currency: 'currency',
  pricePer1kTokens: 'pricePer1kTokens',
  modelPrices: 'modelPrices',
  monthlyBudget: 'monthlyBudget',
  hoursSaved: 'hoursSavedPerDeliveredChange',
  hoursFix: 'hoursSavedPerDeliveredChange.fix',
  hoursNoop: 'hoursSavedPerDeliveredChange.noop',
  minimumGroupSize: 'minimumGroupSize',
} as const;

export const modelPriceField = (index: number, part: 'model' | 'pricePer1kTokens'): string => `modelPrices.${index}.${part}`;

/** The draft of what the server holds now. */
export function draftFromSettings(settings: AnalyticsSettings): SettingsDraft {
  return {
    currency: settings.currency,
    pricePer1kTokens: String(settings.pricePer1kTokens),
    modelPrices: settings.modelPrices.map((price, index) => ({ rowId: index, model: price.model, pricePer1kTokens: String(price.pricePer1kTokens) })),
    monthlyBudget: settings.monthlyBudget === null ? '' : String(settings.monthlyBudget),
    hoursFix: String(settings.hoursSavedPerDeliveredChange.fix),
    hoursNoop: String(settings.hoursSavedPerDeliveredChange.noop),
    minimumGroupSize: String(settings.minimumGroupSize),
  };
}

/** The next free row id of a draft's model prices. */
export function nextModelRowId(draft: SettingsDraft): number {
  return draft.modelPrices.reduce((highest, row) => Math.max(highest, row.rowId), -1) + 1;
}

const NOT_A_NUMBER = 'enter a number, e.g. 0.5';

/** A typed number, or null when the text is not one. Only the shape is checked here: ranges and decimals are the server's to judge. */
function parseNumber(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/**
 * The PUT body of a draft, or the fields that are not numbers at all (said at once, without
 * a round trip). Everything else — ranges, decimals, the currency code, model names — the
 * server checks, and its 400 names the field.
 */
export function settingsBody(draft: SettingsDraft): { readonly ok: true; readonly body: AnalyticsSettingsBody } | { readonly ok: false; readonly byField: Readonly<Record<string, string>> } {
  const byField: Record<string, string> = {};
  const number = (field: string, text: string): number => {
    const value = parseNumber(text);
    if (value === null) byField[field] = NOT_A_NUMBER;
    return value ?? 0;
  };
  const pricePer1kTokens = number(SETTINGS_FIELDS.pricePer1kTokens, draft.pricePer1kTokens);
  const modelPrices = draft.modelPrices.map((row, index) => ({ model: row.model.trim(), pricePer1kTokens: number(modelPriceField(index, 'pricePer1kTokens'), row.pricePer1kTokens) }));
  const monthlyBudget = draft.monthlyBudget.trim() === '' ? null : number(SETTINGS_FIELDS.monthlyBudget, draft.monthlyBudget);
  const fix = number(SETTINGS_FIELDS.hoursFix, draft.hoursFix);
  const noop = number(SETTINGS_FIELDS.hoursNoop, draft.hoursNoop);
  const minimumGroupSize = number(SETTINGS_FIELDS.minimumGroupSize, draft.minimumGroupSize);
  if (Object.keys(byField).length > 0) return { ok: false, byField };
  return {
    ok: true,
    body: { currency: draft.currency.trim().toUpperCase(), pricePer1kTokens, modelPrices, monthlyBudget, hoursSavedPerDeliveredChange: { fix, noop }, minimumGroupSize },
  };
}

// Problems are joined with "; " and each starts with its field's path, whose parts may be quoted.
const PROBLEM_SEPARATOR = /; (?=[A-Za-z_$"][\w$."]*: )/;
const FIELD_PROBLEM = /^([\w$"]+(?:\.[\w$"]+)*): (.+)$/s;

/**
 * Splits a 400 message of PUT /analytics/settings into the problem of each field the form
 * has — `modelPrices."0".model: expected a model name …` goes to the first row's model — and
 * the rest, which the form shows as a whole.
 */
export function settingsFieldProblems(message: string, draft: SettingsDraft): { readonly byField: Readonly<Record<string, string>>; readonly other: readonly string[] } {
  const known = new Set<string>(Object.values(SETTINGS_FIELDS));
  draft.modelPrices.forEach((_row, index) => {
    known.add(modelPriceField(index, 'model'));
    known.add(modelPriceField(index, 'pricePer1kTokens'));
  });
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const part of message.split(PROBLEM_SEPARATOR)) {
    const match = FIELD_PROBLEM.exec(part);
    const field = match?.[1]?.replace(/"/g, '');
    const problem = match?.[2];
    if (field !== undefined && problem !== undefined && known.has(field)) {
      byField[field] = byField[field] ? `${byField[field]}; ${problem}` : problem;
    } else {
      other.push(part);
    }
  }
  return { byField, other };
}
