import { type ArgumentMetadata, ParseUUIDPipe, type PipeTransform, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidateBy, ValidateIf, type ValidationOptions, type ValidatorOptions } from 'class-validator';
import { InvalidRequestError } from './invalid-request.error';

const PLAIN_FIELD_NAME = /^[A-Za-z_$][\w$]{0,63}$/;
const MAX_SHOWN_FIELD_NAME_CHARS = 64;

/** A property name as a message may show it: client-chosen names are quoted and cut short. */
function fieldName(property: string): string {
  if (PLAIN_FIELD_NAME.test(property)) return property;
  const shown = property.length > MAX_SHOWN_FIELD_NAME_CHARS ? `${property.slice(0, MAX_SHOWN_FIELD_NAME_CHARS)}…` : property;
  return JSON.stringify(shown);
}

/**
 * Flattens class-validator's error tree into one line per problem, each starting with
 * the field's path: `ticket.title: expected one non-blank line`. Constraint messages of
 * the DTOs are written as the "expected …" part.
 */
export function describeValidationErrors(errors: readonly ValidationError[], parentPath = ''): string[] {
  return errors.flatMap((error) => {
    if (error.property === undefined || error.property === '') return [`${parentPath || 'body'}: expected a JSON object`];
    const path = parentPath ? `${parentPath}.${fieldName(error.property)}` : fieldName(error.property);
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) =>
      constraint === 'whitelistValidation' ? `${path}: unknown property` : `${path}: ${message}`,
    );
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/**
 * Own properties named `prototype` or like members of Object.prototype (`__proto__`,
 * `constructor`, `toString` …), with their paths. The whitelist never sees them: Nest's
 * ValidationPipe deletes `__proto__`, `prototype` and `constructor`, and class-transformer
 * skips names that resolve to functions, so without this check they would be dropped
 * silently instead of refused as unknown.
 */
function prototypeMemberProperties(value: unknown): string[] {
  const found: string[] = [];
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    for (const [key, child] of Object.entries(next.value)) {
      const path = next.path ? `${next.path}.${fieldName(key)}` : fieldName(key);
      if (key in Object.prototype || key === 'prototype') found.push(path);
      else pending.push({ value: child, path });
    }
  }
  return found;
}

/**
 * How request DTOs are validated: unknown properties are refused, and each property
 * reports its first problem only (type before format).
 */
export const REQUEST_VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  stopAtFirstError: true,
} as const satisfies ValidatorOptions;

/**
 * Validation of bodies and queries against their DTO classes (REQUEST_VALIDATOR_OPTIONS);
 * the failure is an InvalidRequestError listing every problem.
 */
class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      ...REQUEST_VALIDATOR_OPTIONS,
      transform: true,
      exceptionFactory: (errors) => new InvalidRequestError(describeValidationErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const unknown = prototypeMemberProperties(value);
    if (unknown.length > 0) throw new InvalidRequestError(unknown.map((path) => `${path}: unknown property`));
    return super.transform(value, metadata);
  }
}

/** The global pipe for bodies, queries and path parameters (see RequestValidationPipe). */
export function requestValidationPipe(): ValidationPipe {
  return new RequestValidationPipe();
}

/** Parses a path parameter that must be a UUID, naming it when it is not. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => new InvalidRequestError([`${name}: expected a UUID`]) });
}

// PostgreSQL's integer: the largest version or revision number a path may name.
const MAX_PATH_INTEGER = 2 ** 31 - 1;

/** Parses a path parameter that must be a whole number from 1, naming it when it is not. */
export function positiveIntParam(name: string): PipeTransform<string, number> {
  return {
    transform(value: string): number {
      const number = /^[1-9]\d{0,9}$/.test(value) ? Number(value) : NaN;
      if (!(number <= MAX_PATH_INTEGER)) throw new InvalidRequestError([`${name}: expected an integer in 1..${MAX_PATH_INTEGER}`]);
      return number;
    },
  };
}

/**
 * Validates the property only when it is present: unlike @IsOptional, an explicit null is
 * checked (and refused by the type check), not taken as "absent".
 */
export function OptionalProperty(): PropertyDecorator {
  return ValidateIf((_object: unknown, value: unknown) => value !== undefined);
}

/** A string without NUL characters: PostgreSQL cannot store them in text. */
export function HasNoNulCharacter(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'hasNoNulCharacter', validator: { validate: (value: unknown) => typeof value === 'string' && !value.includes('\u0000') } },
    { message: 'expected no NUL (\\u0000) characters', ...options },
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string that is well-formed Unicode: a lone UTF-16 surrogate has no UTF-8 encoding. */
export function IsWellFormedUnicode(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isWellFormedUnicode', validator: { validate: (value: unknown) => typeof value === 'string' && !LONE_SURROGATE.test(value) } },
    { message: 'expected well-formed Unicode (no unpaired surrogate such as \\ud800)', ...options },
  );
}

/** A string of at most `max` bytes once encoded as UTF-8. */
export function MaxUtf8Bytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'maxUtf8Bytes', validator: { validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value, 'utf8') <= max } },
    { message: `expected at most ${max} bytes of UTF-8`, ...options },
  );
}

/** An array whose entries each name a different `key` (a model, a pool): "expected each <key> at most once". */
export function HasDistinct(key: string): PropertyDecorator {
  return ValidateBy({
    name: 'hasDistinct',
    validator: {
      validate: (value: unknown) => !Array.isArray(value) || new Set(value.map((entry: unknown) => (entry as Record<string, unknown> | null)?.[key])).size === value.length,
      defaultMessage: () => `expected each ${key} at most once`,
    },
  });
}
