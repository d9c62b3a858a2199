export {
  loadRecordedExchange,
  loadRecordedExchanges,
  LLAMA_SERVER_TRANSCRIPTS,
  RecordedExchangeInvalidError,
  type RecordedExchange,
} from './recorded-exchange';
export { startTranscriptReplay, type TranscriptReplay } from './transcript-replay.server';
