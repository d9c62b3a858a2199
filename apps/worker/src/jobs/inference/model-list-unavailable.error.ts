/** Why an endpoint's model list could not be read (see listServedModels): its message says what the server did. */
export class ModelListUnavailableError extends Error {
  override readonly name = 'ModelListUnavailableError';
}
