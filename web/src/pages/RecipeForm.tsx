/**
 * The recipe form: fields for a person, turned into the object the API takes and validated as they type by the
 * very zod `Recipe` schema the API and the trainer use (shared/schemas/recipe.ts).
 */
import { useMemo, useState } from 'react';
import { Recipe } from '../../../shared/schemas/recipe.js';

/** The form's fields, as typed. */
export interface RecipeFields {
  kind: 'tabular-classifier' | 'tabular-regressor' | 'text-classifier';
  label: string;
  features: string;
  textColumn: string;
  epochs: string;
  batchSize: string;
  lr: string;
  hiddenSizes: string;
  seed: string;
  validationFraction: string;
  embeddingDim: string;
  vocabSize: string;
  maxTokens: string;
  convChannels: string;
  kernelSize: string;
  dp: boolean;
  noiseMultiplier: string;
  maxGradNorm: string;
  delta: string;
}

export const DEFAULT_RECIPE: RecipeFields = {
  kind: 'tabular-classifier',
  label: 'label',
  features: 'age:numeric\nzip:categorical',
  textColumn: 'text',
  epochs: '3',
  batchSize: '64',
  lr: '0.01',
  hiddenSizes: '32',
  seed: '1',
  validationFraction: '0.2',
  embeddingDim: '8',
  vocabSize: '5000',
  maxTokens: '128',
  convChannels: '64',
  kernelSize: '3',
  dp: false,
  noiseMultiplier: '1.0',
  maxGradNorm: '1.0',
  delta: '0.00001',
};

const num = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));

/** The object the fields describe (not validated yet). */
export function recipeObject(f: RecipeFields): unknown {
  const common = {
    kind: f.kind,
    label: f.label.trim(),
    epochs: num(f.epochs),
    batchSize: num(f.batchSize),
    lr: num(f.lr),
    hiddenSizes: f.hiddenSizes.split(',').map((s) => s.trim()).filter(Boolean).map(Number),
    seed: num(f.seed),
    validationFraction: num(f.validationFraction),
    ...(f.dp ? { dp: { enabled: true, noiseMultiplier: num(f.noiseMultiplier), maxGradNorm: num(f.maxGradNorm), delta: num(f.delta), sampling: 'poisson' } } : {}),
  };
  if (f.kind === 'text-classifier') {
    return { ...common, textColumn: f.textColumn.trim(), vocabSize: num(f.vocabSize), maxTokens: num(f.maxTokens), embeddingDim: num(f.embeddingDim), convChannels: num(f.convChannels), kernelSize: num(f.kernelSize) };
  }
  const features = f.features
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name, type] = l.split(':').map((s) => s.trim());
      return { name, type: type || 'numeric' };
    });
  return { ...common, features, embeddingDim: num(f.embeddingDim) };
}

/** Validates the fields with the API's schema: the recipe, or the issues by field. */
export function validateRecipe(f: RecipeFields): { ok: true; recipe: Recipe } | { ok: false; issues: { path: string; message: string }[] } {
  const r = Recipe.safeParse(recipeObject(f));
  if (r.success) return { ok: true, recipe: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.join('.') || 'recipe', message: i.message })) };
}

function Field({ id, label, value, onChange, issues, hint, multiline }: { id: keyof RecipeFields; label: string; value: string; onChange(v: string): void; issues: { path: string; message: string }[]; hint?: string; multiline?: boolean }) {
  const mine = issues.filter((i) => i.path === id || i.path.startsWith(`${id}.`) || (id === 'noiseMultiplier' && i.path === 'dp.noiseMultiplier') || (id === 'maxGradNorm' && i.path === 'dp.maxGradNorm') || (id === 'delta' && i.path === 'dp.delta'));
  const errId = `recipe-${id}-error`;
  const props = { id: `recipe-${id}`, name: id, value, 'aria-invalid': mine.length > 0, 'aria-describedby': mine.length ? errId : undefined, onChange: (e: { target: { value: string } }) => onChange(e.target.value) };
  return (
    <label htmlFor={`recipe-${id}`}>
      {label}
      {multiline ? <textarea rows={4} {...props} /> : <input {...props} />}
      {hint ? <small>{hint}</small> : null}
      {mine.length ? (
        <small id={errId} className="field-error" role="alert">
          {mine.map((i) => i.message).join('; ')}
        </small>
      ) : null}
    </label>
  );
}

