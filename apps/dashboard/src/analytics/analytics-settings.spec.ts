import { draftFromSettings, settingsBody, settingsFieldProblems, type AnalyticsSettings } from './analytics-settings';

const settings: AnalyticsSettings = {
  currency: 'EUR',
  pricePer1kTokens: 0.5,
  modelPrices: [{ model: 'qwen-coder', pricePer1kTokens: 0.25 }],
  monthlyBudget: null,
  hoursSavedPerDeliveredChange: { fix: 2, noop: 0 },
  minimumGroupSize: 5,
  updatedAt: null,
};

describe('the analytics settings form', () => {
  it('round-trips the server settings through the draft', () => {
    const draft = draftFromSettings(settings);
    expect(draft.monthlyBudget).toBe('');
    const { updatedAt: _updatedAt, ...body } = settings;
    expect(settingsBody(draft)).toEqual({ ok: true, body });
  });

  it('sends a typed budget, an upper-cased currency and trimmed model names', () => {
    const draft = { ...draftFromSettings(settings), currency: ' usd ', monthlyBudget: '1500.5', modelPrices: [{ rowId: 0, model: ' llama ', pricePer1kTokens: '0.1' }] };
    const result = settingsBody(draft);
    expect(result.ok && result.body).toMatchObject({ currency: 'USD', monthlyBudget: 1500.5, modelPrices: [{ model: 'llama', pricePer1kTokens: 0.1 }] });
  });

  it('says at once which fields are not numbers at all, leaving the rest to the server', () => {
    const draft = { ...draftFromSettings(settings), pricePer1kTokens: 'cheap', minimumGroupSize: '', modelPrices: [{ rowId: 3, model: 'x', pricePer1kTokens: '1e' }] };
    expect(settingsBody(draft)).toEqual({
      ok: false,
      byField: { pricePer1kTokens: 'enter a number, e.g. 0.5', minimumGroupSize: 'enter a number, e.g. 0.5', 'modelPrices.0.pricePer1kTokens': 'enter a number, e.g. 0.5' },
    });
  });

  it('places the server problems at their fields, a model row by its index', () => {
    const draft = draftFromSettings(settings);
    const message =
      'currency: expected an ISO 4217 currency code such as EUR or USD; modelPrices."0".model: expected a model name matching ^[A-Za-z0-9._:/@+-]{1,200}$; ' +
      'hoursSavedPerDeliveredChange.fix: expected a number of hours from 0 to 100 with at most 2 decimals; body: something else';
    expect(settingsFieldProblems(message, draft)).toEqual({
      byField: {
        currency: 'expected an ISO 4217 currency code such as EUR or USD',
        'modelPrices.0.model': 'expected a model name matching ^[A-Za-z0-9._:/@+-]{1,200}$',
        'hoursSavedPerDeliveredChange.fix': 'expected a number of hours from 0 to 100 with at most 2 decimals',
      },
      other: ['body: something else'],
    });
    // A row the form no longer has stays a problem of the whole form.
    expect(settingsFieldProblems('modelPrices."4".model: expected a string', draft).other).toEqual(['modelPrices."4".model: expected a string']);
  });
});
