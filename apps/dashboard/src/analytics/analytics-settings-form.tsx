import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { problemOf, unreachableProblem } from '../api/problems';
import { settle, useApiResource } from '../api/api-resource';
import { FieldError, FormProblem } from '../ui/form';
import { formatTime } from '../ui/format';
import {
  draftFromSettings,
  modelPriceField,
  nextModelRowId,
  SETTINGS_FIELDS,
  settingsBody,
  settingsFieldProblems,
  type AnalyticsSettings,
  type SettingsDraft,
} from './analytics-settings';

/**
 * The assumptions the figures are computed with (analytics:write): currency, prices per
 * 1,000 tokens, the monthly budget, hours saved per delivered change, the minimum group size.
 * It reads what the server holds when it opens; the server checks every value, and its 400
 * is shown at the field it names.
 */
export function AnalyticsSettingsPanel({ id, onSaved, onClose }: { readonly id: string; readonly onSaved: () => void; readonly onClose: () => void }) {
  const headingId = useId();
  const settings = useApiResource('analytics-settings', () => settle(api.GET('/api/v1/analytics/settings')));
  return (
    <section id={id} className="panel analytics-settings" aria-labelledby={headingId}>
      <h2 id={headingId}>Analytics settings</h2>
      {settings.problem ? (
        <p className="form-problem" role="alert">
          {settings.problem.message}
        </p>
      ) : null}
      {settings.data ? (
        <SettingsForm settings={settings.data} onSaved={onSaved} onClose={onClose} />
      ) : settings.loading ? (
        <p aria-busy="true">Loading the settings…</p>
      ) : null}
    </section>
  );
}