/** The recipe fields; `onChange` receives the validated recipe or undefined while invalid. */
export function RecipeForm({ onChange }: { onChange(recipe: Recipe | undefined): void }) {
  const [f, setF] = useState<RecipeFields>(DEFAULT_RECIPE);
  const result = useMemo(() => validateRecipe(f), [f]);
  const issues = result.ok ? [] : result.issues;
  const set = (k: keyof RecipeFields) => (v: string) => {
    const next = { ...f, [k]: v };
    setF(next);
    const r = validateRecipe(next);
    onChange(r.ok ? r.recipe : undefined);
  };
  const tabular = f.kind !== 'text-classifier';
  const shownElsewhere = new Set(['kind', 'label', 'features', 'textColumn', 'epochs', 'batchSize', 'lr', 'hiddenSizes', 'seed', 'validationFraction', 'embeddingDim', 'vocabSize', 'maxTokens', 'convChannels', 'kernelSize', 'dp.noiseMultiplier', 'dp.maxGradNorm', 'dp.delta']);
  const other = issues.filter((i) => !shownElsewhere.has(i.path.split('.').slice(0, i.path.startsWith('dp.') ? 2 : 1).join('.')));
  return (
    <fieldset className="recipe">
      <legend>Recipe</legend>
      <label htmlFor="recipe-kind">
        Model
        <select id="recipe-kind" value={f.kind} onChange={(e) => set('kind')(e.target.value)}>
          <option value="tabular-classifier">Tabular classifier (MLP)</option>
          <option value="tabular-regressor">Tabular regressor (MLP)</option>
          <option value="text-classifier">Text classifier (1-D CNN)</option>
        </select>
      </label>
      <Field id="label" label="Label column" value={f.label} onChange={set('label')} issues={issues} />
      {tabular ? (
        <Field id="features" label="Feature columns" value={f.features} onChange={set('features')} issues={issues} hint="one per line: name:numeric or name:categorical" multiline />
      ) : (
        <Field id="textColumn" label="Text column" value={f.textColumn} onChange={set('textColumn')} issues={issues} />
      )}
      <div className="row">
        <Field id="epochs" label="Epochs" value={f.epochs} onChange={set('epochs')} issues={issues} />
        <Field id="batchSize" label="Batch size" value={f.batchSize} onChange={set('batchSize')} issues={issues} />
        <Field id="lr" label="Learning rate" value={f.lr} onChange={set('lr')} issues={issues} />
        <Field id="hiddenSizes" label="Hidden sizes" value={f.hiddenSizes} onChange={set('hiddenSizes')} issues={issues} hint="comma-separated" />
        <Field id="seed" label="Seed" value={f.seed} onChange={set('seed')} issues={issues} />
        <Field id="validationFraction" label="Validation fraction" value={f.validationFraction} onChange={set('validationFraction')} issues={issues} />
        <Field id="embeddingDim" label="Embedding size" value={f.embeddingDim} onChange={set('embeddingDim')} issues={issues} />
        {tabular ? null : (
          <>
            <Field id="vocabSize" label="Vocabulary" value={f.vocabSize} onChange={set('vocabSize')} issues={issues} />
            <Field id="maxTokens" label="Max tokens" value={f.maxTokens} onChange={set('maxTokens')} issues={issues} />
            <Field id="convChannels" label="Conv channels" value={f.convChannels} onChange={set('convChannels')} issues={issues} />
            <Field id="kernelSize" label="Kernel size" value={f.kernelSize} onChange={set('kernelSize')} issues={issues} />
          </>
        )}
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={f.dp}
          onChange={(e) => {
            const next = { ...f, dp: e.target.checked };
            setF(next);
            const r = validateRecipe(next);
            onChange(r.ok ? r.recipe : undefined);
          }}
        />{' '}
        Differential privacy (DP-SGD)
      </label>
      {f.dp ? (
        <div className="row">
          <Field id="noiseMultiplier" label="Noise multiplier" value={f.noiseMultiplier} onChange={set('noiseMultiplier')} issues={issues} />
          <Field id="maxGradNorm" label="Max grad norm" value={f.maxGradNorm} onChange={set('maxGradNorm')} issues={issues} />
          <Field id="delta" label="Delta" value={f.delta} onChange={set('delta')} issues={issues} />
        </div>
      ) : null}
      {other.length ? (
        <ul className="field-error" role="alert">
          {other.map((i) => (
            <li key={i.path + i.message}>
              {i.path}: {i.message}
            </li>
          ))}
        </ul>
      ) : null}
      <p className={result.ok ? 'ok' : 'muted'} data-testid="recipe-status" aria-live="polite">
        {result.ok ? 'The recipe is valid.' : `${issues.length} problem(s) to fix before submitting.`}
      </p>
    </fieldset>
  );
}
