import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsIn, IsInt, IsNumber, IsObject, IsString, Matches, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import { ID_PATTERNS } from '@airlock/protocol';
import { HasDistinct } from '../../common/request-validation';

/** The currencies a tenant may count in: ISO 4217 codes as the runtime's ICU knows them. */
export const CURRENCY_CODES: readonly string[] = Intl.supportedValuesOf('currency');

export const MAX_PRICE_PER_1K_TOKENS = 1_000;
export const MAX_MODEL_PRICES = 100;
export const MAX_MONTHLY_BUDGET = 1_000_000_000_000;
export const MAX_HOURS_SAVED_PER_CHANGE = 100;
export const MAX_MINIMUM_GROUP_SIZE = 1_000;

const PRICE_EXPECTATION = { message: `expected a number from 0 to ${MAX_PRICE_PER_1K_TOKENS} with at most 6 decimals` };
const HOURS_EXPECTATION = { message: `expected a number of hours from 0 to ${MAX_HOURS_SAVED_PER_CHANGE} with at most 2 decimals` };
const BUDGET_EXPECTATION = { message: `expected null or an amount from 0 to ${MAX_MONTHLY_BUDGET} with at most 2 decimals` };
const GROUP_EXPECTATION = { message: `expected an integer from 1 to ${MAX_MINIMUM_GROUP_SIZE}` };
const MODEL_EXPECTATION = { message: `expected a model name matching ${ID_PATTERNS.modelName.source}` };
const finite = (maxDecimalPlaces: number) => ({ allowNaN: false, allowInfinity: false, maxDecimalPlaces });

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts).
export class ModelPriceDto {
  @ApiProperty({ pattern: ID_PATTERNS.modelName.source, example: 'Qwen/Qwen2.5-Coder-32B-Instruct', description: 'The model name as workers report it' })
  @Matches(ID_PATTERNS.modelName, MODEL_EXPECTATION)
  @IsString(MODEL_EXPECTATION)
  @IsDefined({ message: 'expected a string (required)' })
  model!: string;

  @ApiProperty({ minimum: 0, maximum: MAX_PRICE_PER_1K_TOKENS, example: 0.0004, description: 'Price of 1,000 tokens (prompt and completion) of this model' })
  @Max(MAX_PRICE_PER_1K_TOKENS, PRICE_EXPECTATION)
  @Min(0, PRICE_EXPECTATION)
  @IsNumber(finite(6), PRICE_EXPECTATION)
  @IsDefined({ message: 'expected a number (required)' })
  pricePer1kTokens!: number;
}

export class HoursSavedDto {
  @ApiProperty({ minimum: 0, maximum: MAX_HOURS_SAVED_PER_CHANGE, example: 2.5, description: 'Engineering hours one delivered fix saves' })
  @Max(MAX_HOURS_SAVED_PER_CHANGE, HOURS_EXPECTATION)
  @Min(0, HOURS_EXPECTATION)
  @IsNumber(finite(2), HOURS_EXPECTATION)
  @IsDefined({ message: 'expected a number (required)' })
  fix!: number;

  @ApiProperty({ minimum: 0, maximum: MAX_HOURS_SAVED_PER_CHANGE, example: 0, description: 'A noop job never delivers a change; kept so every job kind has a figure' })
  @Max(MAX_HOURS_SAVED_PER_CHANGE, HOURS_EXPECTATION)
  @Min(0, HOURS_EXPECTATION)
  @IsNumber(finite(2), HOURS_EXPECTATION)
  @IsDefined({ message: 'expected a number (required)' })
  noop!: number;
}

/** Every setting, as PUT replaces them and GET returns them. */
export class AnalyticsSettingsDto {
  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code of the currency prices and the budget are in' })
  @IsIn(CURRENCY_CODES, { message: 'expected an ISO 4217 currency code such as EUR or USD' })
  @IsString({ message: 'expected an ISO 4217 currency code such as EUR or USD' })
  @IsDefined({ message: 'expected a string (required)' })
  currency!: string;

  @ApiProperty({ minimum: 0, maximum: MAX_PRICE_PER_1K_TOKENS, example: 0.0005, description: 'Price of 1,000 tokens (prompt and completion) of any model without a price of its own' })
  @Max(MAX_PRICE_PER_1K_TOKENS, PRICE_EXPECTATION)
  @Min(0, PRICE_EXPECTATION)
  @IsNumber(finite(6), PRICE_EXPECTATION)
  @IsDefined({ message: 'expected a number (required)' })
  pricePer1kTokens!: number;

  @ApiProperty({ type: [ModelPriceDto], maxItems: MAX_MODEL_PRICES, description: 'Prices of particular models, overriding pricePer1kTokens' })
  // No two entries may name the same model: which price would count?
  @HasDistinct('model')
  @ValidateNested()
  @Type(() => ModelPriceDto)
  @ArrayMaxSize(MAX_MODEL_PRICES, { message: `expected at most ${MAX_MODEL_PRICES} model prices` })
  @IsArray({ message: 'expected an array of {model, pricePer1kTokens}' })
  @IsDefined({ message: 'expected an array (required; [] for none)' })
  modelPrices!: ModelPriceDto[];

  @ApiProperty({ type: Number, nullable: true, minimum: 0, maximum: MAX_MONTHLY_BUDGET, example: 2000, description: 'What may be spent on model tokens per calendar month (UTC); null: no budget' })
  @Max(MAX_MONTHLY_BUDGET, BUDGET_EXPECTATION)
  @Min(0, BUDGET_EXPECTATION)
  @IsNumber(finite(2), BUDGET_EXPECTATION)
  @ValidateIf((_settings: unknown, value: unknown) => value !== null)
  @IsDefined({ message: 'expected a number or null (required)' })
  monthlyBudget!: number | null;

  @ApiProperty({ type: HoursSavedDto, description: 'The assumption behind "engineering hours saved", per job kind' })
  @ValidateNested()
  @Type(() => HoursSavedDto)
  @IsObject({ message: 'expected an object {fix, noop}' })
  @IsDefined({ message: 'expected an object {fix, noop} (required)' })
  hoursSavedPerDeliveredChange!: HoursSavedDto;

  @ApiProperty({ minimum: 1, maximum: MAX_MINIMUM_GROUP_SIZE, example: 5, description: 'A breakdown slice (repository, pool, model, rule) with fewer jobs is merged into "(other)"' })
  @Max(MAX_MINIMUM_GROUP_SIZE, GROUP_EXPECTATION)
  @Min(1, GROUP_EXPECTATION)
  @IsInt(GROUP_EXPECTATION)
  @IsDefined({ message: 'expected an integer (required)' })
  minimumGroupSize!: number;
}

export class AnalyticsSettingsResponse extends AnalyticsSettingsDto {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When a manager last changed them; null while they are the defaults' })
  updatedAt!: string | null;
}