function SettingsForm({ settings, onSaved, onClose }: { readonly settings: AnalyticsSettings; readonly onSaved: () => void; readonly onClose: () => void }) {
  const id = useId();
  const [draft, setDraft] = useState<SettingsDraft>(() => draftFromSettings(settings));
  const [saved, setSaved] = useState<AnalyticsSettings>(settings);
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  // Counts refusals: after each is drawn, the first field it names takes the focus, so the keyboard lands where the fix is.
  const [refusals, setRefusals] = useState(0);
  useEffect(() => {
    if (refusals > 0) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusals]);
  const focusFirstProblem = () => setRefusals((count) => count + 1);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setProblem(null);
    setOutcome(null);
    const checked = settingsBody(draft);
    if (!checked.ok) {
      setByField(checked.byField);
      focusFirstProblem();
      return;
    }
    setByField({});
    setBusy(true);
    try {
      const { data, response, error } = await api.PUT('/api/v1/analytics/settings', { body: checked.body });
      if (data) {
        setSaved(data);
        setDraft(draftFromSettings(data));
        setOutcome('Saved. The figures on this page now use these settings.');
        onSaved();
        return;
      }
      const refused = problemOf(response, error);
      const split = response.status === 400 ? settingsFieldProblems(refused.message, draft) : { byField: {}, other: [refused.message] };
      setByField(split.byField);
      setProblem(split.other.length > 0 ? split.other.join('; ') : null);
      focusFirstProblem();
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const set = (field: Exclude<keyof SettingsDraft, 'modelPrices'>) => (event: { target: { value: string } }) => setDraft((current) => ({ ...current, [field]: event.target.value }));

  /** The props that tie an input to its label, hint and problem. */
  const described = (field: string, inputId: string, hint: boolean) => ({
    id: inputId,
    'aria-invalid': byField[field] ? true : undefined,
    'aria-describedby': [hint ? `${inputId}-hint` : '', byField[field] ? `${inputId}-error` : ''].filter(Boolean).join(' ') || undefined,
  });

  const updateModelRow = (rowId: number, change: Partial<{ model: string; pricePer1kTokens: string }>) =>
    setDraft((current) => ({ ...current, modelPrices: current.modelPrices.map((row) => (row.rowId === rowId ? { ...row, ...change } : row)) }));

  const addModelRow = () => {
    setDraft((current) => ({ ...current, modelPrices: [...current.modelPrices, { rowId: nextModelRowId(current), model: '', pricePer1kTokens: '' }] }));
    // The new row's model field takes the focus once it exists.
    window.setTimeout(() => form.current?.querySelector<HTMLInputElement>('.model-price-row:last-child input')?.focus(), 0);
  };

  const removeModelRow = (rowId: number) => {
    setDraft((current) => ({ ...current, modelPrices: current.modelPrices.filter((row) => row.rowId !== rowId) }));
    // Problems are placed by row index: once rows move, the old places no longer hold.
    setByField({});
    window.setTimeout(() => form.current?.querySelector<HTMLButtonElement>('.add-model-price')?.focus(), 0);
  };

  const currencyNow = draft.currency.trim().toUpperCase() || saved.currency;

  return (
    <form ref={form} className="grid-form settings-form" noValidate onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
      <p className="wide field-hint">
        {saved.updatedAt ? `Last changed ${formatTime(saved.updatedAt)}.` : 'These are the defaults: nobody has changed them yet.'} Every figure on this page is computed
        with them, past days included.
      </p>
      <div className="field">
        <label htmlFor={`${id}-currency`}>Currency</label>
        <input {...described(SETTINGS_FIELDS.currency, `${id}-currency`, true)} type="text" autoComplete="off" spellCheck={false} maxLength={3} value={draft.currency} onChange={set('currency')} />
        <p className="field-hint" id={`${id}-currency-hint`}>
          ISO 4217 code: EUR, USD, GBP … Prices and the budget are in it.
        </p>
        <FieldError id={`${id}-currency-error`} problem={byField[SETTINGS_FIELDS.currency]} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-price`}>Price per 1,000 tokens</label>
        <input {...described(SETTINGS_FIELDS.pricePer1kTokens, `${id}-price`, true)} type="text" inputMode="decimal" autoComplete="off" value={draft.pricePer1kTokens} onChange={set('pricePer1kTokens')} />
        <p className="field-hint" id={`${id}-price-hint`}>
          In {currencyNow}, prompt and completion tokens alike, for every model without a price of its own.
        </p>
        <FieldError id={`${id}-price-error`} problem={byField[SETTINGS_FIELDS.pricePer1kTokens]} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-budget`}>Monthly budget</label>
        <input {...described(SETTINGS_FIELDS.monthlyBudget, `${id}-budget`, true)} type="text" inputMode="decimal" autoComplete="off" value={draft.monthlyBudget} onChange={set('monthlyBudget')} />
        <p className="field-hint" id={`${id}-budget-hint`}>
          In {currencyNow}, for the whole organisation&apos;s model tokens per calendar month (UTC). Leave it empty for no budget.
        </p>
        <FieldError id={`${id}-budget-error`} problem={byField[SETTINGS_FIELDS.monthlyBudget]} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-group`}>Minimum group size</label>
        <input {...described(SETTINGS_FIELDS.minimumGroupSize, `${id}-group`, true)} type="text" inputMode="numeric" autoComplete="off" value={draft.minimumGroupSize} onChange={set('minimumGroupSize')} />
        <p className="field-hint" id={`${id}-group-hint`}>
          A repository, pool, model or rule with fewer jobs is merged into “Other”, so no small group can be singled out.
        </p>
        <FieldError id={`${id}-group-error`} problem={byField[SETTINGS_FIELDS.minimumGroupSize]} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-hours-fix`}>Hours saved per delivered fix</label>
        <input {...described(SETTINGS_FIELDS.hoursFix, `${id}-hours-fix`, true)} type="text" inputMode="decimal" autoComplete="off" value={draft.hoursFix} onChange={set('hoursFix')} />
        <p className="field-hint" id={`${id}-hours-fix-hint`}>
          The engineering time one delivered fix saves, as your organisation estimates it. The page shows it beside the hours saved.
        </p>
        <FieldError id={`${id}-hours-fix-error`} problem={byField[SETTINGS_FIELDS.hoursFix] ?? byField[SETTINGS_FIELDS.hoursSaved]} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-hours-noop`}>Hours saved per delivered noop job</label>
        <input {...described(SETTINGS_FIELDS.hoursNoop, `${id}-hours-noop`, true)} type="text" inputMode="decimal" autoComplete="off" value={draft.hoursNoop} onChange={set('hoursNoop')} />
        <p className="field-hint" id={`${id}-hours-noop-hint`}>
          A noop job is a probe and never delivers a change; the API keeps a figure for every job kind.
        </p>
        <FieldError id={`${id}-hours-noop-error`} problem={byField[SETTINGS_FIELDS.hoursNoop]} />
      </div>
      <fieldset className="wide model-prices" aria-describedby={`${id}-models-hint${byField[SETTINGS_FIELDS.modelPrices] ? ` ${id}-models-error` : ''}`}>
        <legend>Prices of particular models</legend>
        <p className="field-hint" id={`${id}-models-hint`}>
          A model named here, as workers report it, is priced at its own rate instead.
        </p>
        {draft.modelPrices.length === 0 ? <p className="muted">No model has a price of its own.</p> : null}
        <ul className="plain-list">
          {draft.modelPrices.map((row, index) => {
            const modelField = modelPriceField(index, 'model');
            const priceField = modelPriceField(index, 'pricePer1kTokens');
            const rowNumber = index + 1;
            return (
              <li key={row.rowId} className="model-price-row">
                <div className="field">
                  <label htmlFor={`${id}-model-${row.rowId}`}>
                    Model <span className="visually-hidden">{rowNumber}</span>
                  </label>
                  <input
                    {...described(modelField, `${id}-model-${row.rowId}`, false)}
                    type="text"
                    autoComplete="off"
                    spellCheck={false}
                    value={row.model}
                    onChange={(event) => updateModelRow(row.rowId, { model: event.target.value })}
                  />
                  <FieldError id={`${id}-model-${row.rowId}-error`} problem={byField[modelField]} />
                </div>
                <div className="field">
                  <label htmlFor={`${id}-model-price-${row.rowId}`}>
                    Price per 1,000 tokens <span className="visually-hidden">of model {rowNumber}</span>
                  </label>
                  <input
                    {...described(priceField, `${id}-model-price-${row.rowId}`, false)}
                    type="text"
                    inputMode="decimal"
                    autoComplete="off"
                    value={row.pricePer1kTokens}
                    onChange={(event) => updateModelRow(row.rowId, { pricePer1kTokens: event.target.value })}
                  />
                  <FieldError id={`${id}-model-price-${row.rowId}-error`} problem={byField[priceField]} />
                </div>
                <button type="button" className="secondary compact" onClick={() => removeModelRow(row.rowId)}>
                  Remove <span className="visually-hidden">model {rowNumber}</span>
                </button>
              </li>
            );
          })}
        </ul>
        <button type="button" className="secondary compact add-model-price" onClick={addModelRow}>
          Add a model price
        </button>
        <FieldError id={`${id}-models-error`} problem={byField[SETTINGS_FIELDS.modelPrices]} />
      </fieldset>
      <FormProblem id={`${id}-problem`} problem={problem} />
      <div className="form-actions wide">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save settings'}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
        <p role="status" className="form-success">
          {outcome}
        </p>
      </div>
    </form>
  );
}
